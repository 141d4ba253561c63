"""The relayable bulletins a node holds, and the sync set that beacons and summaries describe.

Owned by :class:`relay.sync.engine.SyncEngine`; anti-entropy reads it (relay.sync.anti_entropy).
"""

from __future__ import annotations

from relay.sync import frames
from relay.sync.types import Judgement, SyncConfig, _Item

SWEEP_EVERY = 60.0  # seconds between expiry sweeps


class Held:
    """Held bulletins by id and by 4-byte id prefix, bounded, forgotten when they expire."""

    def __init__(self, config: SyncConfig) -> None:
        self.settle = config.settle
        self.urgent_settle = config.urgent_settle
        self.urgent_priority = config.urgent_priority
        self.max_items = config.max_items
        self.summary_size = config.summary_size
        self.items: dict[bytes, _Item] = {}
        self.by_prefix: dict[bytes, bytes] = {}
        self.next_sweep = 0.0
        self.version = 0  # moves with every add and forget
        # the beacon, the version it was computed at and until when the sync set stays the same
        self._beacon: tuple[int, float, float, frames.Beacon] | None = None

    def __contains__(self, ident: bytes) -> bool:
        return ident in self.items

    def __len__(self) -> int:
        return len(self.items)

    def get(self, ident: bytes) -> _Item | None:
        return self.items.get(ident)

    def ident(self, prefix: bytes) -> bytes | None:
        """The held id with this 4-byte prefix, if any."""
        return self.by_prefix.get(prefix)

    def with_prefix(self, prefix: bytes) -> _Item | None:
        ident = self.by_prefix.get(prefix)
        return None if ident is None else self.items.get(ident)

    def add(self, raw: bytes, judgement: Judgement, now: float) -> None:
        """Hold a relayable bulletin (the caller checked it is not held yet)."""
        self.version += 1
        self.items[judgement.id] = _Item(raw, judgement, now)
        self.by_prefix[judgement.id[: frames.PREFIX_LEN]] = judgement.id
        if len(self.items) > self.max_items:
            ranked = sorted(self.items.values(), key=lambda i: (i.judgement.priority, i.key))
            for item in ranked[: len(self.items) - self.max_items]:
                self._forget(item.judgement.id)

    def live(self, ident: bytes, now: float) -> bool:
        item = self.items.get(ident)
        if item is None:
            return False
        expires = item.judgement.expires_at
        return expires is None or now < expires

    def sweep(self, now: float) -> None:
        """Forget expired bulletins, at most once every :data:`SWEEP_EVERY` seconds."""
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_EVERY
            self.expire(now)

    def expire(self, now: float) -> int:
        """Forget bulletins that have expired; return how many."""
        gone = [i for i in self.items if not self.live(i, now)]
        for ident in gone:
            self._forget(ident)
        return len(gone)

    def _forget(self, ident: bytes) -> None:
        self.version += 1
        del self.items[ident]
        self.by_prefix.pop(ident[: frames.PREFIX_LEN], None)

    def recent(self, since: float) -> list[_Item]:
        """Bulletins held since ``since``, newest first."""
        fresh = [item for item in self.items.values() if item.held_since >= since]
        return sorted(fresh, key=lambda i: -i.held_since)

    def sync_set(self, now: float) -> list[_Item]:
        """Settled, live bulletins: what beacons and summaries describe.  A bulletin still
        spreading by relays is left out for ``settle`` seconds (``urgent_settle`` if urgent), so
        that neighbours do not see a difference (and answer it) while the flood does the work."""
        cutoff = now - self.settle
        urgent_cutoff = now - self.urgent_settle
        return [
            item
            for item in self.items.values()
            if (
                item.held_since <= cutoff
                or (
                    item.held_since <= urgent_cutoff
                    and item.judgement.priority >= self.urgent_priority
                )
            )
            and self.live(item.judgement.id, now)
        ]

    def beacon(self, now: float) -> frames.Beacon:
        """Digest and count of the sync set at ``now`` (kept until a bulletin is added,
        forgotten, settles or expires: a node in a dense mesh compares every beacon it hears)."""
        cached = self._beacon
        if cached is not None and cached[0] == self.version and cached[1] <= now < cached[2]:
            return cached[3]
        ids = [item.judgement.id for item in self.sync_set(now)]
        beacon = frames.Beacon(frames.digest(ids), len(ids))
        self._beacon = (self.version, now, self._changes_after(now), beacon)
        return beacon

    def _changes_after(self, now: float) -> float:
        """The first time after ``now`` at which a held bulletin settles or expires."""
        first = float("inf")
        for item in self.items.values():
            settles = item.held_since + (
                self.urgent_settle
                if item.judgement.priority >= self.urgent_priority
                else self.settle
            )
            if now < settles < first:
                first = settles
            expires = item.judgement.expires_at
            if expires is not None and now < expires < first:
                first = expires
        return first

    def page(self, before: int, now: float, size: int | None = None) -> frames.Summary:
        """The summary page of the newest ``size`` settled items with a key below ``before``."""
        settled = self.sync_set(now)
        listed = sorted((i for i in settled if i.key < before), key=lambda i: -i.key)
        listed = listed[: size or self.summary_size]
        ids = [item.judgement.id for item in settled]
        low = listed[-1].key if listed else 0
        prefixes = tuple(i.judgement.id[: frames.PREFIX_LEN] for i in listed)
        return frames.Summary(frames.digest(ids), len(ids), before, low, prefixes)
