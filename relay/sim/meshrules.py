"""Firmware rules shared by the radio emulator and the simulator: channels, keys, slots, modes.

Pure functions of plain values, each following a file of the Meshtastic firmware (2.7.26 and
2.8.0 sources):

* which channel a packet is on and whether a radio can decrypt it: the one-byte channel hash
  (``Channels::generateHash``: XOR of the name's bytes and the expanded key's bytes) and the
  key expansion of ``Channels::getKey`` (src/mesh/Channels.cpp);
* which frequency slot a radio listens on: djb2 hash of the primary channel's name (the preset's
  display name when empty) modulo the region's slot count, unless ``lora.channel_num`` pins one
  (``RadioInterface::applyModemConfig``, src/mesh/RadioInterface.cpp);
* what a received packet becomes under each rebroadcast mode (Router.cpp ``perhapsDecode`` /
  ``handleReceived``, NextHopRouter.cpp ``relayOpaquePacket`` in 2.8, RoutingModule.cpp in 2.7);
* the hop limit a radio puts on a packet (RadioInterface.cpp: above HOP_MAX becomes HOP_RELIABLE).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from relay.lora import Preset, Region

HOP_MAX = 7
HOP_RELIABLE = 3
DEFAULT_PSK = bytes(
    [0xD4, 0xF1, 0xBB, 0x3A, 0x20, 0x29, 0x07, 0x59, 0xF0, 0xBC, 0xFF, 0xAB, 0xCF, 0x4E, 0x69, 0x01]
)
"""The public "AQ==" key the short PSK 1 expands to (``defaultpsk`` in Channels.h)."""

CORE_PORTNUMS = frozenset({1, 3, 4, 5, 6, 7, 8, 11, 12, 35, 65, 70, 67})
"""Ports a CORE_PORTNUMS_ONLY radio still handles (Router.cpp ``shouldIgnoreNonstandardPorts``):
text, position, nodeinfo, routing, admin, compressed text, waypoint, alert, key verification,
store-forward++, store-forward, traceroute, telemetry."""

PRESET_DISPLAY_NAMES = {
    "SHORT_TURBO": "ShortTurbo",
    "SHORT_SLOW": "ShortSlow",
    "SHORT_FAST": "ShortFast",
    "MEDIUM_SLOW": "MediumSlow",
    "MEDIUM_FAST": "MediumFast",
    "MEDIUM_TURBO": "MediumTurbo",
    "LONG_SLOW": "LongSlow",
    "LONG_FAST": "LongFast",
    "LONG_TURBO": "LongTurbo",
    "LONG_MODERATE": "LongMod",
    "VERY_LONG_SLOW": "VLongSlow",
}
"""``DisplayFormatters::getModemPresetDisplayName``: what an unnamed primary channel is called."""


class Mode(enum.Enum):
    """``config.device.rebroadcast_mode`` as the firmware knows it."""

    ALL = "ALL"
    ALL_SKIP_DECODING = "ALL_SKIP_DECODING"
    LOCAL_ONLY = "LOCAL_ONLY"
    KNOWN_ONLY = "KNOWN_ONLY"
    NONE = "NONE"
    CORE_PORTNUMS_ONLY = "CORE_PORTNUMS_ONLY"


def expand_psk(psk: bytes) -> bytes:
    """``Channels::getKey``: 1 byte 0 = no encryption, 1..255 = the default key with its last
    byte bumped by index - 1; short keys are zero-padded to 16 or 32 bytes."""
    if len(psk) == 0:
        return b""
    if len(psk) == 1:
        if psk[0] == 0:
            return b""
        return DEFAULT_PSK[:-1] + bytes([(DEFAULT_PSK[-1] + psk[0] - 1) & 0xFF])
    if len(psk) < 16:
        return psk.ljust(16, b"\0")
    if len(psk) < 32 and len(psk) != 16:
        return psk.ljust(32, b"\0")
    return psk


def _xor(data: bytes) -> int:
    h = 0
    for b in data:
        h ^= b
    return h


def channel_name(name: str, preset: str) -> str:
    """``Channels::getName``: an empty name means the preset's display name (``LongFast``)."""
    return name or PRESET_DISPLAY_NAMES.get(preset, "Custom")


def channel_hash(name: str, psk: bytes, preset: str = "LONG_FAST") -> int:
    """The byte in every packet's header that says which channel it is on."""
    return _xor(channel_name(name, preset).encode()) ^ _xor(expand_psk(psk))


def djb2(text: str) -> int:
    """``hash()`` in RadioInterface.cpp (djb2, 32-bit)."""
    h = 5381
    for c in text.encode():
        h = (h * 33 + c) & 0xFFFFFFFF
    return h


def slot_count(region: Region, preset: Preset) -> int:
    """Frequency slots of the region's band for this preset's bandwidth (standard profile)."""
    return max(round((region.freq_end_mhz - region.freq_start_mhz) / (preset.bw_khz / 1000)), 1)


def frequency_slot(region: Region, preset: Preset, primary_name: str, channel_num: int = 0) -> int:
    """Zero-based slot: ``channel_num - 1`` when pinned, else hash(primary name) % slots."""
    slots = slot_count(region, preset)
    if 0 < channel_num <= slots:
        return channel_num - 1
    return djb2(channel_name(primary_name, preset.name)) % slots


def slot_frequency_mhz(region: Region, preset: Preset, slot: int) -> float:
    """Centre frequency of a slot: band start + half a bandwidth + slot widths."""
    width = preset.bw_khz / 1000
    return region.freq_start_mhz + width / 2 + slot * width


def clamp_hop_limit(hop_limit: int) -> int:
    """RadioInterface.cpp: a hop limit above HOP_MAX (7) is set to HOP_RELIABLE (3)."""
    return HOP_RELIABLE if hop_limit > HOP_MAX else max(hop_limit, 0)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a radio does with a new (not duplicate) packet heard from the air."""

    deliver: bool  # handled locally and given to the client (when addressed to it or broadcast)
    relay: bool  # eligible for the flooding relay (role and hop limit still apply)
    reason: str = ""


def receive_verdict(
    mode: Mode,
    *,
    decodable: bool,
    port: int | None,
    sender_known: bool,
    firmware: tuple[int, int, int] = (2, 8, 0),
) -> Verdict:
    """The rebroadcast mode applied to a received packet, as the firmware does.

    ``decodable``: the packet's channel hash and key match one of the radio's channels;
    ``port`` is its port when decodable; ``sender_known``: the node DB has the sender's user.

    * KNOWN_ONLY: an unknown sender fails decoding (``perhapsDecode``) and is dropped.
    * A decodable packet on a non-core port under CORE_PORTNUMS_ONLY is dropped: neither handled
      nor relayed (``shouldIgnoreNonstandardPorts`` + ``cancelSending``).
    * An undecodable (opaque) packet is never delivered; it is relayed under ALL and
      ALL_SKIP_DECODING (2.8: NextHopRouter::relayOpaquePacket), and under 2.7 also
      CORE_PORTNUMS_ONLY (RoutingModule.cpp skips only LOCAL_ONLY and KNOWN_ONLY).
    * NONE never relays (``isRebroadcaster``).
    """
    if mode is Mode.KNOWN_ONLY and not sender_known:
        return Verdict(False, False, "unknown sender (KNOWN_ONLY)")
    if not decodable:
        opaque_modes = {Mode.ALL, Mode.ALL_SKIP_DECODING}
        if firmware[:2] < (2, 8):
            opaque_modes.add(Mode.CORE_PORTNUMS_ONLY)
        return Verdict(False, mode in opaque_modes, "not our channel")
    if mode is Mode.CORE_PORTNUMS_ONLY and port is not None and port not in CORE_PORTNUMS:
        return Verdict(False, False, "non-core port (CORE_PORTNUMS_ONLY)")
    return Verdict(True, mode is not Mode.NONE)


def role_default_mode(role: str, current: Mode = Mode.ALL) -> Mode:
    """``NodeDB::installRoleDefaults``: ROUTER becomes CORE_PORTNUMS_ONLY, CLIENT_HIDDEN
    LOCAL_ONLY; other roles keep their mode."""
    if role == "ROUTER":
        return Mode.CORE_PORTNUMS_ONLY
    if role == "CLIENT_HIDDEN":
        return Mode.LOCAL_ONLY
    return current
