"""Profiles and region overlays: the shipped ones are valid, bad ones are refused with the file,
the key and what is allowed (no radio involved)."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay.provision.profiles import (
    desired_settings,
    load_profile,
    load_region,
    overlay_names,
    profile_names,
    region_names,
)
from relay.provision.schema import ProfileError

SHIPPED = ["gateway", "journalist-handheld", "portable-relay", "resident-receiver", "rooftop-relay"]


def test_the_five_roles_ship() -> None:
    assert profile_names() == SHIPPED
    assert {"KZ_433", "KZ_863", "EU_868", "US"} <= set(overlay_names())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_avoid_the_router_trap_and_fit_every_region(name: str) -> None:
    profile = load_profile(name)
    device = profile.config["device"]
    assert device["role"] != "ROUTER" and device["rebroadcast_mode"] == "ALL"
    assert (device["role"] == "CLIENT_MUTE") == (not profile.relays)
    assert profile.config["lora"]["hop_limit"] == 3
    assert profile.channel["name"] == "Jarshy" and profile.channel["position_precision"] == 0
    assert profile.config["position"]["position_broadcast_secs"] >= 6 * 3600
    assert device["node_info_broadcast_secs"] >= 3 * 3600
    for region in region_names():
        lora = desired_settings(profile, load_region(region))["config"]["lora"]
        assert lora["region"] == region and 1 <= lora["tx_power"] <= 36


@pytest.mark.parametrize(
    ("region", "gain", "power"),
    [("KZ_863", 0, 14), ("KZ_863", 3, 11), ("KZ_433", 0, 10), ("EU_868", 0, 27),
     ("EU_868", 5, 24), ("US", 0, 30), ("US", 9, 27), ("RU", 0, 20)],
)  # fmt: skip
def test_tx_power_is_explicit_and_legal(region: str, gain: float, power: int) -> None:
    settings = desired_settings(load_profile("rooftop-relay"), load_region(region), gain)
    assert settings["config"]["lora"]["tx_power"] == power
    assert settings["config"]["lora"]["override_duty_cycle"] is False


def test_generic_overlay_takes_the_firmware_cap() -> None:
    region = load_region("jp")
    assert region.name == "JP" and region.source.name == "default.yaml"
    assert region.max_tx_power(0) == 13 and region.legal_eirp_dbm is None


def test_unknown_region_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="unknown region 'XX'; allowed: US, EU_433"):
        load_region("XX")


GOOD = """config:
  device: {role: CLIENT, rebroadcast_mode: ALL}
  lora: {modem_preset: LONG_FAST, hop_limit: 3}
channel: {name: Jarshy}
"""
BAD = {
    "unknown key": (GOOD.replace("hop_limit: 3", "hop_limt: 3"), "config.lora.hop_limt: unknown key; allowed: bandwidth"),
    "unknown top key": (GOOD + "colour: red\n", "colour: unknown key; allowed: description, relays"),
    "out of range": (GOOD.replace("hop_limit: 3", "hop_limit: 9"), "config.lora.hop_limit: 9 is out of range; allowed: 1..7"),
    "chatty position": (GOOD.replace("channel:", "  position: {position_broadcast_secs: 60}\nchannel:"), "config.position.position_broadcast_secs: 60 is out of range; allowed: 3600.."),
    "bad enum": (GOOD.replace("LONG_FAST", "LONG_FASTER"), "config.lora.modem_preset: 'LONG_FASTER' is not a known value; allowed: LONG_FAST"),
    "router trap": (GOOD.replace("role: CLIENT", "role: ROUTER"), "config.device.role: ROUTER is the ROUTER trap"),
    "core portnums": (GOOD.replace("ALL", "CORE_PORTNUMS_ONLY"), "config.device.rebroadcast_mode: CORE_PORTNUMS_ONLY drops Jarshy's private-port packets"),
    "mute relay": (GOOD.replace("CLIENT", "CLIENT_MUTE"), "config.device.role: CLIENT_MUTE never relays, but this profile says relays: true; allowed: CLIENT, CLIENT_BASE, ROUTER_LATE"),
    "known only": (GOOD.replace("ALL", "KNOWN_ONLY"), "config.device.rebroadcast_mode: KNOWN_ONLY does not relay every Jarshy packet; allowed: ALL, LOCAL_ONLY"),
    "tracker": (GOOD.replace("CLIENT", "TRACKER"), "config.device.role: TRACKER does not serve Jarshy"),
    "missing mode": (GOOD.replace(", rebroadcast_mode: ALL", ""), "config.device.rebroadcast_mode: missing"),
    "region in profile": (GOOD.replace("hop_limit: 3", "hop_limit: 3, region: US"), "config.lora.region: is set by the region overlay"),
    "deprecated": (GOOD.replace("role: CLIENT", "role: CLIENT, serial_enabled: true"), "config.device.serial_enabled: deprecated"),
    "bad key": (GOOD.replace("{name: Jarshy}", "{name: Jarshy, psk: AQ==}"), "channel.psk: not a 16- or 32-byte key"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_profiles_name_file_key_and_what_is_allowed(case: str, tmp_path: Path) -> None:
    text, message = BAD[case]
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_profile(str(path))
    assert str(caught.value).startswith(f"{path}: ") and message in str(caught.value)
    assert "allowed: " in str(caught.value)


def test_power_above_the_legal_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loud.yaml"
    path.write_text(GOOD.replace("hop_limit: 3", "hop_limit: 3, tx_power: 20"))
    profile = load_profile(str(path))
    assert desired_settings(profile, load_region("US"))["config"]["lora"]["tx_power"] == 20
    with pytest.raises(ProfileError) as caught:
        desired_settings(profile, load_region("KZ_863"))
    assert str(caught.value) == (
        f"{path}: config.lora.tx_power: 20 dBm with a 0 dBi antenna (20 dBm EIRP) is above "
        f"KZ_863's limit of 14 dBm EIRP ({load_region('KZ_863').source}); allowed: 1..14 dBm "
        "with this antenna"
    )


def test_an_antenna_too_strong_for_the_region_is_refused() -> None:
    with pytest.raises(ProfileError, match="leaves no transmit power with a 12 dBi antenna"):
        desired_settings(load_profile("gateway"), load_region("KZ_433"), 12)


def test_relay_profiles_say_the_daemon_mirrors_and_a_bad_mirror_value_is_refused(
    tmp_path: Path,
) -> None:
    from relay.provision.profiles import ProfileError, load_profile

    assert load_profile("rooftop-relay").mirror and load_profile("gateway").mirror
    assert not load_profile("resident-receiver").mirror
    bad = tmp_path / "bad.yaml"
    text = (load_profile("gateway").source).read_text(encoding="utf-8")
    bad.write_text(text.replace("mirror: true", "mirror: sometimes"), encoding="utf-8")
    with pytest.raises(ProfileError, match="mirror"):
        load_profile(str(bad))
