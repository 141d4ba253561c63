"""LoRa physical-layer arithmetic for Meshtastic radios: presets, time on air, regions.

Pure functions and tables shared by the simulator, the scheduler's airtime budget and the
`jarshy size` command. Figures follow the firmware's preset table (RadioInterface.cpp) and the
Semtech SX126x time-on-air formula (16-symbol preamble, explicit header, CRC on, low-data-rate
optimisation when a symbol lasts 16 ms or more). Packet sizes count what the firmware really sends:
the 16-byte header, the encoded ``Data`` with its bitfield and, from firmware 2.8, the 66-byte
XEdDSA signature field on every broadcast it originates that still fits a frame
(``perhapsEncode``/``signedDataFits`` in src/mesh/Router.cpp, ``XEDDSA_SIGNATURE_FIELD_BYTES`` in
src/mesh/CryptoEngine.h). The coding-rate term is ``4 + cr`` with ``cr`` in
1..4 (4/5..4/8); Meshtasticator multiplies by ``cr + 4`` with ``cr`` already 5..8 and overestimates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

PREAMBLE_SYMBOLS = 16
"""Meshtastic's preamble length in symbols."""

MESHTASTIC_HEADER_BYTES = 16
"""The unencrypted packet header in front of every Meshtastic payload."""

MAX_FRAME_BYTES = 255
"""The largest LoRa frame the firmware sends (header included)."""

MAX_APP_PAYLOAD = 231
"""Application payload bytes the firmware accepts for a broadcast on a private port."""

SIGNATURE_FIELD_BYTES = 66
"""What firmware 2.8's XEdDSA signature adds to a signed ``Data``: tag, length, 64 bytes."""

SIGNING_FIRMWARE = (2, 8)
"""The first firmware release that signs the broadcasts it originates."""

DEFAULT_FIRMWARE = "2.8.0"
"""Firmware assumed when none is given: the newest, whose packets are the longest on air."""

NOISE_FIGURE_DB = 6.0
"""Receiver noise figure assumed for the sensitivity and SNR figures (SX126x class)."""

# SNR at which each spreading factor still demodulates (Semtech SX1261/2 datasheet).
_SNR_LIMIT_DB = {5: -2.5, 6: -5.0, 7: -7.5, 8: -10.0, 9: -12.5, 10: -15.0, 11: -17.5, 12: -20.0}


@dataclass(frozen=True, slots=True)
class Preset:
    """A Meshtastic modem preset: bandwidth (kHz), spreading factor, coding rate denominator."""

    name: str
    bw_khz: float
    sf: int
    cr: int  # denominator of 4/cr: 5..8

    @property
    def symbol_time(self) -> float:
        """Seconds per LoRa symbol: 2^SF / BW."""
        return float(1 << self.sf) / (self.bw_khz * 1000.0)

    @property
    def low_data_rate(self) -> bool:
        """Low-data-rate optimisation, on when a symbol lasts 16 ms or more."""
        return self.symbol_time >= 0.016

    @property
    def slot_time(self) -> float:
        """The firmware's contention slot in seconds: 2.5 symbols + 7.6 ms (sub-GHz radios)."""
        return 2.5 * self.symbol_time + 0.0076

    @property
    def noise_floor_dbm(self) -> float:
        """Thermal noise over the bandwidth plus the receiver noise figure."""
        return -174.0 + 10.0 * math.log10(self.bw_khz * 1000.0) + NOISE_FIGURE_DB

    @property
    def sensitivity_dbm(self) -> float:
        """Weakest signal this preset still decodes: noise floor + the SF's SNR limit."""
        return self.noise_floor_dbm + _SNR_LIMIT_DB[self.sf]

    @property
    def bitrate(self) -> float:
        """Raw bit rate in bit/s: SF · BW / 2^SF · 4/CR."""
        return self.sf * self.bw_khz * 1000.0 / (1 << self.sf) * 4.0 / self.cr


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("SHORT_TURBO", 500.0, 7, 5),
        Preset("SHORT_FAST", 250.0, 7, 5),
        Preset("SHORT_SLOW", 250.0, 8, 5),
        Preset("MEDIUM_FAST", 250.0, 9, 5),
        Preset("MEDIUM_SLOW", 250.0, 10, 5),
        Preset("LONG_TURBO", 500.0, 11, 8),
        Preset("LONG_FAST", 250.0, 11, 5),
        Preset("LONG_MODERATE", 125.0, 11, 8),
        Preset("LONG_SLOW", 125.0, 12, 8),
        Preset("VERY_LONG_SLOW", 62.5, 12, 8),  # deprecated by the firmware, still accepted
    )
}
"""Meshtastic modem presets by their firmware names (LONG_FAST is the default)."""

DEFAULT_PRESET = PRESETS["LONG_FAST"]


def get_preset(preset: str | Preset) -> Preset:
    """Resolve a preset by name (``LONG_FAST``, ``long_fast``, ``LongFast``) or pass it through."""
    if isinstance(preset, Preset):
        return preset
    key = preset.strip().upper().replace("-", "_")
    if key not in PRESETS:  # accept CamelCase: LongFast -> LONG_FAST
        key = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(preset)).upper()
    if key not in PRESETS:
        raise ValueError(f"unknown modem preset {preset!r}; known: {', '.join(PRESETS)}")
    return PRESETS[key]


def payload_symbols(frame_bytes: int, preset: str | Preset) -> int:
    """Number of payload symbols for a LoRa frame of ``frame_bytes`` (Semtech formula)."""
    p = get_preset(preset)
    if not 0 <= frame_bytes <= MAX_FRAME_BYTES:
        raise ValueError(f"LoRa frame of {frame_bytes} bytes is outside 0..{MAX_FRAME_BYTES}")
    de = 1 if p.low_data_rate else 0
    crc, implicit_header = 1, 0
    numerator = 8 * frame_bytes - 4 * p.sf + 28 + 16 * crc - 20 * implicit_header
    blocks = max(math.ceil(numerator / (4 * (p.sf - 2 * de))), 0)
    return 8 + blocks * p.cr  # p.cr is 4 + CR with CR in 1..4


def time_on_air(payload_bytes: int, preset: str | Preset = DEFAULT_PRESET) -> float:
    """Seconds on air for a LoRa frame carrying ``payload_bytes`` (PHY payload, header included)."""
    p = get_preset(preset)
    preamble = (PREAMBLE_SYMBOLS + 4.25) * p.symbol_time
    return preamble + payload_symbols(payload_bytes, p) * p.symbol_time


def _varint_len(value: int) -> int:
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


def data_encoding_bytes(app_payload_bytes: int, portnum: int = 256) -> int:
    """Bytes of the encoded ``Data`` protobuf carrying an application payload.

    Field ``portnum`` (tag + varint), field ``payload`` (tag + length varint + bytes) and the
    2-byte ``bitfield`` the firmware adds. 231 payload bytes on port 256 give 239 bytes, which with
    the 16-byte header fill the 255-byte frame.
    """
    if app_payload_bytes < 0:
        raise ValueError("payload size cannot be negative")
    return (
        1
        + _varint_len(portnum)
        + 1
        + _varint_len(app_payload_bytes)
        + app_payload_bytes
        + 2  # bitfield: tag + one varint byte
    )


@lru_cache(maxsize=64)
def firmware_tuple(version: str | None) -> tuple[int, int, int]:
    """``"2.7.18.abc"`` -> ``(2, 7, 18)``; None or garbage means :data:`DEFAULT_FIRMWARE`
    (remembered: every airtime computation asks)."""
    text = version or DEFAULT_FIRMWARE
    parts: list[int] = []
    for piece in text.split(".")[:3]:
        digits = "".join(c for c in piece if c.isdigit())
        if not digits or digits != piece:
            break
        parts.append(int(digits))
    if len(parts) < 2:
        return firmware_tuple(DEFAULT_FIRMWARE)
    return (parts[0], parts[1], parts[2] if len(parts) > 2 else 0)


def signs_broadcasts(firmware: str | None) -> bool:
    """True when this firmware signs the broadcasts it originates (2.8 and later)."""
    return firmware_tuple(firmware)[:2] >= SIGNING_FIRMWARE


def signature_fits(data_bytes: int) -> bool:
    """``signedDataFits``: would ``Data`` of ``data_bytes`` still fit a frame once signed?"""
    return data_bytes + SIGNATURE_FIELD_BYTES + MESHTASTIC_HEADER_BYTES <= MAX_FRAME_BYTES


def frame_bytes_for_data(
    data_bytes: int, *, broadcast: bool = True, firmware: str | None = DEFAULT_FIRMWARE
) -> int:
    """Bytes on air for a packet whose encoded ``Data`` (bitfield included) is ``data_bytes``.

    Firmware 2.8 signs a broadcast it originates when the signed ``Data`` still fits; a relay
    forwards the frame byte for byte, so a relayed copy is as long as the original.
    """
    signed = broadcast and signs_broadcasts(firmware) and signature_fits(data_bytes)
    return MESHTASTIC_HEADER_BYTES + data_bytes + (SIGNATURE_FIELD_BYTES if signed else 0)


def frame_bytes(
    app_payload_bytes: int,
    portnum: int = 256,
    *,
    broadcast: bool = True,
    firmware: str | None = DEFAULT_FIRMWARE,
) -> int:
    """Bytes on air for one Meshtastic packet: header + encoded Data (+ 2.8's signature).

    AES-CTR adds no bytes. A 7-byte beacon on a private port is 96 bytes on air under 2.8 (30
    before), a 105-byte bulletin 194 (128); from 166 payload bytes on such a port the signature
    no longer fits and the packet goes out unsigned.
    """
    data = data_encoding_bytes(app_payload_bytes, portnum)
    return frame_bytes_for_data(data, broadcast=broadcast, firmware=firmware)


def packet_airtime(
    app_payload_bytes: int,
    preset: str | Preset = DEFAULT_PRESET,
    portnum: int = 256,
    *,
    broadcast: bool = True,
    firmware: str | None = DEFAULT_FIRMWARE,
) -> float:
    """Seconds on air for one Meshtastic packet carrying ``app_payload_bytes`` of payload.

    By default a broadcast from firmware 2.8 (signed when it fits): pass ``firmware="2.7.26"``
    for the older, shorter packets.
    """
    if frame_bytes_for_data(data_encoding_bytes(app_payload_bytes, portnum), firmware="2.7") > (
        MAX_FRAME_BYTES
    ):
        raise ValueError(
            f"{app_payload_bytes} payload bytes exceed one Meshtastic frame "
            f"(at most {MAX_APP_PAYLOAD} on port {portnum})"
        )
    size = frame_bytes(app_payload_bytes, portnum, broadcast=broadcast, firmware=firmware)
    return time_on_air(size, preset)


@dataclass(frozen=True, slots=True)
class Region:
    """A LoRa region: band, default transmit power cap and duty-cycle fraction (1.0 = none)."""

    name: str
    freq_start_mhz: float
    freq_end_mhz: float
    power_limit_dbm: float
    duty_cycle: float
    note: str = ""

    @property
    def centre_mhz(self) -> float:
        """Centre of the band, used for path-loss frequency terms."""
        return (self.freq_start_mhz + self.freq_end_mhz) / 2.0

    @property
    def has_duty_cycle(self) -> bool:
        """True when the firmware enforces an hourly transmit limit here."""
        return self.duty_cycle < 1.0


REGIONS: dict[str, Region] = {
    r.name: r
    for r in (
        # The firmware's region table (RDEF in src/mesh/RadioInterface.cpp, 2.8): band, power
        # cap and hourly duty cycle; 100 % there means no limit here.
        Region("US", 902.0, 928.0, 30.0, 1.0),
        Region("EU_433", 433.0, 434.0, 10.0, 0.10),
        Region("EU_868", 869.4, 869.65, 27.0, 0.10, "10 % hourly duty cycle (DUTY_CYCLE_LIMIT)"),
        Region("EU_866", 865.6, 867.6, 27.0, 0.025, "LITE presets only (2.8)"),
        Region("EU_N_868", 869.4, 869.65, 27.0, 0.10, "NARROW presets only (2.8)"),
        Region("CN", 470.0, 510.0, 19.0, 1.0),
        Region("JP", 920.5, 923.5, 13.0, 1.0),
        Region("ANZ", 915.0, 928.0, 30.0, 1.0),
        Region("ANZ_433", 433.05, 434.79, 14.0, 1.0),
        Region("RU", 868.7, 869.2, 20.0, 1.0),
        Region("KR", 920.0, 923.0, 23.0, 1.0),
        Region("TW", 920.0, 925.0, 27.0, 1.0),
        Region("IN", 865.0, 867.0, 30.0, 1.0),
        Region("NZ_865", 864.0, 868.0, 36.0, 1.0),
        Region("TH", 920.0, 925.0, 27.0, 0.10),
        Region("UA_433", 433.0, 434.7, 10.0, 0.10),
        Region("MY_433", 433.0, 435.0, 20.0, 1.0),
        Region("MY_919", 919.0, 924.0, 27.0, 1.0),
        Region("SG_923", 917.0, 925.0, 20.0, 1.0),
        Region("PH_433", 433.0, 434.7, 10.0, 1.0),
        Region("PH_868", 868.0, 869.4, 14.0, 1.0),
        Region("PH_915", 915.0, 918.0, 24.0, 1.0),
        Region("KZ_433", 433.075, 434.775, 10.0, 1.0),
        Region(
            "KZ_863",
            863.0,
            868.0,
            14.0,
            1.0,
            "firmware allows 30 dBm, the regulation 25 mW EIRP (about 14 dBm)",
        ),
        Region("NP_865", 865.0, 868.0, 30.0, 1.0),
        Region("BR_902", 902.0, 907.5, 30.0, 1.0),
        Region("LORA_24", 2400.0, 2483.5, 10.0, 1.0),
    )
}
"""The firmware's regions (ham bands left out); others behave like US (no duty cycle)."""


def get_region(name: str | Region) -> Region:
    """Resolve a region by its firmware name."""
    if isinstance(name, Region):
        return name
    key = name.strip().upper()
    if key not in REGIONS:
        raise ValueError(f"unknown region {name!r}; known: {', '.join(REGIONS)}")
    return REGIONS[key]
