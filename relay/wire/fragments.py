"""Fragments: split a bulletin that exceeds one packet, reassemble it with bounded memory.

Fragment layout::

    offset  size  what
    0       1     frame byte = (VERSION << 4) | 8
    1       8     bulletin id
    9       1     count k (2..16)
    10      1     index i: 0..k-1 data fragment, k = XOR repair fragment
    11      ...   data fragment: bytes[i*c : (i+1)*c] of the bulletin, c = ceil(n / k)
                  repair fragment: n as 2 bytes, then the XOR of all k data slices,
                  each zero-padded to c bytes

With k = ceil(n / 218) every packet stays within 231 bytes.  One repair fragment lets a receiver
rebuild any single lost data fragment (docs/protocol.md justifies it with loss figures).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from relay.wire.bulletin import FRAGMENT_TYPE, ID_LEN, PACKET_MAX, VERSION, bulletin_id
from relay.wire.bulletin import SIGNATURE_LEN as _SIG
from relay.wire.errors import WireError

FRAGMENT_HEADER = 11
FRAGMENT_DATA_MAX = 218
MAX_FRAGMENTS = 16
FRAGMENT_BYTE = (VERSION << 4) | FRAGMENT_TYPE


@dataclass(frozen=True, slots=True)
class Fragment:
    """One parsed fragment packet."""

    bulletin: bytes  # 8-byte bulletin id
    count: int
    index: int
    data: bytes

    @property
    def is_repair(self) -> bool:
        return self.index == self.count


def split(raw: bytes, repair: bool = True) -> list[bytes]:
    """Packets that carry ``raw``: itself if it fits one packet, else fragments (+ repair)."""
    if len(raw) <= PACKET_MAX:
        return [raw]
    count = -(-len(raw) // FRAGMENT_DATA_MAX)
    if count > MAX_FRAGMENTS:
        raise ValueError(f"bulletin of {len(raw)} bytes needs more than {MAX_FRAGMENTS} fragments")
    chunk = -(-len(raw) // count)
    ident = bulletin_id(raw[:-_SIG])
    slices = [raw[i * chunk : (i + 1) * chunk] for i in range(count)]
    head = bytes([FRAGMENT_BYTE]) + ident + bytes([count])
    packets = [head + bytes([index]) + data for index, data in enumerate(slices)]
    if repair:
        packets.append(head + bytes([count]) + len(raw).to_bytes(2, "big") + _xor(slices, chunk))
    return packets


def parse(packet: bytes) -> Fragment:
    """Parse one fragment packet (bounded; raises WireError)."""
    if len(packet) > PACKET_MAX:
        raise WireError("too-large", f"fragment of {len(packet)} bytes exceeds {PACKET_MAX}")
    if len(packet) <= FRAGMENT_HEADER or packet[0] != FRAGMENT_BYTE:
        raise WireError("truncated", "not a fragment or no data")
    count, index = packet[9], packet[10]
    if not 2 <= count <= MAX_FRAGMENTS or index > count:
        raise WireError("bad-fragment", f"fragment {index} of {count} is out of range")
    return Fragment(bytes(packet[1 : 1 + ID_LEN]), count, index, bytes(packet[FRAGMENT_HEADER:]))


def _xor(slices: list[bytes], chunk: int) -> bytes:
    acc = bytearray(chunk)
    for data in slices:
        for position, byte in enumerate(data):
            acc[position] ^= byte
    return bytes(acc)


@dataclass
class _Pending:
    count: int
    first_seen: float
    data: dict[int, bytes] = field(default_factory=dict)
    repair: bytes | None = None

    def size(self) -> int:
        return sum(map(len, self.data.values())) + len(self.repair or b"")


class Reassembler:
    """Collect fragments until a bulletin is whole; memory, count and age are bounded.

    ``add`` returns the bulletin bytes once they hash to the announced id, else None.
    Fragments that contradict each other or the id are dropped, never raised to the caller
    except as :class:`WireError` from ``parse``.
    """

    def __init__(
        self, max_pending: int = 32, max_bytes: int = 128 * 1024, max_age: float = 1800.0
    ) -> None:
        self.max_pending = max_pending
        self.max_bytes = max_bytes
        self.max_age = max_age
        self._pending: OrderedDict[bytes, _Pending] = OrderedDict()
        self._done: OrderedDict[bytes, None] = OrderedDict()
        self.dropped = 0

    @property
    def pending_bytes(self) -> int:
        return sum(entry.size() for entry in self._pending.values())

    def missing(self, ident: bytes) -> list[int]:
        """Indices of data fragments still missing for ``ident`` (empty if unknown)."""
        entry = self._pending.get(ident)
        if entry is None:
            return []
        return [i for i in range(entry.count) if i not in entry.data]

    def add(self, packet: bytes, now: float) -> bytes | None:
        """Add one fragment packet; return the complete bulletin when it becomes whole."""
        fragment = parse(packet)
        self.expire(now)
        if fragment.bulletin in self._done:
            return None
        entry = self._pending.get(fragment.bulletin)
        if entry is None:
            entry = _Pending(count=fragment.count, first_seen=now)
            self._pending[fragment.bulletin] = entry
        elif entry.count != fragment.count:
            raise WireError("bad-fragment", "fragment count disagrees with earlier fragments")
        if fragment.is_repair:
            entry.repair = fragment.data
        else:
            entry.data[fragment.index] = fragment.data
        self._pending.move_to_end(fragment.bulletin)
        result = self._try_complete(fragment.bulletin, entry)
        self._enforce_bounds()
        return result

    def expire(self, now: float) -> None:
        """Forget partial bulletins older than ``max_age``."""
        for ident in [i for i, e in self._pending.items() if now - e.first_seen > self.max_age]:
            del self._pending[ident]
            self.dropped += 1

    def _enforce_bounds(self) -> None:
        while self._pending and (
            len(self._pending) > self.max_pending or self.pending_bytes > self.max_bytes
        ):
            self._pending.popitem(last=False)
            self.dropped += 1

    def _try_complete(self, ident: bytes, entry: _Pending) -> bytes | None:
        missing = [i for i in range(entry.count) if i not in entry.data]
        if len(missing) > 1 or (missing and entry.repair is None):
            return None
        if missing:
            raw = self._rebuild(entry, missing[0])
        else:
            raw = b"".join(entry.data[i] for i in range(entry.count))
        if raw is None or len(raw) <= _SIG or bulletin_id(raw[:-_SIG]) != ident:
            del self._pending[ident]  # inconsistent fragments: start over on the next ones
            self.dropped += 1
            return None
        del self._pending[ident]
        self._done[ident] = None
        while len(self._done) > 4 * self.max_pending:
            self._done.popitem(last=False)
        return raw

    @staticmethod
    def _rebuild(entry: _Pending, lost: int) -> bytes | None:
        repair = entry.repair
        if repair is None or len(repair) < 3:
            return None
        total = int.from_bytes(repair[:2], "big")
        chunk = len(repair) - 2
        if -(-total // entry.count) != chunk:
            return None
        acc = bytearray(repair[2:])
        for _index, data in entry.data.items():
            for position, byte in enumerate(data):
                acc[position] ^= byte
        slices = dict(entry.data)
        slices[lost] = bytes(acc[: total - lost * chunk] if lost == entry.count - 1 else acc)
        raw = b"".join(slices[i] for i in range(entry.count))
        return raw if len(raw) == total else None


def carried_id(payload: bytes) -> bytes | None:
    """The id of the bulletin a bulletin or fragment payload carries (None for other frames)."""
    if not payload or payload[0] >> 4 != VERSION:
        return None
    frame = payload[0] & 0x0F
    if frame < 7 and len(payload) > _SIG:
        return bulletin_id(payload[:-_SIG])
    if frame == FRAGMENT_TYPE and len(payload) >= 1 + ID_LEN:
        return bytes(payload[1 : 1 + ID_LEN])
    return None
