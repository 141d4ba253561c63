"""What an emulated radio puts on the air and how it reads what it hears: channels and keys.

A packet on air carries the channel hash in its header and its ``Data`` encrypted with the
channel's key (``Router::perhapsEncode``, src/mesh/Router.cpp); a receiver tries each of its
channels whose hash matches and keeps the first that decrypts to a valid ``Data`` with a port
(``perhapsDecode``); a packet that matches none is opaque to it. The emulator stands in a
SHA-256 keystream, keyed and nonced like the firmware's AES-CTR (packet id, sender), for AES:
same length on air, and no client can observe the cipher. Firmware 2.8's XEdDSA signature is
appended to a broadcast that still fits as the raw field 10 of ``Data`` (the client library's
protobufs predate it) so the frame has its true length; its bytes are not a real signature.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from meshtastic.protobuf import mesh_pb2

from relay.lora import (
    DEFAULT_PRESET,
    MESHTASTIC_HEADER_BYTES,
    PRESETS,
    REGIONS,
    get_region,
    signature_fits,
    signs_broadcasts,
)
from relay.sim.meshrules import channel_hash, expand_psk, frequency_slot, slot_frequency_mhz

BROADCAST = 0xFFFFFFFF
SIGNATURE_FIELD = bytes([10 << 3 | 2, 64])  # tag of Data.xeddsa_signature, length 64


@dataclass(frozen=True, slots=True)
class AirChannel:
    """One enabled channel of a radio as the air sees it."""

    index: int
    name: str
    key: bytes  # expanded; empty means no encryption
    hash: int


def radio_channels(channels: list[Any], preset: str) -> list[AirChannel]:
    """The enabled channels (``channel_pb2.Channel``) with their hashes; a secondary without a
    key borrows the primary's (``Channels::getKey``)."""
    primary_psk = b""
    for ch in channels:
        if ch.role == 1:  # PRIMARY
            primary_psk = bytes(ch.settings.psk)
    out = []
    for ch in channels:
        if ch.role == 0:  # DISABLED
            continue
        psk = bytes(ch.settings.psk)
        if not psk and ch.role == 2:  # SECONDARY with no key: the primary's
            psk = primary_psk
        name = ch.settings.name
        out.append(AirChannel(ch.index, name, expand_psk(psk), channel_hash(name, psk, preset)))
    return out


def _keystream(key: bytes, packet_id: int, sender: int, length: int) -> bytes:
    nonce = struct.pack("<QI", packet_id, sender) + bytes(4)  # CryptoEngine::initNonce
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(key + nonce + counter.to_bytes(4, "little")).digest()
        counter += 1
    return bytes(out[:length])


def crypt(key: bytes, packet_id: int, sender: int, data: bytes) -> bytes:
    """Encrypt or decrypt (a stream cipher is its own inverse); no key: plain text."""
    if not key:
        return data
    stream = _keystream(key, packet_id, sender, len(data))
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def encode_data(decoded: Any, *, broadcast: bool, firmware: str | None) -> bytes:
    """The ``Data`` bytes the firmware encrypts: bitfield always set, 2.8's signature if it fits."""
    data = mesh_pb2.Data()
    data.CopyFrom(decoded)
    data.bitfield = data.bitfield  # has_bitfield = true for packets from us
    raw: bytes = data.SerializeToString()
    if broadcast and signs_broadcasts(firmware) and signature_fits(len(raw)):
        raw += SIGNATURE_FIELD + hashlib.sha512(raw).digest()
    return raw


def to_air(packet: Any, channel: AirChannel, firmware: str | None) -> Any:
    """The over-the-air form of a decoded packet we originate on ``channel``."""
    sender = getattr(packet, "from")
    raw = encode_data(packet.decoded, broadcast=packet.to == BROADCAST, firmware=firmware)
    air = mesh_pb2.MeshPacket()
    air.CopyFrom(packet)
    air.ClearField("decoded")
    air.channel = channel.hash
    air.encrypted = crypt(channel.key, packet.id, sender, raw)
    return air


def from_air(packet: Any, channels: list[AirChannel]) -> tuple[AirChannel, Any] | None:
    """(channel, decoded Data) for a packet one of ``channels`` decrypts, else None (opaque)."""
    if not packet.HasField("encrypted") and packet.HasField("decoded"):
        return (channels[0], packet.decoded) if channels else None  # plain: test injection
    sender = getattr(packet, "from")
    for ch in channels:
        if ch.hash != packet.channel:
            continue
        data = mesh_pb2.Data()
        try:
            data.ParseFromString(crypt(ch.key, packet.id, sender, packet.encrypted))
        except Exception:
            continue  # a wrong key yields garbage, as with AES
        if data.portnum != 0:
            data.DiscardUnknownFields()  # the phone gets Data without the signature field
            return ch, data
    return None


def air_bytes(packet: Any) -> int:
    """Bytes on air of an encrypted packet: header + ciphertext."""
    return MESHTASTIC_HEADER_BYTES + len(packet.encrypted)


def air_channel_of(state: Any) -> tuple[str, float]:
    """(preset, centre MHz) a radio's :class:`~relay.radio.state.RadioState` listens on: the
    slot hashed from the primary channel's name unless ``lora.channel_num`` pins one
    (``RadioInterface::applyModemConfig``); an UNSET region uses the US band plan, as its RDEF."""
    lora = state.config.lora
    preset = PRESETS.get(state.enum_name("lora", "modem_preset"), DEFAULT_PRESET)
    region = REGIONS.get(state.enum_name("lora", "region")) or get_region("US")
    primary = next((c for c in state.channels if c.role == 1), None)
    name = primary.settings.name if primary is not None else ""
    slot = frequency_slot(region, preset, name, lora.channel_num)
    return preset.name, round(slot_frequency_mhz(region, preset, slot), 4)
