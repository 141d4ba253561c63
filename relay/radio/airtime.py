"""LoRa time on air (Semtech SX127x formula) and the Meshtastic modem presets.

Used by the emulated medium to delay deliveries and by the emulator's duty-cycle and channel
utilisation figures. Pure arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MESH_HEADER_LEN = 16  # Meshtastic's unencrypted packet header on air


@dataclass(frozen=True, slots=True)
class Modem:
    """LoRa modulation parameters of one preset."""

    bandwidth_hz: int
    spreading_factor: int
    coding_rate: int  # denominator: 5 means 4/5
    preamble_symbols: int = 16

    @property
    def symbol_time(self) -> float:
        """Seconds per LoRa symbol."""
        return float(2**self.spreading_factor) / self.bandwidth_hz


PRESETS: dict[str, Modem] = {
    "SHORT_TURBO": Modem(500_000, 7, 5),
    "SHORT_FAST": Modem(250_000, 7, 5),
    "SHORT_SLOW": Modem(250_000, 8, 5),
    "MEDIUM_FAST": Modem(250_000, 9, 5),
    "MEDIUM_SLOW": Modem(250_000, 10, 5),
    "LONG_TURBO": Modem(500_000, 11, 8),
    "LONG_FAST": Modem(250_000, 11, 5),
    "LONG_MODERATE": Modem(125_000, 11, 8),
    "LONG_SLOW": Modem(125_000, 12, 8),
    "VERY_LONG_SLOW": Modem(62_500, 12, 8),
}

# Regional duty cycle limits (percent of the last hour) that the firmware enforces.
REGION_DUTY_CYCLE: dict[str, float] = {"EU_433": 10.0, "EU_868": 10.0}


def time_on_air(
    frame_len: int,
    modem: Modem,
    *,
    explicit_header: bool = True,
    crc: bool = True,
    low_data_rate_optimize: bool | None = None,
) -> float:
    """Seconds a LoRa frame of ``frame_len`` bytes (PHY payload, header included) occupies the air.

    Low-data-rate optimisation defaults to the Semtech rule (on when a symbol lasts > 16 ms); for
    LongFast (SF11, 250 kHz, 1 ms symbols) it is off. 255 bytes on LongFast take about 2.16 s.
    """
    if frame_len < 0 or frame_len > 255:
        raise ValueError(f"LoRa frame length must be 0..255, not {frame_len}")
    sf = modem.spreading_factor
    t_sym = modem.symbol_time
    de = (t_sym > 0.016) if low_data_rate_optimize is None else low_data_rate_optimize
    ih = 0 if explicit_header else 1
    numerator = 8 * frame_len - 4 * sf + 28 + (16 if crc else 0) - 20 * ih
    denominator = 4 * (sf - (2 if de else 0))
    payload_symbols = 8 + max(math.ceil(numerator / denominator) * modem.coding_rate, 0)
    preamble = (modem.preamble_symbols + 4.25) * t_sym
    return preamble + payload_symbols * t_sym


def packet_airtime(payload_len: int, preset: str = "LONG_FAST") -> float:
    """Time on air of a Meshtastic packet with ``payload_len`` encoded bytes after the header."""
    modem = PRESETS.get(preset, PRESETS["LONG_FAST"])
    return time_on_air(min(MESH_HEADER_LEN + payload_len, 255), modem)
