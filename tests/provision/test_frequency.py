"""The frequency slot as the firmware computes it (RadioInterface.cpp applyModemConfig), checked
against the figures measured on firmware 2.8 (issue 10), and the firmware refusals."""

from __future__ import annotations

import pytest

from relay.provision.firmware import region_refusal
from relay.provision.frequency import (
    djb2,
    frequency_plan,
    hash_slot,
    isolated_slot,
    slot_count,
)


def test_djb2_is_the_firmwares_hash() -> None:
    assert djb2("") == 5381 and djb2("a") == 5381 * 33 + 97
    assert djb2("LongFast") % 20 == 15 and djb2("Jarshy") % 20 == 6


@pytest.mark.parametrize(
    ("region", "primary", "mhz", "public"),
    [
        ("KZ_863", "Jarshy", 864.625, 866.875),
        ("KZ_863", "", 866.875, 866.875),  # the default channel is named after the preset
        ("KZ_863", "LongFast", 866.875, 866.875),
        ("US", "Jarshy", 909.625, 906.875),
        ("US", "", 906.875, 906.875),
        ("EU_868", "Jarshy", 869.525, 869.525),  # one slot: every name lands on it
    ],
)
def test_the_slot_follows_the_primary_channels_name(
    region: str, primary: str, mhz: float, public: float
) -> None:
    for firmware in ("2.7.26.54e0d8d", "2.8.0.abc"):
        plan = frequency_plan(region, "LONG_FAST", primary, firmware=firmware)
        assert (plan.mhz, plan.public_mhz) == (mhz, public)
        assert plan.on_public_slot == (mhz == public)


def test_channel_num_pins_the_slot_and_override_frequency_wins() -> None:
    plan = frequency_plan("KZ_863", "LONG_FAST", "", channel_num=7)
    assert plan.mhz == 864.625 and plan.slot == 7 and plan.pinned and not plan.on_public_slot
    assert "slot 7 of 20, pinned" in plan.describe()
    assert frequency_plan("US", "LONG_FAST", "", channel_num=105).slot == 1  # 2.7 wraps around
    assert frequency_plan("US", "LONG_FAST", "", override_frequency=915.0).mhz == 915.0


def test_slot_counts_differ_between_2_7_and_2_8_where_the_band_is_not_a_multiple() -> None:
    # 1.7 MHz / 250 kHz = 6.8: floor on 2.7, round on 2.8 (#9878).
    assert slot_count("KZ_433", "LONG_FAST", "2.7.26") == 6
    assert slot_count("KZ_433", "LONG_FAST", "2.8.0") == 7
    assert slot_count("EU_868", "LONG_FAST", "2.7.26") == 1  # C float arithmetic: exactly 1
    assert slot_count("KZ_863", "LONG_MODERATE", "2.7.26") == 40


def test_kz_863_before_2_7_18_used_the_wide_bandwidths() -> None:
    assert slot_count("KZ_863", "LONG_FAST", "2.7.17") == 6  # 5 MHz / 812.5 kHz
    assert slot_count("KZ_863", "LONG_FAST", "2.7.18") == 20
    old = frequency_plan("KZ_863", "LONG_FAST", "", firmware="2.7.15.567b8ea")
    assert old.mhz == 867.46875 and old.public_mhz == 866.875 and not old.on_public_slot


def test_the_isolated_slot_is_the_names_own_but_never_the_public_one() -> None:
    assert isolated_slot("Jarshy", "KZ_863", "LONG_FAST") == hash_slot(
        "Jarshy", "KZ_863", "LONG_FAST"
    )
    public = hash_slot("", "KZ_863", "LONG_FAST")
    clash = next(f"J{i}" for i in range(1000) if djb2(f"J{i}") % 20 + 1 == public)
    assert isolated_slot(clash, "KZ_863", "LONG_FAST") == public % 20 + 1
    assert isolated_slot("Jarshy", "EU_868", "LONG_FAST") == 1  # nowhere else to go


@pytest.mark.parametrize(
    ("region", "firmware", "refused"),
    [
        ("KZ_863", "2.7.17.9058cce", "before 2.7.18"),
        ("KZ_863", "2.7.18.fb3bf78", None),
        ("KZ_863", None, None),  # unknown: nothing to hold against it
        ("KZ_433", "2.7.0.195b7cc", "does not know region KZ_433 (added in 2.7.1)"),
        ("US", "2.3.0.5f47ca1", None),
        ("NP_865", "2.7.3", "added in 2.7.4"),
    ],
)
def test_region_refusals(region: str, firmware: str | None, refused: str | None) -> None:
    reason = region_refusal(region, firmware)
    if refused is None:
        assert reason is None
    else:
        assert reason is not None and refused in reason and "Update the firmware" in reason


def test_agrees_with_the_emulators_slot_rule_on_firmware_2_8() -> None:
    """The emulator and simulator (relay/sim/meshrules.py) model 2.8: the same radios must meet."""
    from relay.lora import PRESETS, REGIONS
    from relay.provision.frequency import REGION_BANDS_MHZ
    from relay.sim import meshrules

    shared = [r for r in REGIONS if r in REGION_BANDS_MHZ and r != "LORA_24"]
    assert {"KZ_433", "KZ_863", "US", "EU_868"} <= set(shared)
    for region in shared:
        for preset in ("LONG_FAST", "MEDIUM_FAST", "LONG_MODERATE"):
            for name in ("", "Jarshy", "Family"):
                theirs = meshrules.frequency_slot(REGIONS[region], PRESETS[preset], name)
                mine = frequency_plan(region, preset, name, firmware="2.8.0")
                assert mine.slot == theirs + 1, (region, preset, name)
                mhz = meshrules.slot_frequency_mhz(REGIONS[region], PRESETS[preset], theirs)
                assert abs(mine.mhz - mhz) < 1e-6
