"""The MQTT bridge between meshes as a sans-IO state machine: what to publish, what to take in.

Its host (relay.bridge.link) feeds it broker events with the time and carries out what it returns;
it never touches a socket or a clock. Design and topics: docs/bridge.md.

Out: trusted bulletins this gateway holds (from its radio, its operators, a bundle; never ones
that came over the bridge) wait in a bounded outbox, highest priority first, and each is published
once, retained, under this gateway's own prefix ``jarshy/<net>/g/<gateway>/b/<id-hex>`` with a
message expiry of its remaining lifetime. After the broker acknowledges one it is remembered
(bounded) so that a broker that lost our state (no session on reconnect) gets them all again.

In: every message is hostile. Checked cheapest first: topic shape, size, the publisher's budget
and spam brake (per prefix, i.e. per broker client where the broker's ACL ties a prefix to a
login), dedupe by id, then parsing and the id against the topic. What passes is a :class:`Take`
that the host runs through the node's one ingest pipeline (verify, trust, store) and answers with
:meth:`BridgeCore.judged`; a publisher whose bulletins turn out trusted earns a larger budget, one
that keeps sending junk or forgeries is braked.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field

from relay.wire import bulletin as wire
from relay.wire.errors import WireError

ROOT = "jarshy"
MAX_PAYLOAD = wire.MAX_BULLETIN  # the largest bulletin 16 radio fragments carry
MAX_TOPIC = 160
MAX_EXPIRY = 30 * 86400  # seconds a bulletin without a lifetime stays retained
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_ID = re.compile(r"[0-9a-f]{16}\Z")


def valid_name(name: str) -> bool:
    """A network or gateway name: one topic level of letters, digits, ``_ . -`` (<= 64)."""
    return bool(_NAME.match(name))


@dataclass(frozen=True, slots=True)
class Budget:
    """A token bucket: ``rate`` messages per second, up to ``burst`` at once."""

    rate: float
    burst: float


@dataclass(frozen=True, slots=True)
class BridgeLimits:
    outbox: int = 512  # bulletins waiting for the broker
    remembered: int = 2000  # bulletins published, republished to a broker that lost them
    seen: int = 8192  # ids taken in or published lately (dedupe before parsing)
    publishers: int = 1024  # publishers tracked (budgets, brake); least recent forgotten
    stranger: Budget = Budget(5.0, 50.0)  # a prefix that has sent nothing trusted yet
    strangers: Budget = Budget(20.0, 200.0)  # all such prefixes together
    trusted: Budget = Budget(1000.0, 5000.0)  # a prefix that has sent trusted bulletins
    brake_after: int = 10  # junk or forged messages from one prefix before it is braked
    brake_for: float = 600.0  # seconds a braked prefix is refused unread


@dataclass(frozen=True, slots=True)
class Publish:
    """Publish ``payload`` retained on ``topic`` (QoS 1) with a message expiry of ``expiry`` s."""

    ident: bytes
    topic: str
    payload: bytes
    expiry: int


@dataclass(frozen=True, slots=True)
class Take:
    """A message that passed the bridge's checks: judge ``raw`` (ingest), then call judged()."""

    ident: bytes
    raw: bytes
    publisher: str


@dataclass(frozen=True, slots=True)
class Refuse:
    reason: str
    publisher: str | None


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing to do: a copy of what we hold, or our own message."""

    reason: str


@dataclass
class _Out:
    raw: bytes
    priority: int
    expires_at: float | None


@dataclass
class _Publisher:
    tokens: float
    at: float
    trusted: bool = False
    junk: int = 0
    braked_until: float = 0.0


@dataclass
class BridgeStats:
    sent: int = 0  # bulletins the broker acknowledged
    received: int = 0  # bulletins taken in (new to this node)
    duplicates: int = 0  # copies of bulletins already held
    rejected: int = 0  # messages refused: topic, size, budget, brake, junk, forged
    dropped: int = 0  # outbox overflow: the lowest-priority bulletin waiting let go
    reasons: dict[str, int] = field(default_factory=dict)


class BridgeCore:
    """One gateway's bridge state (see the module docstring)."""

    def __init__(self, net: str, gateway: str, limits: BridgeLimits | None = None) -> None:
        if not valid_name(net) or not valid_name(gateway):
            raise ValueError("network and gateway names are 1-64 of A-Z a-z 0-9 _ . -")
        self.net, self.gateway = net, gateway
        self.limits = limits or BridgeLimits()
        self.stats = BridgeStats()
        self._outbox: OrderedDict[bytes, _Out] = OrderedDict()
        self._flight: dict[bytes, _Out] = {}
        self._remembered: OrderedDict[bytes, _Out] = OrderedDict()
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._publishers: OrderedDict[str, _Publisher] = OrderedDict()
        self._strangers = _Publisher(self.limits.strangers.burst, 0.0)
        self._now = 0.0  # the monotonic time of the latest input

    # -- topics ----------------------------------------------------------------------------------

    @property
    def subscription(self) -> str:
        """What every gateway of the network subscribes to."""
        return f"{ROOT}/{self.net}/g/+/b/+"

    def topic(self, ident: bytes) -> str:
        return f"{ROOT}/{self.net}/g/{self.gateway}/b/{ident.hex()}"

    # -- out -------------------------------------------------------------------------------------

    def offer(self, raw: bytes, ident: bytes, priority: int, expires_at: float | None) -> bool:
        """A trusted bulletin this node holds: publish it unless it came over the bridge or is
        already on its way. False when it is not queued."""
        if ident in self._seen or ident in self._outbox or ident in self._flight:
            return False
        if ident in self._remembered or len(raw) > MAX_PAYLOAD:
            return False
        self._queue(ident, _Out(raw, priority, expires_at))
        return True

    def _queue(self, ident: bytes, item: _Out) -> None:
        self._outbox[ident] = item
        if len(self._outbox) > self.limits.outbox:  # let the lowest priority, oldest go
            lowest = min(self._outbox, key=lambda i: self._outbox[i].priority)
            del self._outbox[lowest]
            self.stats.dropped += 1

    @property
    def queued(self) -> int:
        return len(self._outbox) + len(self._flight)

    def due(self, wall: float, limit: int) -> list[Publish]:
        """Up to ``limit`` publications to make now, highest priority first (they stay ours until
        :meth:`acked`, or go back to the outbox on :meth:`disconnected`)."""
        out: list[Publish] = []
        for ident in sorted(self._outbox, key=lambda i: -self._outbox[i].priority):
            if len(out) >= limit:
                break
            item = self._outbox.pop(ident)
            expiry = _remaining(item.expires_at, wall)
            if expiry <= 0:
                continue  # expired while waiting: nobody may relay it any more
            self._flight[ident] = item
            out.append(Publish(ident, self.topic(ident), item.raw, expiry))
        return out

    def acked(self, ident: bytes) -> None:
        """The broker took a publication (PUBACK)."""
        item = self._flight.pop(ident, None)
        if item is None:
            return
        self.stats.sent += 1
        self._remembered[ident] = item
        while len(self._remembered) > self.limits.remembered:
            self._remembered.popitem(last=False)

    def disconnected(self) -> None:
        """The connection went: publications in flight wait again."""
        for ident, item in self._flight.items():
            self._outbox[ident] = item
        self._flight.clear()

    def connected(self, session_present: bool, wall: float) -> None:
        """A connection is up. A broker without our session (new, or it lost its state) gets
        every bulletin we published again (bounded by ``remembered``; expired ones forgotten)."""
        self.disconnected()
        if session_present:
            return
        for ident, item in list(self._remembered.items()):
            del self._remembered[ident]
            if _remaining(item.expires_at, wall) > 0:
                self._queue(ident, item)

    def expired(self, wall: float) -> list[str]:
        """Topics of bulletins we published that have expired since (forgotten now): a broker
        without message expiry (MQTT 3.1.1) keeps them retained until they are cleared."""
        gone = [i for i, item in self._remembered.items() if _remaining(item.expires_at, wall) <= 0]
        for ident in gone:
            del self._remembered[ident]
        return [self.topic(ident) for ident in gone]

    # -- in --------------------------------------------------------------------------------------

    def received(self, topic: str, payload: bytes, now: float) -> Take | Refuse | Skip:
        """One message from the broker (``now``: a monotonic clock for budgets)."""
        self._now = now
        levels = topic.split("/") if len(topic) <= MAX_TOPIC else []
        if (
            len(levels) != 6
            or levels[:3] != [ROOT, self.net, "g"]
            or levels[4] != "b"
            or not valid_name(levels[3])
            or not _ID.match(levels[5])
        ):
            return self._refuse("topic", None)
        publisher, ident = levels[3], bytes.fromhex(levels[5])
        if publisher == self.gateway:
            return Skip("our own")
        if not payload:
            return Skip("cleared")  # an empty retained message clears a topic
        state = self._publisher(publisher, now)
        if state.braked_until > now:
            return self._refuse("braked", publisher)
        if len(payload) > MAX_PAYLOAD:
            return self._refuse("oversized", publisher, junk=True)
        if not self._spend(state, now):
            return self._refuse("over budget", publisher)
        if ident in self._seen:
            self.stats.duplicates += 1
            return Skip("duplicate")
        try:
            envelope = wire.parse(payload)
        except WireError:
            return self._refuse("junk", publisher, junk=True)
        if envelope.id != ident:
            return self._refuse("id differs from topic", publisher, junk=True)
        return Take(ident, payload, publisher)

    def judged(self, take: Take, outcome: str, trusted: bool, now: float) -> None:
        """What the node's ingest made of a :class:`Take`: ``accepted``, ``duplicate`` or
        ``rejected``, and whether the bulletin is trusted."""
        self._now = now
        if outcome == "rejected":
            self._refuse("refused by ingest", take.publisher, junk=True)
            return
        self._remember_seen(take.ident)
        if outcome == "accepted":
            self.stats.received += 1
        else:
            self.stats.duplicates += 1
        if trusted:  # it proved itself: the trusted budget, from now on
            state = self._publisher(take.publisher, now)
            if not state.trusted:
                state.trusted, state.tokens = True, self.limits.trusted.burst

    def own(self, ident: bytes) -> None:
        """A bulletin that came over the bridge: never offered back to it."""
        self._remember_seen(ident)

    @property
    def tracked(self) -> tuple[int, int, int, int]:
        """Sizes of the bounded state: (outbox + in flight, remembered, seen, publishers)."""
        return self.queued, len(self._remembered), len(self._seen), len(self._publishers)

    # -- internals -------------------------------------------------------------------------------

    def _remember_seen(self, ident: bytes) -> None:
        self._seen[ident] = None
        self._seen.move_to_end(ident)
        while len(self._seen) > self.limits.seen:
            self._seen.popitem(last=False)

    def _publisher(self, name: str, now: float) -> _Publisher:
        state = self._publishers.get(name)
        if state is None:
            state = _Publisher(self.limits.stranger.burst, now)
            self._publishers[name] = state
            while len(self._publishers) > self.limits.publishers:
                self._publishers.popitem(last=False)
        self._publishers.move_to_end(name)
        return state

    def _spend(self, state: _Publisher, now: float) -> bool:
        """One message from ``state``'s prefix: its own bucket, and strangers share one more."""
        limits = self.limits
        budget = limits.trusted if state.trusted else limits.stranger
        _refill(state, budget, now)
        if state.tokens < 1:
            return False
        if not state.trusted:
            _refill(self._strangers, limits.strangers, now)
            if self._strangers.tokens < 1:
                return False
            self._strangers.tokens -= 1
        state.tokens -= 1
        return True

    def _refuse(self, reason: str, publisher: str | None, junk: bool = False) -> Refuse:
        stats = self.stats
        stats.rejected += 1
        stats.reasons[reason] = stats.reasons.get(reason, 0) + 1
        if junk and publisher is not None:
            state = self._publishers.get(publisher)
            if state is not None:
                state.junk += 1
                if state.junk >= self.limits.brake_after:
                    state.braked_until = self._now + self.limits.brake_for
                    state.junk, state.trusted = 0, False
        return Refuse(reason, publisher)


def _refill(state: _Publisher, budget: Budget, now: float) -> None:
    state.tokens = min(budget.burst, state.tokens + max(0.0, now - state.at) * budget.rate)
    state.at = now


def _remaining(expires_at: float | None, wall: float) -> int:
    """Seconds a bulletin stays retained: its remaining lifetime, at most ``MAX_EXPIRY``."""
    if expires_at is None:
        return MAX_EXPIRY
    return min(MAX_EXPIRY, int(expires_at - wall))
