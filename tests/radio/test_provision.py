"""Provisioning through the real meshtastic library against emulated radios."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.provision.apply import current_settings, diff, open_radio, radio_summary, warnings
from relay.provision.profiles import (
    ProfileError,
    desired_settings,
    load_profile,
    load_region,
    profile_names,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "profile",
    ["rooftop-relay", "portable-relay", "journalist-handheld", "resident-receiver", "gateway"],
)
def test_each_profile_provisions_exactly_and_idempotently(
    radios: Callable[..., Any], profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    emu = radios(0x2001, transport="tcp", state_kw={"role": "ROUTER", "region": "UNSET"})
    desired = desired_settings(load_profile(profile), load_region("KZ_863"))
    assert (
        main(
            [
                "radio",
                "provision",
                "--profile",
                profile,
                "--region",
                "KZ_863",
                "--radio",
                emu.address,
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "read back" in out and "device.role: ROUTER ->" in out
    with open_radio(emu.address) as iface:
        assert diff(desired, current_settings(iface, desired)) == []
        summary = radio_summary(iface)
    assert summary["region"] == "KZ_863" and summary["tx_power"] == 14
    assert summary["rebroadcast_mode"] != "CORE_PORTNUMS_ONLY"
    edits = emu.radio.admin.edits
    assert (
        main(
            [
                "radio",
                "provision",
                "--profile",
                profile,
                "--region",
                "KZ_863",
                "--radio",
                emu.address,
            ]
        )
        == 0
    )
    assert "nothing to change" in capsys.readouterr().out
    assert emu.radio.admin.edits == edits  # the second run wrote nothing


def test_dry_run_writes_nothing(
    radios: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    emu = radios(0x2002, transport="tcp")
    assert (
        main(
            [
                "radio",
                "provision",
                "--profile",
                "rooftop-relay",
                "--region",
                "EU_868",
                "--dry-run",
                "--radio",
                emu.address,
            ]
        )
        == 0
    )
    assert "would change" in capsys.readouterr().out and emu.radio.admin.edits == 0


BAD = {
    "unknown key": ("config:\n  device:\n    rol: CLIENT\n", "device.rol: unknown key"),
    "out of range": (
        "config:\n  lora:\n    hop_limit: 9\n",
        "lora.hop_limit: 9 is out of range; allowed: 0..7",
    ),
    "router trap": (
        "config:\n  device:\n    role: ROUTER\n",
        "device.role: ROUTER makes the firmware switch",
    ),
    "bad enum": ("config:\n  device:\n    role: BOSS\n", "'BOSS' is not allowed; allowed: CLIENT"),
    "mute relay": (
        "relays: true\nconfig:\n  device:\n    role: CLIENT\n    rebroadcast_mode: CORE_PORTNUMS_ONLY\n",
        "rebroadcast_mode: CORE_PORTNUMS_ONLY drops",
    ),
    "too much power": (
        "config:\n  lora:\n    tx_power: 27\n",
        "exceeds KZ_863's legal 14.0 dBm EIRP",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_profiles_fail_before_any_write(
    case: str, tmp_path: Path, radios: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    text, message = BAD[case]
    path = tmp_path / f"{case.replace(' ', '-')}.yaml"
    path.write_text(text)
    emu = radios(0x2003, transport="tcp")
    code = main(
        ["radio", "provision", "--profile", str(path), "--region", "KZ_863", "--radio", emu.address]
    )
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and message in err, err
    assert emu.radio.admin.edits == 0 and not emu.radio.from_phone


def test_shipped_profiles_are_valid_for_every_region() -> None:
    from relay.provision.profiles import region_names

    for name in profile_names():
        for region in region_names():
            settings = desired_settings(load_profile(name), load_region(region))
            assert settings["config"]["lora"]["region"] == region


def test_info_warns_about_router_trap_and_power(radios: Callable[..., Any]) -> None:
    emu = radios(0x2004, transport="tcp", state_kw={"role": "ROUTER", "region": "KZ_863"})
    with open_radio(emu.address) as iface:
        notes = warnings(radio_summary(iface))
    assert any("ROUTER trap" in n for n in notes) and any("legal" in n for n in notes)


def test_channel_url_accepted_by_the_official_cli(
    radios: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    emu = radios(0x2005, transport="tcp")
    assert main(["channel", "new", "Jarshy"]) == 0
    url = capsys.readouterr().out.strip().splitlines()[0]
    port = emu.address.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "meshtastic", "--host", f"127.0.0.1:{port}", "--seturl", url],
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    primary = emu.radio.state.channels[0]
    assert primary.settings.name == "Jarshy" and len(primary.settings.psk) == 32


def test_profile_error_is_a_user_error() -> None:
    with pytest.raises(ProfileError):
        load_profile("no-such-profile")
