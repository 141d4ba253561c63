"""The sync engine's anti-entropy: what beacons and summaries describe, and how a node answers
them (summary pages, requests, their retries and back-off).  A mixin of
:class:`relay.sync.engine.SyncEngine`, which owns the state; see docs/protocol.md §9.
"""

from __future__ import annotations

import random
from collections import OrderedDict

from relay.sync import frames
from relay.sync.events import PacketReceived
from relay.sync.trickle import Trickle
from relay.sync.types import SyncConfig, SyncStats, _Item, _Pending


class AntiEntropy:
    """Beacons, summaries and requests; state lives on the SyncEngine."""

    node: int
    config: SyncConfig
    rng: random.Random
    items: dict[bytes, _Item]
    by_prefix: dict[bytes, bytes]
    refused_prefixes: set[bytes]
    pending: dict[tuple[str, bytes], _Pending]
    trickle: Trickle
    seen_mismatch: OrderedDict[tuple[int, bytes, bytes], tuple[float, float]]
    clock: float
    inconsistent: bool
    last_request: float
    stats: SyncStats

    def _live(self, ident: bytes, now: float) -> bool:
        raise NotImplementedError  # SyncEngine

    def busy(self, now: float) -> bool:
        raise NotImplementedError  # SyncEngine

    def _schedule_push(self, ident: bytes, now: float, delay: float, hop_limit: int) -> None:
        raise NotImplementedError  # SyncEngine

    def _sync_set(self) -> list[_Item]:
        """Settled, live bulletins: what beacons and summaries describe.  A bulletin still
        spreading by relays is left out for ``settle`` seconds, so that neighbours do not see
        a difference (and answer it) while the flood is still doing the work."""
        cutoff = self.clock - self.config.settle
        urgent_cutoff = self.clock - self.config.urgent_settle
        urgent = self.config.urgent_priority
        return [
            item
            for item in self.items.values()
            if (
                item.held_since <= cutoff
                or (item.held_since <= urgent_cutoff and item.judgement.priority >= urgent)
            )
            and self._live(item.judgement.id, self.clock)
        ]

    def _beacon(self) -> frames.Beacon:
        ids = [item.judgement.id for item in self._sync_set()]
        return frames.Beacon(frames.digest(ids), len(ids))

    def _page(self, before: int) -> frames.Summary:
        listed = sorted((i for i in self._sync_set() if i.key < before), key=lambda i: -i.key)
        listed = listed[: self.config.summary_size]
        beacon = self._beacon()
        low = listed[-1].key if listed else 0
        prefixes = tuple(i.judgement.id[: frames.PREFIX_LEN] for i in listed)
        return frames.Summary(beacon.digest, beacon.count, before, low, prefixes)

    def _on_sync(
        self,
        frame: frames.Beacon | frames.Summary | frames.Request,
        event: PacketReceived,
        now: float,
    ) -> None:
        answer_hops = max(0, event.hops or 0)
        mine = self._beacon()
        if isinstance(frame, frames.Beacon):
            if frame.digest == mine.digest:
                self.trickle.consistent()
                return
            if not self._already_handled(event.sender, frame.digest, mine.digest, now):
                self._mark_inconsistent(now)
            return
        if isinstance(frame, frames.Summary):
            if frame.digest == mine.digest:
                self.trickle.consistent()
                return
            self._on_summary(frame, event.sender, now, answer_hops)
            return
        if frame.responder != self.node:
            return  # addressed to a neighbour: its answer will serve us too
        for prefix in frame.prefixes:
            ident = self.by_prefix.get(prefix)
            if ident is not None:
                self.stats.answers += 1
                self._schedule_push(
                    ident, now, self.rng.uniform(0, self.config.answer_delay), answer_hops
                )
        if frame.before:
            page = self._page(frame.before).encode()
            self._schedule_answer(
                ("summary", frame.before.to_bytes(8, "big")), page, now, answer_hops
            )

    def _on_summary(self, frame: frames.Summary, sender: int, now: float, hops: int) -> None:
        theirs = set(frame.prefixes)
        full = len(frame.prefixes) >= self.config.summary_size
        floor = frame.low if full else 0
        lacking = [
            p for p in frame.prefixes if p not in self.by_prefix and p not in self.refused_prefixes
        ]
        they_lack = [
            item
            for item in self._sync_set()
            if floor <= item.key < frame.before
            and item.judgement.id[: frames.PREFIX_LEN] not in theirs
        ]
        if they_lack and not self._already_handled(
            sender, frame.digest, self._beacon().digest, now
        ):
            self._mark_inconsistent(now)  # our next Trickle firing shows them our summary
        if lacking:
            self._request(frames.Request(sender, 0, tuple(lacking[: frames.MAX_LISTED])), now, hops)
        elif not they_lack and full and frame.low:
            self._request(frames.Request(sender, frame.low, ()), now, hops)

    def _mark_inconsistent(self, now: float) -> None:
        self.inconsistent = True
        if not self.busy(now):  # on a busy channel catch-up waits for the normal Trickle pace
            self.trickle.reset(now)

    def _request(self, request: frames.Request, now: float, hops: int) -> None:
        """Ask one neighbour; one request in flight, at most one per ``request_interval``.

        A newer summary replaces the pending request's content but never postpones it: summaries
        heard more often than requests may go out must not starve the request."""
        stale = [k for k in self.pending if k[0] in ("request", "retry")]
        due = min((self.pending.pop(k).due for k in stale), default=None)
        if due is None:
            due = max(now + self.rng.uniform(0.2, self.config.answer_delay), self.last_request)
            if self.busy(now):
                due += self.rng.uniform(self.config.imin, 2 * self.config.imin)
        tag = request.prefixes[0] if request.prefixes else request.before.to_bytes(8, "big")
        self.pending[("request", tag)] = _Pending(due, [request.encode()], 0, hops)

    def _schedule_answer(
        self, key: tuple[str, bytes], payload: bytes, now: float, hops: int
    ) -> None:
        if key in self.pending:
            return
        due = now + self.rng.uniform(0.2, self.config.answer_delay)
        self.pending[key] = _Pending(due, [payload], 0, hops)

    def _already_handled(self, sender: int, theirs: bytes, mine: bytes, now: float) -> bool:
        """True while the same mismatch with the same peer is in back-off (it may be deliberate:
        the peer refuses what we offer).  Retries double from ``imin`` up to ``imax``."""
        key = (sender, theirs, mine)
        last = self.seen_mismatch.get(key)
        if last is not None and now - last[0] < last[1]:
            return True
        interval = self.config.imin if last is None else min(last[1] * 2, self.config.imax)
        self.seen_mismatch[key] = (now, interval)
        self.seen_mismatch.move_to_end(key)
        while len(self.seen_mismatch) > 1024:
            self.seen_mismatch.popitem(last=False)
        return False

    def _still_lacking(self, payload: bytes) -> bool:
        """A request for ids: are some of them still neither held nor refused?"""
        request = frames.parse(payload)
        assert isinstance(request, frames.Request)
        known = self.by_prefix.keys() | self.refused_prefixes
        return any(p not in known for p in request.prefixes)
