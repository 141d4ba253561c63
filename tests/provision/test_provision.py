"""`jarshy radio provision|info` against emulated radios through the real meshtastic library."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.provision.apply import diff, open_radio, read_settings
from relay.provision.channel import make_url
from relay.provision.profiles import desired_settings, load_profile, load_region

KEY = bytes(range(32))
URL = make_url("Jarshy", KEY)


def provision(address: str, profile: str, *extra: str) -> int:
    return main(["radio", "provision", "--profile", profile, "--radio", address, *extra])


@pytest.mark.parametrize(
    "profile",
    ["rooftop-relay", "portable-relay", "journalist-handheld", "resident-receiver", "gateway"],
)
def test_provisioning_yields_exactly_the_profile_and_a_second_run_changes_nothing(
    radio: Callable[..., Any], profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="UNSET")  # a radio in the trap, as many are shipped
    code = provision(r.address, profile, "--region", "KZ_863", "--channel-url", URL)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "config.device.role: ROUTER ->" in out and "read back" in out
    desired = desired_settings(load_profile(profile), load_region("KZ_863"))
    desired["channel"]["psk"] = KEY
    with open_radio(r.address) as iface:
        assert diff(desired, read_settings(iface, desired)) == []
    device, lora = r.state.config.device, r.state.config.lora
    assert lora.tx_power == 14 and r.state.enum_name("lora", "region") == "KZ_863"
    assert device.rebroadcast_mode == 0  # ALL: no ROUTER trap
    assert r.state.channels[0].settings.psk == KEY and r.admin.commits == 1
    writes = r.admin.writes
    assert provision(r.address, profile, "--region", "KZ_863") == 0  # the key stays
    assert "nothing to change" in capsys.readouterr().out
    assert r.admin.writes == writes and r.admin.commits == 1


def test_dry_run_shows_the_diff_and_writes_nothing(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio()
    code = provision(r.address, "rooftop-relay", "--region", "EU_868", "--dry-run", "--channel-url", URL)  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "dry run: nothing written" in out
    assert "channel.psk: default key -> sha256:" in out and "tx_power: 0 -> 27" in out
    assert r.admin.writes == 0


def test_antenna_gain_lowers_tx_power(radio: Callable[..., Any]) -> None:
    r = radio()
    args = ("--region", "KZ_863", "--antenna-gain-dbi", "5", "--channel-url", URL)
    assert provision(r.address, "portable-relay", *args) == 0
    assert r.state.config.lora.tx_power == 9


LOUD = """config:
  device: {role: CLIENT, rebroadcast_mode: ALL}
  lora: {modem_preset: LONG_FAST, hop_limit: 3, tx_power: 20}
channel: {name: Jarshy}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (LOUD.replace("rebroadcast_mode", "rebroadcast"), "config.device.rebroadcast: unknown key; allowed:"),
        (LOUD.replace("hop_limit: 3", "hop_limit: 0"), "config.lora.hop_limit: 0 is out of range; allowed: 1..7"),
        (LOUD.replace("role: CLIENT", "role: ROUTER"), "config.device.role: ROUTER is the ROUTER trap"),
        (LOUD, "config.lora.tx_power: 20 dBm with a 0 dBi antenna (20 dBm EIRP) is above KZ_863's limit"),
    ],
)  # fmt: skip
def test_invalid_profiles_fail_before_anything_is_written(
    radio: Callable[..., Any], tmp_path: Path, text: str, message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    r = radio()
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    code = provision(r.address, str(path), "--region", "KZ_863", "--channel-url", URL)
    err = capsys.readouterr().err
    assert code == 2 and f"{path}: " in err and message in err and "allowed: " in err, err
    assert r.radio.sessions() == [] and r.admin.writes == 0  # never even connected


def test_a_radio_not_on_the_channel_needs_a_url(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio()
    assert provision(r.address, "gateway", "--region", "US") == 2
    assert "pass --channel-url" in capsys.readouterr().err and r.admin.writes == 0


def test_bad_address_is_refused_before_the_library_sees_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert provision("bogus", "gateway", "--region", "US") == 2
    assert "must look like serial:/dev/ttyUSB0" in capsys.readouterr().err


def test_info_warns_about_the_trap_power_old_firmware_and_hop_limit(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="KZ_863", hop_limit=0, firmware_version="2.7.15.567b8ea")
    assert main(["radio", "info", "--radio", r.address]) == 1
    out = capsys.readouterr().out
    assert "ROUTER trap: role ROUTER with rebroadcast_mode CORE_PORTNUMS_ONLY" in out
    assert "tx_power 30 dBm is above KZ_863's legal limit (14 dBm EIRP" in out
    assert "KZ_863 needs firmware 2.7.18 or later" in out
    assert "hop_limit 0" in out and "default key" in out
    mute = radio(0x4A000002, role="CLIENT_MUTE")
    assert main(["radio", "info", "--radio", mute.address, "--profile", "rooftop-relay"]) == 1
    assert (
        "CLIENT_MUTE never relays, but rooftop-relay is a relay profile" in capsys.readouterr().out
    )


def test_info_on_a_provisioned_radio_is_clean(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(firmware_version="2.7.26.54e0d8d")
    assert provision(r.address, "rooftop-relay", "--region", "KZ_863", "--channel-url", URL) == 0
    capsys.readouterr()
    assert main(["radio", "info", "--radio", r.address, "--json"]) == 0
    out = capsys.readouterr().out
    assert '"role": "ROUTER_LATE"' in out and '"warnings": []' in out
    assert base64.b64encode(KEY).decode() not in out  # keys are shown as fingerprints only


def test_emulator_installs_router_defaults_like_the_firmware(radio: Callable[..., Any]) -> None:
    r = radio()
    with open_radio(r.address) as iface:
        node = iface.localNode
        node.localConfig.device.role = 2  # ROUTER, asking for rebroadcast_mode ALL
        node.beginSettingsTransaction()
        node.writeConfig("device")
        node.commitSettingsTransaction()
        from relay.provision.apply import barrier

        barrier(iface)
    assert r.state.config.device.rebroadcast_mode == 5  # CORE_PORTNUMS_ONLY: the trap
    assert r.admin.commits == 1 and r.admin.saves == 1
