"""Packet files: the frames of one bulletin, as `jarshy compose` writes them.

Frames as protocol.md sections 2 and 5 define them: on the air the radio link puts Jarshy's
2-byte magic before each (protocol.md section 1, relay.radio.framing); files never hold it.

A bulletin that fits one packet is written as exactly that packet's payload.  A fragmented one is
written as its packets in order, each preceded by one length byte (packets are <= 231 bytes).  The
two cannot be confused: a bulletin starts with a frame byte 0x10-0x16, while the first length byte
of a fragmented bulletin is at least 127 (its first fragment carries at least 116 bytes).
"""

from __future__ import annotations

from relay.wire.bulletin import PACKET_MAX, VERSION
from relay.wire.errors import WireError
from relay.wire.fragments import Reassembler, split


def to_packet_file(raw: bytes) -> bytes:
    packets = split(raw)
    if len(packets) == 1:
        return packets[0]
    return b"".join(bytes([len(p)]) + p for p in packets)


def packets_of(data: bytes) -> list[bytes]:
    """Split a packet file into packets (bounded; raises WireError)."""
    if data and data[0] >> 4 == VERSION:
        return [data]
    packets, offset = [], 0
    while offset < len(data):
        length = data[offset]
        end = offset + 1 + length
        if length == 0 or length > PACKET_MAX or end > len(data):
            raise WireError("truncated", f"packet file damaged at byte {offset}")
        packets.append(data[offset + 1 : end])
        offset = end
    if not packets or len(packets) > 17:
        raise WireError("bad-fragment", "packet file holds no bulletin")
    return packets


def bulletin_from_packet_file(data: bytes) -> bytes:
    """The bulletin carried by a packet file (reassembled and checked against its id)."""
    packets = packets_of(data)
    if len(packets) == 1:
        return packets[0]
    reassembler = Reassembler()
    for packet in packets:
        whole = reassembler.add(packet, now=0.0)
        if whole is not None:
            return whole
    raise WireError("incomplete", "fragments do not make a whole bulletin")
