"""Anti-entropy (docs/protocol.md §9, behaviour 3): Trickle-timed beacons, summary pages, requests
with their retries and back-off, for nodes that missed what the relays carried.

A component of :class:`relay.sync.engine.SyncEngine`: it owns its timer, the mismatches it is
backing off from, the ids it asked for and the pace of its requests; it reads the held bulletins
(relay.sync.held) and the refusals, and leaves its transmissions in the engine's outbox.
"""

from __future__ import annotations

import random
from collections import OrderedDict

from relay.sync import frames, sketch
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.held import Held
from relay.sync.meter import ChannelMeter
from relay.sync.outbox import Key, Outbox
from relay.sync.refusals import Refusals
from relay.sync.trickle import Trickle
from relay.sync.types import SyncConfig, SyncStats, _Pending

MAX_MISMATCHES = 1024
MAX_REQUESTED = 1024
FLUX = 60.0  # seconds over which neighbours get the same relayed bulletin (3 relay delays)
MAX_FLUX = 10  # recent bulletins tried in explaining a digest difference (2**10 subsets)
REQUESTED_FOR = 120.0  # seconds an id we asked for is expected (answers, retries)


class AntiEntropy:
    """Beacons, summaries and requests of one node."""

    def __init__(
        self,
        config: SyncConfig,
        rng: random.Random,
        held: Held,
        refusals: Refusals,
        outbox: Outbox,
        meter: ChannelMeter,
        stats: SyncStats,
    ) -> None:
        self.node = 0  # our radio's node number: requests addressed to it are ours to answer
        self.config = config
        self.rng = rng
        self.held = held
        self.refusals = refusals
        self.outbox = outbox
        self.meter = meter
        self.stats = stats
        self.trickle = Trickle(config.imin, config.imax, config.redundancy, rng)
        self.started = False
        self.inconsistent = False  # a neighbour's set differs: next Trickle firing is a summary
        self.owed: set[int] = set()  # the neighbours whose difference made us inconsistent
        self.asking: OrderedDict[int, float] = OrderedDict()  # neighbour -> its last request
        self.seen_mismatch: OrderedDict[tuple[int, bytes, bytes], tuple[float, float]] = (
            OrderedDict()
        )
        self.requested: OrderedDict[bytes, float] = OrderedDict()  # id prefix -> expected until
        self.last_request = -1e18  # earliest time the next request may go
        self.sketch_quiet_until = -1e18  # no new sketch round before (answers still coming)
        # when new data worth comparing soon joins the sync set: Trickle restarts at imin then
        self.resets: list[float] = []

    # -- timers ---------------------------------------------------------------------------------

    def held_new(self, ident: bytes, urgent: bool, now: float) -> None:
        """A bulletin was just held.  Trickle restarts at imin (RFC 6206: new data) when it
        joins the sync set if it is urgent, or if it came because we asked for it: we were
        behind, and neighbours beyond us may be too, so they should compare soon (the relays
        carried everything else to everyone at about the same time)."""
        if urgent:
            self.resets.append(now + self.config.urgent_settle)
        elif self.expects(ident, now):
            self.resets.append(now)  # joins the sync set at once (SyncEngine.add)

    def fire(self, now: float, density: float = 1.0) -> list[SendPacket]:
        """Trickle: a beacon, or our newest summary page after a mismatch.  ``density`` (1 to 3,
        :meth:`relay.sync.frontier.Frontier.spread`) stretches Imax: where many neighbours
        beacon, each hears enough of them, and hidden neighbours would otherwise multiply the
        beacons a node in the middle hears."""
        self.trickle.imax = self.config.imax * density
        if not self.started:
            self.started = True
            self.trickle.begin(now)
        if self.resets and min(self.resets) <= now:
            self.resets = [t for t in self.resets if t > now]
            self.trickle.reset(now)  # new data (RFC 6206): neighbours compare soon
        if not self.trickle.due(now):
            return []
        beacon = self.held.beacon(now)
        inconsistent, self.inconsistent = self.inconsistent, False
        self.owed.clear()
        if inconsistent and beacon.count and not self.meter.busy(now):
            self.stats.sent["summary"] += 1
            return [SendPacket(self.held.page(frames.HEAD, now).encode(), 0, priority=-1)]
        self.stats.sent["beacon"] += 1
        return [SendPacket(beacon.encode(), 0, priority=-1)]

    def deadline(self) -> float:
        if not self.started:
            return 0.0
        return min([self.trickle.deadline(), *self.resets])

    def sending(self, key: Key, job: _Pending, now: float) -> bool:
        """A request of ours is due: False to drop it (a retry whose ids all came); else note
        what we asked for, pace the next request and arm the retry.  A retry asks only for the
        ids still lacking."""
        request = frames.parse(job.packets[0])
        assert isinstance(request, frames.Request)
        if key[0] == "retry":
            lacking = tuple(p for p in request.prefixes if self._lacks(p))
            if not lacking:
                return False
            request = frames.Request(request.responder, 0, lacking)
            job.packets = [request.encode()]
        self.last_request = now + self.config.request_interval
        for prefix in request.prefixes:
            self.requested[prefix] = now + REQUESTED_FOR
            self.requested.move_to_end(prefix)
        while len(self.requested) > MAX_REQUESTED:
            self.requested.popitem(last=False)
        if job.tries < self.config.request_retries and any(map(self._lacks, request.prefixes)):
            again = _Pending(now + self.config.retry_after, job.packets, 0, job.hop_limit)
            again.tries = job.tries + 1
            self.outbox.add(("retry", key[1]), again)
        return True

    def arrived(self, ident: bytes, now: float) -> None:
        """A bulletin we asked for came: answers are flowing, so the retry (and the next sketch
        round) waits for the rest."""
        if now < self.sketch_quiet_until + self.config.retry_after:
            self.sketch_quiet_until = max(self.sketch_quiet_until, now + self.config.retry_after)
        if self.expects(ident, now):
            for key in self.outbox.requests():
                job = self.outbox.jobs[key]
                if key[0] == "retry":
                    job.due = max(job.due, now + self.config.retry_after)

    def expects(self, ident: bytes, now: float) -> bool:
        """We asked for ``ident`` recently: its answer is worth judging before strangers'."""
        expected = self.requested.get(ident[: frames.PREFIX_LEN])
        return expected is not None and expected > now

    # -- frames ---------------------------------------------------------------------------------

    def on_frame(
        self,
        frame: frames.Beacon | frames.Summary | frames.Request | frames.Sketch,
        event: PacketReceived,
        now: float,
    ) -> None:
        answer_hops = max(0, event.hops or 0)
        if isinstance(frame, frames.Request):
            self._served(event.sender, now)
            self._on_request(frame, now, answer_hops)
            return
        if isinstance(frame, frames.Sketch):
            self._on_sketch(frame, event.sender, now, answer_hops)
            return
        mine = self.held.beacon(now)
        if frame.digest == mine.digest or self._settling(frame.digest, mine.digest, now):
            self.trickle.consistent()
        elif isinstance(frame, frames.Summary):
            self._on_summary(frame, event.sender, now, answer_hops, mine)
        elif now - self.asking.get(event.sender, -1e18) < self.config.imin:
            pass  # it is catching up by requests everyone here hears: its digest is moving
        elif not self._already_handled(event.sender, frame.digest, mine.digest, now):
            # a node that lacks more than a page of what the neighbour holds does not show its
            # own page (the neighbour's lists what it needs): it beacons soon (Trickle reset)
            far_behind = frame.count > mine.count + self.config.summary_size
            self._mark_inconsistent(now, event.sender, summary=not far_behind)

    def _served(self, asker: int, now: float) -> None:
        """``asker`` asked a neighbour (us or another): that exchange, which we hear, serves it,
        so our summary is not owed to it any more, and for ``imin`` its beacons (whose digest
        moves with every answer) make us owe none."""
        self.asking[asker] = now
        self.asking.move_to_end(asker)
        while len(self.asking) > MAX_MISMATCHES:
            self.asking.popitem(last=False)
        self.owed.discard(asker)
        if not self.owed:
            self.inconsistent = False

    def _on_request(self, frame: frames.Request, now: float, hops: int) -> None:
        if frame.responder != self.node:
            return  # addressed to a neighbour: its answer will serve us too
        for prefix in frame.prefixes:
            item = self.held.with_prefix(prefix)
            if item is not None:
                self.stats.answers += 1
                due = now + self.rng.uniform(0, self.config.answer_delay)
                self.outbox.push(item.judgement.id, item.raw, item.judgement.priority, due, hops)
        if frame.before and ("summary", frame.before.to_bytes(8, "big")) not in self.outbox:
            page = self.held.page(frame.before, now).encode()
            due = now + self.rng.uniform(0.2, self.config.answer_delay)
            self.outbox.add(
                ("summary", frame.before.to_bytes(8, "big")), _Pending(due, [page], 0, hops)
            )

    def _on_summary(
        self, frame: frames.Summary, sender: int, now: float, hops: int, mine: frames.Beacon
    ) -> None:
        theirs = set(frame.prefixes)
        full = len(frame.prefixes) >= self.config.summary_size
        floor = frame.low if full else 0
        lacking = [p for p in frame.prefixes if self._lacks(p)]
        they_lack = [
            item
            for item in self.held.sync_set(now)
            if floor <= item.key < frame.before
            and item.judgement.id[: frames.PREFIX_LEN] not in theirs
        ]
        if they_lack and not self._already_handled(sender, frame.digest, mine.digest, now):
            self._mark_inconsistent(now, sender)  # our next Trickle firing shows our summary
        # Does their set reach further below this page than ours does?  Counted with what we
        # hold but have not settled yet, so a node that just caught up does not walk pages.
        holding = len(self.held)
        unsettled = holding - mine.count
        below = (
            full
            and frame.low
            and (frame.count > holding or (frame.count == holding and not unsettled))
        )
        asking = {p for p, t in self.requested.items() if t > now}
        for key in self.outbox.requests():
            request = frames.parse(self.outbox.jobs[key].packets[0])
            asking.update(request.prefixes if isinstance(request, frames.Request) else ())
        asked = sum(1 for p in asking if self._lacks(p) and p not in lacking)
        gap = frame.count - holding - len(lacking) - asked  # beyond this page, us and our asks
        # a gap below a page we mostly hold is scattered: a sketch finds it, pages would not
        scattered = full and gap > 0 and 2 * len(lacking) < len(frame.prefixes)
        if scattered:
            self._sketch(sender, gap, now, hops)
        if lacking:
            more = frame.low if full and gap > 0 and not scattered else 0
            wanted = tuple(lacking[: frames.MAX_LISTED])
            self._request(frames.Request(sender, more, wanted), now, hops)
        elif not they_lack and below and not scattered:
            self._request(frames.Request(sender, frame.low, ()), now, hops)

    def _sketch(self, sender: int, gap: int, now: float, hops: int) -> None:
        """Send the sketch of what we hold to ``sender``, in enough parts for ``gap`` missing
        ids; one round at a time (answers to it keep the round open, see :meth:`arrived`)."""
        if now < self.sketch_quiet_until or ("sketch", b"") in self.outbox:
            return
        parts = sketch.parts_for(gap)
        held = [
            ident[: frames.PREFIX_LEN] for ident in self.held.items if self.held.live(ident, now)
        ]
        count = min(len(held), 0xFFFF)  # as the frame carries it: the cells' salt
        packets = [
            frames.Sketch(
                sender, count, part, parts, tuple(sketch.table(held, part, parts, count))
            ).encode()
            for part in range(parts)
        ]
        due = now + self.rng.uniform(0.2, self.config.answer_delay)
        self.outbox.add(("sketch", b""), _Pending(due, packets, 0, hops))
        self.sketch_quiet_until = due + self.config.retry_after

    def _on_sketch(self, frame: frames.Sketch, sender: int, now: float, hops: int) -> None:
        """A neighbour's sketch addressed to us: push what it lacks, ask for what we lack."""
        if frame.responder != self.node or len(frame.cells) != sketch.CELLS:
            return
        held = [
            ident[: frames.PREFIX_LEN] for ident in self.held.items if self.held.live(ident, now)
        ]
        mine = sketch.table(held, frame.part, frame.parts, frame.count)
        mix = sketch.salt(frame.part, frame.parts, frame.count)
        ours, theirs, _ = sketch.difference(mine, list(frame.cells), mix)
        for prefix in sorted(ours):
            item = self.held.with_prefix(prefix)
            if item is not None:
                self.stats.answers += 1
                due = now + self.rng.uniform(0, self.config.answer_delay)
                self.outbox.push(item.judgement.id, item.raw, item.judgement.priority, due, hops)
        wanted = tuple(p for p in sorted(theirs) if self._lacks(p))
        if wanted:
            self._request(frames.Request(sender, 0, wanted[: frames.MAX_LISTED]), now, hops)

    def _settling(self, theirs: bytes, mine: bytes, now: float) -> bool:
        """The two digests differ only by bulletins that both nodes may hold but joined the sync
        sets at different times (each node settles a bulletin ``settle`` seconds after it got
        it, and relays reach neighbours seconds apart): no difference worth a summary.  The
        digest is an XOR, so it is enough that some subset of our bulletins held within the
        last ``settle + FLUX`` seconds XORs to the difference.  A neighbour that truly lacks
        one of them is answered once it is older than that."""
        target = int.from_bytes(theirs, "big") ^ int.from_bytes(mine, "big")
        reach = {0}
        for item in self.held.recent(now - self.config.settle - FLUX)[:MAX_FLUX]:
            part = int.from_bytes(item.judgement.id[:4], "big")
            reach |= {r ^ part for r in reach}
        return target in reach

    def _mark_inconsistent(self, now: float, peer: int, summary: bool = True) -> None:
        if summary:
            self.inconsistent = True
            self.owed.add(peer)
        if not self.meter.busy(now):  # on a busy channel catch-up waits for the Trickle pace
            self.trickle.reset(now)

    def _request(self, request: frames.Request, now: float, hops: int) -> None:
        """Ask one neighbour; one request in flight, at most one per ``request_interval``.

        A newer summary replaces the pending request's content but never postpones it: summaries
        heard more often than requests may go out must not starve the request."""
        stale = {k: self.outbox.pop(k) for k in self.outbox.requests()}
        due = min(
            (job.due for k, job in stale.items() if job is not None and k[0] == "request"),
            default=None,
        )  # a retry's time is no reason to hold back a request for other ids
        if due is None:
            due = max(now + self.rng.uniform(0.2, self.config.answer_delay), self.last_request)
            if self.meter.busy(now):
                due += self.rng.uniform(self.config.imin, 2 * self.config.imin)
        tag = request.prefixes[0] if request.prefixes else request.before.to_bytes(8, "big")
        self.outbox.add(("request", tag), _Pending(due, [request.encode()], 0, hops))

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
        while len(self.seen_mismatch) > MAX_MISMATCHES:
            self.seen_mismatch.popitem(last=False)
        return False

    def _lacks(self, prefix: bytes) -> bool:
        """An id prefix neither held nor refused."""
        return self.held.ident(prefix) is None and prefix not in self.refusals.prefixes
