"""`jarshy radio provision|info` against emulated radios over a pty, through the real meshtastic
library: the channel plan, the wait for the reboot, the firmware refusals."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.provision.apply import diff, open_radio, read_settings, resolve_channels
from relay.provision.channel import make_url
from relay.provision.profiles import desired_settings, load_profile, load_region

KEY = bytes(range(32))
URL = make_url("Jarshy", KEY, region="KZ_863", tx_power=14, add=True)
PUBLIC = (b"\x01", "")  # the default channel: default key, no name (named after the preset)


def provision(address: str, profile: str, *extra: str) -> int:
    return main(["radio", "provision", "--profile", profile, "--radio", address, *extra])


def channel(r: Any, index: int) -> tuple[str, bytes, int]:
    ch = r.state.channels[index]
    return ch.settings.name, bytes(ch.settings.psk), ch.role


@pytest.mark.parametrize(
    "profile",
    ["rooftop-relay", "portable-relay", "journalist-handheld", "resident-receiver", "gateway"],
)
def test_provisioning_keeps_the_public_primary_adds_jarshy_and_reads_back_after_the_reboot(
    radio: Callable[..., Any], profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="UNSET")  # a radio in the trap, as many are shipped
    r.after_commit("rebooted")
    code = provision(r.address, profile, "--region", "KZ_863", "--channel-url", URL)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "config.device.role: ROUTER ->" in out and "channel.1.role: DISABLED -> SECONDARY" in out
    assert "the radio restarted" in out and "read back" in out and r.restarts == 1
    assert "Jarshy channel: index 1 (secondary, public primary kept)" in out
    assert "866.875 MHz (slot 16 of 20), the public default slot" in out
    primary = r.state.channels[0]
    assert (bytes(primary.settings.psk), primary.settings.name) == PUBLIC and primary.role == 1
    assert channel(r, 1) == ("Jarshy", KEY, 2)  # SECONDARY
    assert r.state.config.lora.channel_num == 0 and r.state.config.lora.tx_power == 14
    assert r.state.config.device.rebroadcast_mode == 0  # ALL: no ROUTER trap
    desired = desired_settings(load_profile(profile), load_region("KZ_863"))
    with open_radio(r.address) as iface:
        resolve_channels(desired, None, iface, isolated=False)
        assert diff(desired, read_settings(iface, desired)) == []
    writes = r.admin.writes
    assert provision(r.address, profile, "--region", "KZ_863") == 0  # the key stays
    assert "nothing to change" in capsys.readouterr().out
    assert r.admin.writes == writes and r.admin.commits == 1


def test_the_secondary_plan_keeps_the_users_own_channels(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="US", channel_name="Family", psk=bytes(16))
    r.after_commit("rebooted")
    assert provision(r.address, "gateway", "--region", "US", "--channel-url", URL) == 0
    out = capsys.readouterr().out
    assert channel(r, 0) == ("Family", bytes(16), 1) and channel(r, 1) == ("Jarshy", KEY, 2)
    # The user's own primary picks the slot: Jarshy follows it, and says it is off the public one.
    assert "off the public default 906.875 MHz" in out


def test_isolated_makes_jarshy_primary_pins_the_slot_and_back(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863", firmware_version="2.7.26.54e0d8d")
    r.after_commit("rebooted")
    args = ("--region", "KZ_863", "--channel-url", URL)
    assert provision(r.address, "portable-relay", *args, "--isolated") == 0
    out = capsys.readouterr().out
    assert channel(r, 0) == ("Jarshy", KEY, 1) and r.state.config.lora.channel_num == 7
    assert "Jarshy channel: index 0 (primary: an isolated mesh)" in out
    assert "864.625 MHz (slot 7 of 20, pinned), off the public default 866.875 MHz" in out
    assert main(["radio", "info", "--radio", r.address]) == 1
    assert (
        "is not KZ_863's public default 866.875 MHz (slot 16, LongFast)" in capsys.readouterr().out
    )
    assert provision(r.address, "portable-relay", *args) == 0  # back to the public mesh
    assert "channel.0.name: Jarshy -> " in capsys.readouterr().out
    assert channel(r, 0) == ("", b"\x01", 1) and channel(r, 1) == ("Jarshy", KEY, 2)
    assert r.state.config.lora.channel_num == 0 and r.restarts == 2


def test_a_native_usb_radio_that_re_enumerates_is_read_back_on_its_new_port(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="UNSET")
    r.after_commit("reenumerate")
    assert provision(r.address, "rooftop-relay", "--region", "KZ_433", "--channel-url", URL) == 0
    out = capsys.readouterr().out
    assert "the radio restarted" in out and "provisioned rooftop-relay in KZ_433" in out
    assert r.restarts == 1 and r.replugs == 1  # the port went away and a new one came


def test_a_tcp_radio_whose_connection_drops_at_the_reboot_is_read_back(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(transport="tcp", region="US")
    r.after_commit("rebooted")  # the emulator closes a TCP client's connection when it reboots
    assert provision(r.address, "gateway", "--region", "US", "--channel-url", URL) == 0
    out = capsys.readouterr().out
    assert "the radio restarted" in out and r.restarts == 1
    assert channel(r, 1) == ("Jarshy", KEY, 2)


def test_the_emulators_own_reboot_after_a_commit_is_waited_for(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="KZ_863")
    r.admin.on_commit = None  # the emulator reboots by itself, 7 s after the commit
    assert (
        provision(r.address, "resident-receiver", "--region", "KZ_863", "--channel-url", URL) == 0
    )
    out = capsys.readouterr().out
    assert "the radio restarted, reboot count" in out and r.radio.reboots == 1


def test_a_radio_that_does_not_reboot_is_read_back_after_the_wait(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio()
    args = ("--region", "EU_868", "--channel-url", URL, "--reboot-wait", "0.2")
    assert provision(r.address, "gateway", *args) == 0
    out = capsys.readouterr().out
    assert "did not restart within 0.2 s" in out and "read back" in out
    assert channel(r, 1) == ("Jarshy", KEY, 2)


@pytest.mark.parametrize(
    ("firmware", "region", "message"),
    [
        ("2.7.15.567b8ea", "KZ_863", "before 2.7.18 the firmware used the 2.4 GHz bandwidths"),
        ("2.6.11.60ec05e", "KZ_433", "does not know region KZ_433 (added in 2.7.1)"),
        ("2.7.3.cf574c7", "BR_902", "does not know region BR_902 (added in 2.7.4)"),
    ],
)
def test_a_region_the_firmware_gets_wrong_or_does_not_know_is_refused(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str],
    firmware: str, region: str, message: str,
) -> None:  # fmt: skip
    r = radio(firmware_version=firmware)
    assert provision(r.address, "gateway", "--region", region, "--channel-url", URL) == 2
    err = capsys.readouterr().err
    assert f"refusing {region}: the radio runs firmware" in err and message in err, err
    assert "Update the firmware" in err and "nothing was written" in err
    assert r.admin.writes == 0


def test_dry_run_shows_the_plan_and_writes_nothing(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(tx_power=20)
    code = provision(r.address, "rooftop-relay", "--region", "EU_868", "--dry-run", "--channel-url", URL)  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "dry run: nothing written" in out
    assert "channel.1.psk: no encryption -> sha256:" in out and "tx_power: 20 -> 27" in out
    assert "channel.0" not in out  # the public primary is not touched
    assert r.admin.writes == 0


def test_antenna_gain_lowers_tx_power(radio: Callable[..., Any]) -> None:
    r = radio()
    args = ("--region", "KZ_863", "--antenna-gain-dbi", "5", "--channel-url", URL)
    assert provision(r.address, "portable-relay", *args, "--reboot-wait", "0") == 0
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
        (LOUD.replace("hop_limit: 3", "hop_limit: 3, channel_num: 5"), "config.lora.channel_num: is set by the channel plan"),
        (LOUD, "config.lora.tx_power: 20 dBm with a 0 dBi antenna (20 dBm EIRP) is above KZ_863's limit"),
    ],
)  # fmt: skip
def test_invalid_profiles_fail_before_anything_is_written(
    radio: Callable[..., Any], tmp_path: Path, text: str, message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    r = radio(transport="tcp")  # a TCP radio shows whether anyone connected
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    code = provision(r.address, str(path), "--region", "KZ_863", "--channel-url", URL)
    err = capsys.readouterr().err
    assert code == 2 and f"{path}: " in err and message in err and "allowed: " in err, err
    assert r.radio.sessions() == [] and r.admin.writes == 0  # never even connected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (None, "the radio has no channel 'Jarshy' yet: pass --channel-url"),
        (make_url("News", KEY, region="US", add=True), "holds no channel named 'Jarshy' (it has: 'News')"),
    ],
)  # fmt: skip
def test_the_jarshy_channel_and_its_key_must_come_from_somewhere(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str], url: str | None, message: str
) -> None:
    r = radio()
    extra = ("--channel-url", url) if url else ()
    assert provision(r.address, "gateway", "--region", "US", *extra) == 2
    assert message in capsys.readouterr().err and r.admin.writes == 0


def test_bad_address_is_refused_before_the_library_sees_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert provision("bogus", "gateway", "--region", "US") == 2
    assert "must look like serial:/dev/ttyUSB0" in capsys.readouterr().err


def test_info_warns_about_the_trap_power_old_firmware_hop_limit_and_the_missing_channel(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(role="ROUTER", region="KZ_863", hop_limit=0, firmware_version="2.7.15.567b8ea")
    assert main(["radio", "info", "--radio", r.address]) == 1
    out = capsys.readouterr().out
    assert "ROUTER trap: role ROUTER with rebroadcast_mode CORE_PORTNUMS_ONLY" in out
    assert "tx_power 30 dBm is above KZ_863's legal limit (14 dBm EIRP" in out
    assert "before 2.7.18 the firmware used the 2.4 GHz bandwidths" in out
    # 2.7.15 counts KZ_863 in 812.5 kHz slots: the radio is not where 2.7.18+ radios are.
    assert "867.469 MHz (slot 6 of 6)" in out
    assert "hop_limit 0" in out and "no channel named 'Jarshy'" in out
    mute = radio(0x4A000002, role="CLIENT_MUTE")
    assert main(["radio", "info", "--radio", mute.address, "--profile", "rooftop-relay"]) == 1
    assert (
        "CLIENT_MUTE never relays, but rooftop-relay is a relay profile" in capsys.readouterr().out
    )


def test_info_on_a_provisioned_radio_is_clean_and_shows_the_public_frequency(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(firmware_version="2.7.26.54e0d8d")
    r.after_commit("rebooted")
    assert provision(r.address, "rooftop-relay", "--region", "KZ_863", "--channel-url", URL) == 0
    capsys.readouterr()
    assert main(["radio", "info", "--radio", r.address]) == 0
    out = capsys.readouterr().out
    assert "866.875 MHz (slot 16 of 20)" in out and "no warnings" in out
    assert main(["radio", "info", "--radio", r.address, "--json"]) == 0
    out = capsys.readouterr().out
    assert '"role": "ROUTER_LATE"' in out and '"warnings": []' in out
    assert '"frequency_mhz": 866.875' in out and '"jarshy_channel": 1' in out
    assert base64.b64encode(KEY).decode() not in out  # keys are shown as fingerprints only


def test_info_warns_when_a_jarshy_primary_moved_the_radio_off_the_public_slot(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="US", channel_name="Jarshy", psk=KEY)  # provisioned the old way
    assert main(["radio", "info", "--radio", r.address]) == 1
    out = capsys.readouterr().out
    assert "909.625 MHz (slot 31 of 104)" in out
    assert "is not US's public default 906.875 MHz (slot 20, LongFast)" in out
    assert "the primary channel 'Jarshy' picks it by its name's hash" in out


def test_info_warns_about_a_preset_stock_radios_cannot_decode(
    radio: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    r = radio(region="US", preset="MEDIUM_FAST")
    assert main(["radio", "info", "--radio", r.address]) == 1
    out = capsys.readouterr().out
    assert "preset MEDIUM_FAST: stock radios on the default LONG_FAST cannot decode" in out
    assert "the unnamed primary channel takes MEDIUM_FAST's slot" in out


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
