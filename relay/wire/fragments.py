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

With k = ceil(n / 216) every frame stays within 229 bytes (231 on air with the link's magic).
One repair fragment lets a receiver rebuild any single lost data fragment (docs/protocol.md
justifies it with loss figures).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from relay.wire.bulletin import (
    FRAGMENT_TYPE,
    ID_LEN,
    MAX_BULLETIN,
    PACKET_MAX,
    VERSION,
    bulletin_id,
)
from relay.wire.bulletin import SIGNATURE_LEN as _SIG
from relay.wire.errors import WireError

FRAGMENT_HEADER = 11
FRAGMENT_DATA_MAX = 216
MAX_FRAGMENTS = 16
FRAGMENT_BYTE = (VERSION << 4) | FRAGMENT_TYPE


@dataclass(frozen=True, slots=True)
class Fragment:
    """One parsed fragment packet (its parse-level rules checked: docs/protocol.md section 5)."""

    bulletin: bytes  # 8-byte bulletin id
    count: int
    index: int
    data: bytes

    @property
    def is_repair(self) -> bool:
        return self.index == self.count

    @property
    def total(self) -> int | None:
        """A repair fragment's bulletin length L (None for a data fragment)."""
        return int.from_bytes(self.data[:2], "big") if self.is_repair else None


def fragment_count(length: int) -> int:
    """k: the number of data fragments a bulletin of ``length`` bytes travels in."""
    return -(-length // FRAGMENT_DATA_MAX)


def slice_length(length: int) -> int:
    """c: the bytes every data fragment but the last carries (the last: length - (k - 1) * c)."""
    return -(-length // fragment_count(length))


def split(raw: bytes, repair: bool = True) -> list[bytes]:
    """Packets that carry ``raw``: itself if it fits one packet, else fragments (+ repair)."""
    if len(raw) <= PACKET_MAX:
        return [raw]
    count = fragment_count(len(raw))
    if count > MAX_FRAGMENTS:
        raise ValueError(f"bulletin of {len(raw)} bytes needs more than {MAX_FRAGMENTS} fragments")
    chunk = slice_length(len(raw))
    ident = bulletin_id(raw[:-_SIG])
    slices = [raw[i * chunk : (i + 1) * chunk] for i in range(count)]
    head = bytes([FRAGMENT_BYTE]) + ident + bytes([count])
    packets = [head + bytes([index]) + data for index, data in enumerate(slices)]
    if repair:
        packets.append(head + bytes([count]) + len(raw).to_bytes(2, "big") + _xor(slices, chunk))
    return packets


def parse(packet: bytes) -> Fragment:
    """Parse one fragment packet and apply every check it allows on its own (bounded).

    Raises WireError: ``too-large`` (over 229 bytes), ``truncated`` (not a fragment, or no data),
    ``bad-fragment`` (k outside 2..16, index above k, a data slice over 216 bytes, or a repair
    fragment whose L is not that of a fragmented bulletin in k fragments or whose XOR is not
    ceil(L / k) bytes). Checks that need several fragments belong to reassembly (section 5).
    """
    if len(packet) > PACKET_MAX:
        raise WireError("too-large", f"fragment of {len(packet)} bytes exceeds {PACKET_MAX}")
    if len(packet) <= FRAGMENT_HEADER or packet[0] != FRAGMENT_BYTE:
        raise WireError("truncated", "not a fragment or no data")
    count, index = packet[9], packet[10]
    if not 2 <= count <= MAX_FRAGMENTS or index > count:
        raise WireError("bad-fragment", f"fragment {index} of {count} is out of range")
    data = bytes(packet[FRAGMENT_HEADER:])
    if index < count and len(data) > FRAGMENT_DATA_MAX:
        raise WireError("bad-fragment", f"data fragment of {len(data)} bytes")
    if index == count:
        if len(data) < 3:
            raise WireError("bad-fragment", "repair fragment without data")
        total = int.from_bytes(data[:2], "big")
        if not PACKET_MAX < total <= MAX_BULLETIN or fragment_count(total) != count:
            raise WireError("bad-fragment", f"a bulletin of {total} bytes is not sent in {count}")
        if len(data) - 2 != slice_length(total):
            raise WireError("bad-fragment", "repair fragment length does not match its L")
    return Fragment(bytes(packet[1 : 1 + ID_LEN]), count, index, data)


def _xor(slices: list[bytes], chunk: int) -> bytes:
    acc = bytearray(chunk)
    for data in slices:
        for position, byte in enumerate(data):
            acc[position] ^= byte
    return bytes(acc)


SetKey = tuple[bytes, int, int]  # (bulletin id, fragment count, source radio)


@dataclass
class _Pending:
    """One partial bulletin: the fragments one source sent for one (id, count)."""

    count: int
    source: int
    first_seen: float
    progress_at: float  # when a new fragment last arrived
    favoured: bool = False  # from a radio with trusted history, or naming a trusted author
    conflicted: bool = False  # an index was heard with two different contents
    data: dict[int, bytes] = field(default_factory=dict)
    repair: bytes | None = None
    size: int = 0  # fragment data bytes held

    @property
    def fragments(self) -> int:
        return len(self.data) + (self.repair is not None)

    def rank(self) -> tuple[bool, int, float]:
        """Lowest is evicted first: not favoured, fewest fragments, least recent progress."""
        return (self.favoured, self.fragments, self.progress_at)


@dataclass(frozen=True, slots=True)
class Reassembled:
    """A bulletin rebuilt from one source's fragments; its id matched the fragments' id."""

    raw: bytes
    source: int
    clean: bool  # every fragment index was heard with one content only


class Reassembler:
    """Collect fragments until a bulletin is whole; memory, count and age are bounded.

    Partial bulletins are keyed by (id, count, source radio): a fragment can only ever join the
    fragments its own radio sent, so a fake fragment with someone else's id, or another count,
    builds a set of its own that conflicts with nobody.  A set that completes must hash to its
    id, else it is dropped (a reassembly failure, evidence against no one).

    Bounds, per source first (``max_per_source`` sets, ``max_source_bytes``) and then in total
    (``max_pending`` sets, ``max_bytes`` of fragment data, ``max_age`` seconds per set).  When a
    bound is exceeded the lowest-ranked set goes: not favoured before favoured (the caller marks
    sets from radios with a trusted history, or that name a trusted author), then fewest
    fragments, then least recent progress.  A flood of one-fragment sets, from one radio or from
    many rotating ones, therefore never evicts a set that has made progress.
    """

    def __init__(
        self,
        max_pending: int = 64,
        max_bytes: int = 128 * 1024,
        max_age: float = 1800.0,
        max_per_source: int = 4,
        max_source_bytes: int = 16 * 1024,
    ) -> None:
        self.max_pending = max_pending
        self.max_bytes = max_bytes
        self.max_age = max_age
        self.max_per_source = max_per_source
        self.max_source_bytes = max_source_bytes
        self._pending: dict[SetKey, _Pending] = {}
        self._sources: dict[int, list[SetKey]] = {}
        self._done: OrderedDict[SetKey, None] = OrderedDict()
        self.pending_bytes = 0
        self.dropped = 0  # sets given up: evicted, expired or not matching their id
        self.peak_bytes = 0  # most fragment data held at once (after the bounds were applied)

    def missing(self, ident: bytes) -> list[int]:
        """Indices of data fragments still missing for ``ident`` in its most complete set."""
        sets = [e for key, e in self._pending.items() if key[0] == ident]
        if not sets:
            return []
        entry = max(sets, key=lambda e: e.fragments)
        return [i for i in range(entry.count) if i not in entry.data]

    def favoured(self, ident: bytes, count: int, source: int) -> bool:
        """True if a favoured set for (ident, count, source) is pending."""
        entry = self._pending.get((ident, count, source))
        return entry is not None and entry.favoured

    def add(
        self, packet: bytes, now: float, source: int = 0, favoured: bool = False
    ) -> bytes | None:
        """Add one fragment packet; return the complete bulletin when it becomes whole."""
        done = self.add_fragment(parse(packet), now, source, favoured)
        return None if done is None else done.raw

    def add_fragment(
        self, fragment: Fragment, now: float, source: int = 0, favoured: bool = False
    ) -> Reassembled | None:
        """Add one parsed fragment heard from radio ``source``."""
        self.expire(now)
        key = (fragment.bulletin, fragment.count, source)
        if key in self._done:
            return None
        entry = self._pending.get(key)
        if entry is None:
            entry = _Pending(fragment.count, source, now, now)
            self._pending[key] = entry
            self._sources.setdefault(source, []).append(key)
        entry.favoured = entry.favoured or favoured
        old = entry.repair if fragment.is_repair else entry.data.get(fragment.index)
        if old == fragment.data:
            return None  # a duplicate: no progress
        if old is not None:
            entry.conflicted = True  # the later one wins; the id check decides
        if fragment.is_repair:
            entry.repair = fragment.data
        else:
            entry.data[fragment.index] = fragment.data
        grown = len(fragment.data) - len(old or b"")
        entry.size += grown
        self.pending_bytes += grown
        entry.progress_at = now
        result = self._try_complete(key, entry)
        if result is None:
            self._enforce_bounds(source)
        self.peak_bytes = max(self.peak_bytes, self.pending_bytes)  # what stays, after bounds
        return result

    def expire(self, now: float) -> None:
        """Forget partial bulletins older than ``max_age``."""
        for key in [k for k, e in self._pending.items() if now - e.first_seen > self.max_age]:
            self._drop(key)

    def _drop(self, key: SetKey, given_up: bool = True) -> None:
        entry = self._pending.pop(key)
        self.pending_bytes -= entry.size
        keys = self._sources[entry.source]
        keys.remove(key)
        if not keys:
            del self._sources[entry.source]
        self.dropped += given_up

    def _enforce_bounds(self, source: int) -> None:
        while (keys := self._sources.get(source)) and (
            len(keys) > self.max_per_source
            or sum(self._pending[k].size for k in keys) > self.max_source_bytes
        ):
            self._drop(min(keys, key=lambda k: self._pending[k].rank()))
        while self._pending and (
            len(self._pending) > self.max_pending or self.pending_bytes > self.max_bytes
        ):
            self._drop(min(self._pending, key=lambda k: self._pending[k].rank()))

    def _try_complete(self, key: SetKey, entry: _Pending) -> Reassembled | None:
        missing = [i for i in range(entry.count) if i not in entry.data]
        if len(missing) > 1 or (missing and entry.repair is None):
            return None
        if missing:
            raw = self._rebuild(entry, missing[0])
        else:
            raw = b"".join(entry.data[i] for i in range(entry.count))
        whole = (
            raw is not None
            and _canonical_slices(entry, len(raw))
            and bulletin_id(raw[:-_SIG]) == key[0]
        )
        self._drop(key, given_up=not whole)
        if raw is None or not whole:
            return None  # inconsistent fragments: start over on the next ones
        self._done[key] = None
        while len(self._done) > 4 * self.max_pending:
            self._done.popitem(last=False)
        return Reassembled(raw, entry.source, not entry.conflicted)

    @staticmethod
    def _rebuild(entry: _Pending, lost: int) -> bytes | None:
        repair = entry.repair
        if repair is None or len(repair) < 3:
            return None
        total = int.from_bytes(repair[:2], "big")
        chunk = len(repair) - 2
        if -(-total // entry.count) != chunk or any(len(d) > chunk for d in entry.data.values()):
            return None  # the slices do not fit the repair fragment's chunk: not one bulletin
        acc = bytearray(repair[2:])
        for _index, data in entry.data.items():
            for position, byte in enumerate(data):
                acc[position] ^= byte
        slices = dict(entry.data)
        if lost == entry.count - 1:
            last = total - lost * chunk
            if last <= 0 or any(acc[last:]):
                return None  # §5 rule 6: the XOR past the last slice's length must be zero
            slices[lost] = bytes(acc[:last])
        else:
            slices[lost] = bytes(acc)
        raw = b"".join(slices[i] for i in range(entry.count))
        return raw if len(raw) == total else None


def _canonical_slices(entry: _Pending, length: int) -> bool:
    """docs/protocol.md §5 rules 5 and 6: the one way a bulletin of ``length`` bytes is cut."""
    if not PACKET_MAX < length <= MAX_BULLETIN or fragment_count(length) != entry.count:
        return False  # a bulletin that fits one packet is never fragmented
    chunk = slice_length(length)
    last = length - (entry.count - 1) * chunk
    return all(
        len(data) == (last if index == entry.count - 1 else chunk)
        for index, data in entry.data.items()
    )


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
