"""The LoRa frequency a radio transmits on, computed as the Meshtastic firmware does.

Pure functions and tables (no radio, no meshtastic import), so ``jarshy radio info``, provisioning
and the emulator can share them. Rules, from ``src/mesh/RadioInterface.cpp`` (``applyModemConfig``,
the ``regions[]`` table and ``hash``), ``src/mesh/Channels.cpp`` (``getName``),
``src/mesh/MeshRadio.h`` (``modemPresetToParams``) and ``src/DisplayFormatters.cpp``:

- The number of frequency slots is ``floor(span / bandwidth)`` up to firmware 2.7.x and
  ``round(span / bandwidth)`` from 2.8 (commit 22d63fa "Lora settings expansion", #9878). In KZ_433
  that is 6 slots on 2.7 and 7 on 2.8.
- The slot is ``lora.channel_num - 1`` when ``channel_num`` is set, else the djb2 hash of the
  *primary* channel's name modulo the number of slots. A primary with an empty name is named after
  the modem preset ("LongFast"): that is the public default slot stock radios share. Secondary
  channels never move the frequency.
- The frequency is ``region start + bandwidth / 2 + slot * bandwidth`` (+ ``frequency_offset``), or
  ``override_frequency`` when set.
- Wide-LoRa regions use the 2.4 GHz bandwidths (LongFast 812.5 kHz). KZ_863 was wrongly marked
  wide from 2.7.1 to 2.7.17 (fixed in 2.7.18 by "KZ_863 is not wide lora", #9075).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

REGION_BANDS_MHZ: dict[str, tuple[float, float]] = {
    "US": (902.0, 928.0), "EU_433": (433.0, 434.0), "EU_868": (869.4, 869.65),
    "CN": (470.0, 510.0), "JP": (920.5, 923.5), "ANZ": (915.0, 928.0), "ANZ_433": (433.05, 434.79),
    "RU": (868.7, 869.2), "KR": (920.0, 923.0), "TW": (920.0, 925.0), "IN": (865.0, 867.0),
    "NZ_865": (864.0, 868.0), "TH": (920.0, 925.0), "UA_433": (433.0, 434.7),
    "UA_868": (868.0, 868.6), "MY_433": (433.0, 435.0), "MY_919": (919.0, 924.0),
    "SG_923": (917.0, 925.0), "PH_433": (433.0, 434.7), "PH_868": (868.0, 869.4),
    "PH_915": (915.0, 918.0), "KZ_433": (433.075, 434.775), "KZ_863": (863.0, 868.0),
    "NP_865": (865.0, 868.0), "BR_902": (902.0, 907.5), "LORA_24": (2400.0, 2483.5),
}  # fmt: skip
"""Band edges of every region in firmware 2.7.26's ``regions[]`` (spacing 0 in all of them)."""

PRESET_BANDWIDTH_KHZ: dict[str, tuple[float, float]] = {
    "SHORT_TURBO": (500.0, 1625.0), "SHORT_FAST": (250.0, 812.5), "SHORT_SLOW": (250.0, 812.5),
    "MEDIUM_FAST": (250.0, 812.5), "MEDIUM_SLOW": (250.0, 812.5), "LONG_TURBO": (500.0, 1625.0),
    "LONG_FAST": (250.0, 812.5), "LONG_MODERATE": (125.0, 406.25), "LONG_SLOW": (125.0, 406.25),
}  # fmt: skip
"""(normal, wide-LoRa) bandwidth per preset; anything else gets LONG_FAST's (modemPresetToParams)."""

PRESET_DISPLAY_NAMES: dict[str, str] = {
    "SHORT_TURBO": "ShortTurbo", "SHORT_SLOW": "ShortSlow", "SHORT_FAST": "ShortFast",
    "MEDIUM_SLOW": "MediumSlow", "MEDIUM_FAST": "MediumFast", "LONG_SLOW": "LongSlow",
    "LONG_FAST": "LongFast", "LONG_TURBO": "LongTurbo", "LONG_MODERATE": "LongMod",
}  # fmt: skip
"""The name an unnamed primary channel takes (``getModemPresetDisplayName``; else "Invalid")."""

DEFAULT_PRESET = "LONG_FAST"
"""Every region's default preset: the public mesh's."""


def djb2(text: str) -> int:
    """The firmware's ``hash()``: djb2 over the UTF-8 bytes, 32-bit unsigned."""
    value = 5381
    for byte in text.encode("utf-8"):
        value = (value * 33 + byte) & 0xFFFFFFFF
    return value


def _f32(value: float) -> float:
    """Round to a C ``float``, as the firmware's arithmetic does."""
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


def _version(firmware: str | None) -> tuple[int, ...]:
    parts: list[int] = []
    for part in (firmware or "").split(".")[:3]:
        if not part.isdigit():
            break
        parts.append(int(part))
    return tuple(parts)


def is_wide_lora(region: str, firmware: str | None = None) -> bool:
    """Whether the firmware uses the 2.4 GHz bandwidths in this region."""
    if region == "LORA_24":
        return True
    version = _version(firmware)
    return region == "KZ_863" and (2, 7, 1) <= version < (2, 7, 18)


def bandwidth_khz(region: str, preset: str, firmware: str | None = None) -> float:
    """The preset's bandwidth in this region on this firmware."""
    normal, wide = PRESET_BANDWIDTH_KHZ.get(preset, PRESET_BANDWIDTH_KHZ[DEFAULT_PRESET])
    return wide if is_wide_lora(region, firmware) else normal


def slot_count(region: str, preset: str, firmware: str | None = None) -> int:
    """How many frequency slots the band holds for this preset (floor up to 2.7, round from 2.8)."""
    start, end = REGION_BANDS_MHZ[region]
    width = _f32(_f32(bandwidth_khz(region, preset, firmware)) / 1000.0)
    ratio = _f32(_f32(_f32(end) - _f32(start)) / width)
    version = _version(firmware)
    if version and version[:2] >= (2, 8):
        return max(math.floor(ratio + 0.5), 0)
    return max(math.floor(ratio), 0)


def primary_name(name: str, preset: str) -> str:
    """The name the firmware hashes for the primary channel (an empty name: the preset's)."""
    return name or PRESET_DISPLAY_NAMES.get(preset, "Invalid")


@dataclass(frozen=True)
class FrequencyPlan:
    """Where a radio transmits, and where the region's public default channel is."""

    region: str
    preset: str
    slots: int
    slot: int  # 1-based, as lora.channel_num counts; 0 with override_frequency
    mhz: float
    public_slot: int  # 1-based: the default channel's (an unnamed primary on the default preset)
    public_mhz: float
    pinned: bool  # lora.channel_num set

    @property
    def on_public_slot(self) -> bool:
        """True when stock radios on the default channel share this radio's frequency."""
        return abs(self.mhz - self.public_mhz) < 0.0005

    def describe(self) -> str:
        """``866.875 MHz (slot 16 of 20)``."""
        where = f"slot {self.slot} of {self.slots}" if self.slot else "override_frequency"
        return f"{self.mhz:.3f} MHz ({where}{', pinned' if self.pinned else ''})"


def slot_frequency_mhz(region: str, preset: str, slot: int, firmware: str | None = None) -> float:
    """Centre frequency of 1-based ``slot``: start + bandwidth/2 + (slot - 1) * bandwidth."""
    start, _ = REGION_BANDS_MHZ[region]
    bw = bandwidth_khz(region, preset, firmware) / 1000.0
    return round(start + bw / 2 + (slot - 1) * bw, 6)


def hash_slot(name: str, region: str, preset: str, firmware: str | None = None) -> int:
    """The 1-based slot an unpinned radio takes for a primary channel named ``name``."""
    slots = slot_count(region, preset, firmware)
    return djb2(primary_name(name, preset)) % slots + 1 if slots else 0


def frequency_plan(
    region: str,
    preset: str,
    primary: str,
    *,
    channel_num: int = 0,
    firmware: str | None = None,
    frequency_offset: float = 0.0,
    override_frequency: float = 0.0,
) -> FrequencyPlan:
    """The radio's frequency and the public default's, as ``applyModemConfig`` computes them.

    Raises ``KeyError`` for a region not in :data:`REGION_BANDS_MHZ` (UNSET included).
    """
    slots = slot_count(region, preset, firmware)
    if slots == 0:
        raise KeyError(f"{region} has no slot for {preset}")
    # Where the public mesh is: as this firmware counts slots, without KZ_863's wide-LoRa bug.
    fixed = "2.7.18" if is_wide_lora(region, firmware) and region != "LORA_24" else firmware
    public_slot = hash_slot("", region, DEFAULT_PRESET, fixed)
    public = slot_frequency_mhz(region, DEFAULT_PRESET, public_slot, fixed)
    if override_frequency:
        return FrequencyPlan(
            region, preset, slots, 0, round(override_frequency + frequency_offset, 6),
            public_slot, public, bool(channel_num),
        )  # fmt: skip
    index = (channel_num - 1 if channel_num else djb2(primary_name(primary, preset))) % slots
    mhz = slot_frequency_mhz(region, preset, index + 1, firmware) + frequency_offset
    return FrequencyPlan(
        region, preset, slots, index + 1, round(mhz, 6), public_slot, public, bool(channel_num)
    )


def isolated_slot(name: str, region: str, preset: str) -> int:
    """The 1-based slot to pin for an isolated mesh on channel ``name``.

    The name's own hash slot, moved one up when it is the public default slot. Counted with 2.7's
    (smaller) number of slots, so a radio on 2.7 and one on 2.8 pin the same frequency.
    """
    slots = slot_count(region, preset, "2.7")
    own = djb2(name) % slots
    if slots > 1 and own + 1 == hash_slot("", region, DEFAULT_PRESET, "2.7"):
        own = (own + 1) % slots
    return own + 1
