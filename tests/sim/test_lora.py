"""Time on air and preset figures against the Semtech formula and RESEARCH.md."""

from __future__ import annotations

import pytest

from relay.lora import (
    MAX_APP_PAYLOAD,
    PRESETS,
    REGIONS,
    frame_bytes,
    get_preset,
    packet_airtime,
    time_on_air,
)

# LONG_FAST, bytes after the 16-byte header -> milliseconds (RESEARCH.md "Presets and regions").
LONG_FAST_MS = {50: 723, 100: 1133, 150: 1501, 200: 1870, 239: 2157}
FULL_FRAME_MS = {
    "SHORT_FAST": 204,
    "MEDIUM_FAST": 642,
    "MEDIUM_SLOW": 1181,
    "LONG_FAST": 2157,
    "LONG_MODERATE": 7934,
    "LONG_SLOW": 14295,
}


@pytest.mark.parametrize(("after_header", "ms"), sorted(LONG_FAST_MS.items()))
def test_long_fast_time_on_air_matches_research(after_header: int, ms: int) -> None:
    got = time_on_air(16 + after_header, "LONG_FAST") * 1000
    assert got == pytest.approx(ms, rel=0.01)


@pytest.mark.parametrize(("name", "ms"), sorted(FULL_FRAME_MS.items()))
def test_full_frame_per_preset(name: str, ms: int) -> None:
    assert time_on_air(255, name) * 1000 == pytest.approx(ms, rel=0.01)


def test_packet_airtime_adds_header_and_data_encoding() -> None:
    # 231 payload bytes on port 256 fill the 255-byte frame exactly.
    assert frame_bytes(MAX_APP_PAYLOAD) == 255
    assert packet_airtime(MAX_APP_PAYLOAD) == pytest.approx(2.157, rel=0.01)
    # Small payloads: header 16 + portnum 3 + payload tag/len 2 + bitfield 2 (firmware 2.7).
    assert frame_bytes(43, firmware="2.7.26") == 16 + 43 + 7
    assert packet_airtime(43, firmware="2.7.26") == pytest.approx(0.723, rel=0.01)
    with pytest.raises(ValueError):
        packet_airtime(MAX_APP_PAYLOAD + 1)


def test_firmware_2_8_signs_broadcasts_that_still_fit() -> None:
    # Measured on firmware 2.8.0 (issue 10): a 7-byte beacon left as 96 bytes, a 105-byte
    # bulletin as 194; Router.cpp signs when Data + 66 + 16 <= 255 (Data <= 173 bytes).
    assert frame_bytes(7) == 96 and frame_bytes(7, firmware="2.7.26") == 30
    assert frame_bytes(105) == 194 and frame_bytes(105, firmware="2.7.26") == 128
    assert frame_bytes(165) == 255  # the largest signed packet on a private port
    assert frame_bytes(166) == 190  # too big to sign: goes out unsigned, shorter than 165
    assert frame_bytes(231) == 255
    assert frame_bytes(7, broadcast=False) == 30  # unicast is never signed
    assert packet_airtime(7) > 2 * packet_airtime(7, firmware="2.7.26")
    assert packet_airtime(105, firmware="2.8.0.abc") == pytest.approx(1.706, rel=0.01)


def test_not_meshtasticators_overestimate() -> None:
    # Meshtasticator multiplies by cr+4 with cr already 5..8: about 70 % more for a full frame.
    assert time_on_air(255, "LONG_FAST") < 2.2


def test_slot_time_and_low_data_rate_optimisation() -> None:
    assert PRESETS["LONG_FAST"].slot_time == pytest.approx(0.028, abs=0.0005)
    assert not PRESETS["LONG_FAST"].low_data_rate
    assert PRESETS["LONG_MODERATE"].low_data_rate
    assert PRESETS["LONG_SLOW"].low_data_rate


def test_sensitivity_improves_with_slower_presets() -> None:
    order = ["SHORT_TURBO", "SHORT_FAST", "MEDIUM_FAST", "LONG_FAST", "LONG_SLOW"]
    sens = [PRESETS[n].sensitivity_dbm for n in order]
    assert sens == sorted(sens, reverse=True)
    assert PRESETS["LONG_FAST"].sensitivity_dbm == pytest.approx(-131.5, abs=0.5)


def test_preset_names_and_regions() -> None:
    assert get_preset("LongFast") is PRESETS["LONG_FAST"]
    assert get_preset("long_slow") is PRESETS["LONG_SLOW"]
    with pytest.raises(ValueError, match="unknown modem preset"):
        get_preset("VERY_FAST")
    assert REGIONS["EU_868"].duty_cycle == pytest.approx(0.10)
    # RDEF in RadioInterface.cpp: EU_433, EU_868, EU_N_868, TH, UA_433 at 10 %, EU_866 at 2.5 %
    limited = {n: r.duty_cycle for n, r in REGIONS.items() if r.has_duty_cycle}
    assert limited == {
        "EU_433": 0.1,
        "EU_868": 0.1,
        "EU_N_868": 0.1,
        "TH": 0.1,
        "UA_433": 0.1,
        "EU_866": 0.025,
    }
    assert not REGIONS["KZ_433"].has_duty_cycle
    assert not REGIONS["KZ_863"].has_duty_cycle
    assert REGIONS["KZ_863"].power_limit_dbm <= 14
    assert not REGIONS["US"].has_duty_cycle
