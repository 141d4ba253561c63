"""Sync control frames (wire v1 frame types 9-11) and the summary digest.

All frames are sent with hop limit 0 (one radio hop) unless a peer is known to be further away:

    BEACON  0x19 | digest (4) | count (2)
    SUMMARY 0x1A | digest (4) | count (2) | before (8) | low (8) | n (1) | n x id prefix (4)
    REQUEST 0x1B | responder (4) | before (8) | n (1) | n x id prefix (4)
    SKETCH  0x1C | responder (4) | count (2) | part (1) | parts (1) | m (1) | m x cell (7)

``digest`` is the first 4 bytes of the XOR of the 8-byte ids of every bulletin in the node's sync
set (trusted, unexpired); ``count`` is the set's size (saturating at 65535).  A SUMMARY lists the
ids of the newest ``n`` items whose sort key is below ``before``; ``low`` is the key of the last
listed item (0 if none), so the page covers keys in [low, before).  The sort key of an item is
``created << 32 | first 4 id bytes as an integer``.  A REQUEST asks the node ``responder`` (the
Meshtastic node number whose SUMMARY prompted it) for the items whose id prefixes it lists, and,
when ``before`` is not zero, for its SUMMARY page below ``before``; other nodes ignore it, so one
answer serves the requester and everyone who overhears it.  A SKETCH (relay.sync.sketch) asks
``responder`` for the bulletins it holds and the sender lacks, among the prefixes of one part of
the id space: each cell is count mod 256 (1) | XOR of prefixes (4) | XOR of their checks (2).
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.wire.errors import WireError

BEACON = 0x19
SUMMARY = 0x1A
REQUEST = 0x1B
SKETCH = 0x1C
SYNC_FRAMES = (BEACON, SUMMARY, REQUEST, SKETCH)
PREFIX_LEN = 4
MAX_LISTED = 48  # ids in one summary or request: 24 + 4 * 48 = 216 bytes <= 231
HEAD = (1 << 64) - 1  # "before" of the newest page


def sort_key(created: int, ident: bytes) -> int:
    return (created << 32) | int.from_bytes(ident[:PREFIX_LEN], "big")


def digest(ids: list[bytes]) -> bytes:
    acc = 0
    for ident in ids:
        acc ^= int.from_bytes(ident, "big")
    return acc.to_bytes(8, "big")[:4]


@dataclass(frozen=True, slots=True)
class Beacon:
    digest: bytes
    count: int

    def encode(self) -> bytes:
        return bytes([BEACON]) + self.digest + min(self.count, 0xFFFF).to_bytes(2, "big")


@dataclass(frozen=True, slots=True)
class Summary:
    digest: bytes
    count: int
    before: int
    low: int
    prefixes: tuple[bytes, ...]

    def encode(self) -> bytes:
        head = bytes([SUMMARY]) + self.digest + min(self.count, 0xFFFF).to_bytes(2, "big")
        head += self.before.to_bytes(8, "big") + self.low.to_bytes(8, "big")
        return head + bytes([len(self.prefixes)]) + b"".join(self.prefixes)


@dataclass(frozen=True, slots=True)
class Request:
    responder: int  # node number asked to answer
    before: int  # 0: no page wanted
    prefixes: tuple[bytes, ...]

    def encode(self) -> bytes:
        out = bytes([REQUEST]) + (self.responder & 0xFFFFFFFF).to_bytes(4, "big")
        out += self.before.to_bytes(8, "big") + bytes([len(self.prefixes)])
        return out + b"".join(self.prefixes)


@dataclass(frozen=True, slots=True)
class Sketch:
    responder: int  # node number asked to answer
    count: int  # the sender's held (live) bulletins
    part: int
    parts: int
    cells: tuple[tuple[int, int, int], ...]

    def encode(self) -> bytes:
        out = bytes([SKETCH]) + (self.responder & 0xFFFFFFFF).to_bytes(4, "big")
        out += min(self.count, 0xFFFF).to_bytes(2, "big")
        out += bytes([self.part, self.parts, len(self.cells)])
        return out + b"".join(
            bytes([c]) + k.to_bytes(4, "big") + h.to_bytes(2, "big") for c, k, h in self.cells
        )


def _sketch(payload: bytes) -> Sketch:
    if len(payload) < 10:
        raise WireError("bad-sync", "sketch too short")
    part, parts, m = payload[7], payload[8], payload[9]
    if not parts or part >= parts or len(payload) != 10 + 7 * m:
        raise WireError("bad-sync", "sketch length or part does not match")
    cells = tuple(
        (
            payload[10 + 7 * i],
            int.from_bytes(payload[11 + 7 * i : 15 + 7 * i], "big"),
            int.from_bytes(payload[15 + 7 * i : 17 + 7 * i], "big"),
        )
        for i in range(m)
    )
    return Sketch(
        int.from_bytes(payload[1:5], "big"), int.from_bytes(payload[5:7], "big"), part, parts, cells
    )


def parse(payload: bytes) -> Beacon | Summary | Request | Sketch:
    """Decode one sync frame; raises WireError on anything malformed."""
    if not payload or payload[0] not in SYNC_FRAMES:
        raise WireError("not-sync", "not a sync frame")
    kind = payload[0]
    if kind == SKETCH:
        return _sketch(payload)
    if kind == BEACON:
        if len(payload) != 7:
            raise WireError("bad-sync", "beacon must be 7 bytes")
        return Beacon(payload[1:5], int.from_bytes(payload[5:7], "big"))
    if kind == SUMMARY:
        if len(payload) < 24:
            raise WireError("bad-sync", "summary too short")
        n = payload[23]
        if n > MAX_LISTED or len(payload) != 24 + PREFIX_LEN * n:
            raise WireError("bad-sync", "summary length does not match its count")
        prefixes = tuple(payload[24 + i * 4 : 28 + i * 4] for i in range(n))
        return Summary(
            payload[1:5],
            int.from_bytes(payload[5:7], "big"),
            int.from_bytes(payload[7:15], "big"),
            int.from_bytes(payload[15:23], "big"),
            prefixes,
        )
    if len(payload) < 14:
        raise WireError("bad-sync", "request too short")
    n = payload[13]
    if n > MAX_LISTED or len(payload) != 14 + PREFIX_LEN * n:
        raise WireError("bad-sync", "request length does not match its count")
    prefixes = tuple(payload[14 + i * 4 : 18 + i * 4] for i in range(n))
    return Request(
        int.from_bytes(payload[1:5], "big"), int.from_bytes(payload[5:13], "big"), prefixes
    )
