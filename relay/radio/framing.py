"""The two framings at the radio edge; pure code, no I/O, usable from any thread.

1. The Meshtastic client stream: ``0x94 0xC3 len_hi len_lo`` followed by a protobuf. Serial and
   TCP carry the same byte stream. Bytes outside a frame are device log text (or the 32 wake
   bytes 0xC3 a client sends first) and are skipped; a declared length over 512 bytes is garbage,
   so the parser drops it and resynchronises on the next 0x94.
2. Jarshy's payload on the mesh (protocol.md section 1): every Jarshy frame travels on its own
   port as ``MAGIC + frame``. The link adds the magic on send and strips it on receive, so the node
   core and the sync engine see the frames of protocol.md sections 2-9 unchanged; a payload on our
   port without the magic is another application's data and is dropped without judging it.
"""

from __future__ import annotations

START1 = 0x94
START2 = 0xC3
HEADER_LEN = 4
MAX_FRAME_PAYLOAD = 512


def encode_frame(payload: bytes) -> bytes:
    """Wrap one serialized protobuf in a stream frame."""
    if len(payload) > MAX_FRAME_PAYLOAD:
        raise ValueError(f"frame payload of {len(payload)} bytes exceeds {MAX_FRAME_PAYLOAD}")
    return bytes((START1, START2, len(payload) >> 8, len(payload) & 0xFF)) + payload


class FrameParser:
    """Incremental parser: feed bytes, get complete frame payloads back; never raises on garbage."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.skipped = 0  # bytes outside frames (log text, wake bytes, dropped frames)
        self.dropped = 0  # frames whose declared length was too large

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every frame payload completed by them, in order."""
        self._buf += data
        frames: list[bytes] = []
        buf = self._buf
        while buf:
            if buf[0] != START1:
                nxt = buf.find(START1)
                cut = len(buf) if nxt < 0 else nxt
                self.skipped += cut
                del buf[:cut]
                continue
            if len(buf) < 2:
                break
            if buf[1] != START2:
                self.skipped += 1
                del buf[:1]
                continue
            if len(buf) < HEADER_LEN:
                break
            length = (buf[2] << 8) | buf[3]
            if length > MAX_FRAME_PAYLOAD:
                self.dropped += 1
                self.skipped += 1
                del buf[:1]  # resync on the next 0x94
                continue
            if len(buf) < HEADER_LEN + length:
                break
            frames.append(bytes(buf[HEADER_LEN : HEADER_LEN + length]))
            del buf[: HEADER_LEN + length]
        return frames


# Jarshy's payload framing on the mesh (protocol.md section 1).
JARSHY_PORT = 330  # 256 + ord("J"): private range 256..511, assigned to nothing in portnums.proto
MAGIC = b"\xfe\x4a"  # 0xFE starts no UTF-8 text and no protobuf message (wire type 6); "J", v1
RADIO_PAYLOAD_MAX = 231  # the firmware's limit for a broadcast on a private port
FRAME_MAX = RADIO_PAYLOAD_MAX - len(MAGIC)  # 229: the longest Jarshy frame one packet carries


def wrap(frame: bytes) -> bytes:
    """The on-air payload for one Jarshy frame; ValueError if empty or over ``FRAME_MAX``."""
    if not frame:
        raise ValueError("frame is empty")
    if len(frame) > FRAME_MAX:
        raise ValueError(
            f"frame is {len(frame)} bytes; with Jarshy's {len(MAGIC)}-byte magic a Meshtastic "
            f"broadcast carries at most {FRAME_MAX}"
        )
    return MAGIC + bytes(frame)


def unwrap(payload: bytes) -> bytes | None:
    """The Jarshy frame in an on-air payload, or None when it is not Jarshy's (no magic, empty)."""
    if len(payload) <= len(MAGIC) or payload[: len(MAGIC)] != MAGIC:
        return None
    return bytes(payload[len(MAGIC) :])
