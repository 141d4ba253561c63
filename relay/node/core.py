"""One node's protocol state, driven by its host: frames in, packets and notices out.

The node core owns what a Jarshy node decides — the ingest pipeline with its trust state, the sync
engine, the spam brake's decisions, re-judging after key material arrives, the delivery state of
its own bulletins — and none of the I/O. Its host (the daemon; a test in virtual time) calls
:meth:`receive`, :meth:`tick`, :meth:`publish`, ... with the time, and carries out the returned
:class:`Output`: packets to transmit, notices for readers, radios to ignore. It never sleeps and
reads no clock.

Two times come in: ``now``, a monotonic clock that every timer runs on (Trickle, pending sends,
budgets, quarantine windows, and the engine's view of expiry), and ``wall``, the clock that signed
timestamps, stored receive times and lifetimes are judged against. A wall clock set back or forward
by days (GPS, a phone, no NTP) then neither stalls the node's timers nor fires them all at once:
the engine only ever sees ``now``, and an expiry judged on the wall clock enters it as the same
distance from ``now``. Without ``wall`` (tests, the simulator) both are ``now``.

Judging is an input/output pair of the engine: ``engine.receive`` returns the bulletin it wants
judged (a :class:`~relay.sync.types.Candidate`), the core judges it (ingest -> store -> notice) and
answers ``engine.judged``; the engine is never re-entered and holds no callback.

The store is a synchronous SQLite port (relay.store): the one piece of the node that is not pure.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from relay.ingest import Changes, Ingest, IngestResult, Outcome
from relay.lifetime import expires_at
from relay.store import Store
from relay.sync import frames
from relay.sync.engine import Judgement, SyncConfig, SyncEngine
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.judge import judgement_for
from relay.trust import Status, Verdict
from relay.wire import bulletin as wire
from relay.wire.fields import Kind
from relay.wire.fragments import carried_id

log = logging.getLogger("jarshy.node")

TEXTS_PER_SLICE = 32  # texts read per background slice (about 8 ms here, more on a Pi)


@dataclass
class Delivery:
    """Honest delivery state of a bulletin this node published."""

    state: str = "queued"  # queued -> sent -> heard -> held
    held_by: set[int] = field(default_factory=set)

    def as_dict(self, ident: bytes) -> dict[str, object]:
        return {"id": ident.hex(), "delivery": self.state, "held_by": len(self.held_by)}


@dataclass(frozen=True, slots=True)
class BulletinHeld:
    """A bulletin entered the store (new, or a verified copy took a held one's place)."""

    id: bytes


@dataclass(frozen=True, slots=True)
class VerdictChanged:
    id: bytes
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class ForgeryHeard:
    """A bulletin refused on its own evidence (a bad signature): never stored."""

    heard: IngestResult
    reason: str
    at: float
    hops: int | None
    snr: float | None

    @property
    def bulletin(self) -> wire.Bulletin:
        """The forgery, its text decoded now (shown empty if it does not decode)."""
        bulletin = self.heard.bulletin or self.heard.textless
        assert bulletin is not None  # a ForgeryHeard is made only for a bulletin that parsed
        return bulletin


@dataclass(frozen=True, slots=True)
class DeliveryChanged:
    id: bytes
    delivery: Delivery


Notice = BulletinHeld | VerdictChanged | ForgeryHeard | DeliveryChanged


@dataclass
class Output:
    """What the host carries out: transmit ``sends``, tell readers ``notices``, ignore radios."""

    sends: list[SendPacket] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    ignores: list[tuple[int, float]] = field(default_factory=list)  # (radio, seconds)

    def extend(self, other: Output) -> Output:
        self.sends.extend(other.sends)
        self.notices.extend(other.notices)
        self.ignores.extend(other.ignores)
        return self


class Rejected(Exception):
    """A local publication this node's own pipeline refuses (with the reason)."""


class NodeCore:
    """Ingest, trust, sync engine and deliveries of one node (see module docstring)."""

    def __init__(
        self, store: Store, config: SyncConfig | None = None, seed: int = 0, node: int = 0
    ) -> None:
        self.store = store
        self.ingest = Ingest(store)
        self.engine = SyncEngine(config, seed=seed, node=node)
        self.deliveries: dict[bytes, Delivery] = {}
        self._notices: list[Notice] = []
        self._shared_graph: object = None
        self._wall_ahead = 0.0  # wall - now at the latest input

    def _clocks(self, now: float, wall: float | None) -> float:
        """Remember how far the wall clock is from the monotonic one; return the wall time."""
        self._wall_ahead = 0.0 if wall is None else wall - now
        return now + self._wall_ahead

    def _for_engine(self, judgement: Judgement) -> Judgement:
        """The judgement with its expiry moved from the wall clock to the monotonic one."""
        if judgement.expires_at is None or not self._wall_ahead:
            return judgement
        return replace(judgement, expires_at=judgement.expires_at - self._wall_ahead)

    # -- inputs --------------------------------------------------------------------------------

    def load(self, now: float, wall: float | None = None) -> None:
        """Hold the trusted bulletins the store kept (at start)."""
        wall = self._clocks(now, wall)
        for row in self.store.by_status((Status.TRUSTED,)):
            bulletin = wire.parse(row.raw).textless()
            judgement = judgement_for(bulletin, row.status, row.expires_at, wall)
            self.engine.add(row.raw, self._for_engine(judgement))
        self._share_alert_authors(wall)

    def link_up(self, node_num: int, role: str | None) -> None:
        """The radio said who it is (its node number is never a spam suspect) and its role."""
        self.engine.node = node_num
        self.engine.set_radio_role(role)

    def receive(self, event: PacketReceived, now: float, wall: float | None = None) -> Output:
        """A frame the radio heard."""
        self._clocks(now, wall)
        self._track_delivery(event)
        step = self.engine.receive(event, now)
        sends = step.sends
        if step.candidate is not None:
            judgement = self._judge(step.candidate.raw, now, step.candidate.event)
            sends += self.engine.judged(step.candidate, judgement, now)
        return self._output(sends)

    def tick(self, now: float, wall: float | None = None) -> Output:
        self._clocks(now, wall)
        return self._output(self.engine.tick(now))

    def next_deadline(self) -> float | None:
        return self.engine.next_deadline()

    def publish(self, raw: bytes, now: float, wall: float | None = None) -> tuple[bytes, Output]:
        """One of our own bulletins: ingest it, hand it to the engine; raises Rejected."""
        mono, now = now, self._clocks(now, wall)  # from here on ``now`` is the wall clock
        result = self.ingest.ingest(raw, now, "local")
        bulletin = result.textless
        if result.outcome is Outcome.REJECTED or bulletin is None:
            raise Rejected(result.reason)
        content = bulletin.content
        expiry = expires_at(content.created, content.lifetime, now)
        status = result.verdict.status if result.verdict is not None else Status.TRUSTED
        # Our own bulletins go out whatever our own trust roots say: readers decide.
        judgement = judgement_for(
            bulletin, Status.TRUSTED if status is not Status.REVOKED else status, expiry, now
        )
        self.deliveries[bulletin.id] = Delivery()
        judgement = self._for_engine(judgement)
        sends = self.engine.publish(raw, judgement, mono) if judgement.relayable else []
        self._notices.append(BulletinHeld(bulletin.id))
        self._apply(result.changed, now)
        return bulletin.id, self._output(sends)

    def taken_in(self, result: IngestResult, now: float, wall: float | None = None) -> Output:
        """A bulletin ingested from a bundle: held by the engine if relayable, readers told."""
        wall = self._clocks(now, wall)
        bulletin = result.textless
        row = None if bulletin is None else self.store.get(bulletin.id)
        if bulletin is not None and row is not None:
            judgement = judgement_for(bulletin, row.status, row.expires_at, wall)
            self.engine.add(row.raw, self._for_engine(judgement), now)
            self._notices.append(BulletinHeld(bulletin.id))
        return self.changed(result.changed, now, wall)

    def bridged(
        self, raw: bytes, origin: str, now: float, wall: float | None = None
    ) -> tuple[IngestResult, Output]:
        """A bulletin from the MQTT bridge (``origin``: its publisher): the same ingest as the
        radio's (untrusted quotas per origin). A trusted one is new to this mesh: it goes out on
        the radio at once, with an originator's hop limit, as if published here."""
        wall = self._clocks(now, wall)
        result = self.ingest.ingest(raw, wall, "bridge", origin=origin)
        bulletin = result.textless
        if result.outcome is not Outcome.ACCEPTED or bulletin is None:
            if result.outcome is Outcome.REJECTED:
                log.info("rejected a bulletin from the bridge (%s): %s", origin, result.reason)
            return result, self._output([])
        sends: list[SendPacket] = []
        row = self.store.get(bulletin.id)
        if row is not None:
            judgement = judgement_for(bulletin, row.status, row.expires_at, wall)
            if judgement.relayable:
                sends = self.engine.publish(row.raw, self._for_engine(judgement), now)
            self._notices.append(BulletinHeld(bulletin.id))
        self._apply(result.changed, wall)
        return result, self._output(sends)

    def changed(self, changes: Changes, now: float, wall: float | None = None) -> Output:
        """Verdicts that changed outside :meth:`receive` (roots added or removed, imports)."""
        self._apply(changes, self._clocks(now, wall))
        return self._output([])

    def sent(self, ident: bytes) -> Output:
        """The radio took one of our packets for ``ident``."""
        delivery = self.deliveries.get(ident)
        if delivery is not None and delivery.state == "queued":
            delivery.state = "sent"
            self._notices.append(DeliveryChanged(ident, delivery))
        return self._output([])

    def heard(self, ident: bytes) -> Output:
        """The radio heard a neighbour relay one of our packets for ``ident`` (its implicit ACK):
        the delivery moves from queued or sent to "heard" (never back from "held")."""
        delivery = self.deliveries.get(ident)
        if delivery is not None and delivery.state in ("queued", "sent"):
            delivery.state = "heard"
            self._notices.append(DeliveryChanged(ident, delivery))
        return self._output([])

    @property
    def backlog(self) -> bool:
        """Background work waits — verdicts to re-judge, texts to read for search: call
        :meth:`rejudge` soon (between packets)."""
        return self.ingest.backlog or self.store.unread

    def rejudge(self, now: float, wall: float | None = None) -> Output:
        """One bounded slice of background work: re-judging (relay.ingest) first, then reading
        texts that no one has read yet, so that search finds them (docs/protocol.md §4)."""
        wall = self._clocks(now, wall)
        if self.ingest.backlog:
            self._apply(self.ingest.rejudge(wall), wall)
        else:
            self.store.read_texts(TEXTS_PER_SLICE)
        return self._output([])

    def expire_untrusted(self, wall: float) -> int:
        return self.ingest.expire_untrusted(wall)

    # -- judging: the engine's candidate in, its verdict out -----------------------------------

    def _judge(self, raw: bytes, now: float, event: PacketReceived) -> Judgement | None:
        """Judge a candidate: ``now`` is the engine's (monotonic) clock; ingest is on the wall."""
        now += self._wall_ahead
        hops, snr, origin = event.hops, event.snr, f"radio:!{event.sender:08x}"
        result = self.ingest.ingest(raw, now, "radio", hops, snr, origin=origin)
        bulletin = result.textless
        if result.outcome is Outcome.REJECTED or bulletin is None:
            log.info("rejected a bulletin from the radio: %s", result.reason)
            if result.textless is not None:  # the forgery's text is decoded only if shown
                self._notices.append(ForgeryHeard(result, result.reason, now, hops, snr))
            return None
        row = self.store.get(bulletin.id)
        if row is None:
            return None
        if result.outcome is Outcome.ACCEPTED:
            self._notices.append(BulletinHeld(row.id))
        self._apply(result.changed, now)
        return self._for_engine(judgement_for(bulletin, row.status, row.expires_at, now))

    # -- internals -----------------------------------------------------------------------------

    def _apply(self, changes: Iterable[tuple[bytes, Verdict]], wall: float) -> None:
        self._share_alert_authors(wall)
        for ident, verdict in changes:
            self._notices.append(VerdictChanged(ident, verdict))
            row = self.store.get(ident)
            if row is not None and verdict.status is Status.TRUSTED:
                bulletin = wire.parse(row.raw).textless()
                judgement = judgement_for(bulletin, verdict.status, row.expires_at, wall)
                self.engine.add(row.raw, self._for_engine(judgement), wall - self._wall_ahead)

    def _share_alert_authors(self, now: float) -> None:
        """Tell the engine whose safety alerts to judge even while strangers flood the channel."""
        graph = self.ingest.state.graph(now)
        if graph is not self._shared_graph:
            self._shared_graph = graph
            self.engine.alert_authors = frozenset(
                key for key, grants in graph.grants.items() if int(Kind.SAFETY) in grants
            )

    def _output(self, sends: list[SendPacket]) -> Output:
        notices, self._notices = self._notices, []
        return Output(list(sends), notices, self.engine.drain_ignores())

    def _track_delivery(self, event: PacketReceived) -> None:
        """Learn from what we hear whether our own bulletins travel: heard, held by N stores."""
        ident = carried_id(event.payload)
        if ident is not None and ident in self.deliveries:
            delivery = self.deliveries[ident]
            if delivery.state in ("queued", "sent"):
                delivery.state = "heard"
                self._notices.append(DeliveryChanged(ident, delivery))
            return
        if event.payload[:1] != bytes([frames.SUMMARY]):
            return
        with contextlib.suppress(Exception):  # a neighbour's garbage is not our error
            summary = frames.parse(event.payload)
            assert isinstance(summary, frames.Summary)
            for own, delivery in self.deliveries.items():
                if own[: frames.PREFIX_LEN] in summary.prefixes and event.sender not in (
                    delivery.held_by
                ):
                    delivery.held_by.add(event.sender)
                    delivery.state = "held"
                    self._notices.append(DeliveryChanged(own, delivery))
