"""Judging bulletins for the sync engine without a database (simulator, tests, light nodes).

The daemon judges through relay.ingest (SQLite); this judge keeps the same trust state in memory
and applies the same decode -> verify -> trust rules, so simulated nodes behave like real ones.
"""

from __future__ import annotations

from relay import vocabulary
from relay.lifetime import expires_at, is_expired
from relay.sync.engine import Judge, Judgement, SyncEngine
from relay.sync.events import PacketReceived, SendPacket
from relay.trust import Status, TrustState, evaluate
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import Content, Kind


def priority_of(content: Content) -> int:
    """Transmit priority: revocations > safety by severity > corrections > keys > news."""
    if content.kind is Kind.REVOCATION:
        return vocabulary.PRIORITY_REVOCATION
    if content.kind is Kind.SAFETY and content.safety is not None:
        return vocabulary.safety_priority(content.safety.severity)
    if content.kind in (Kind.CORRECTION, Kind.RETRACTION):
        return vocabulary.PRIORITY_CORRECTION
    if content.kind in (Kind.CERTIFICATE, Kind.ANNOUNCEMENT):
        return vocabulary.PRIORITY_KEYS
    return vocabulary.PRIORITY_NEWS


def judgement_for(
    bulletin: wire.Bulletin, status: Status, expiry: float | None, now: float
) -> Judgement:
    """The sync engine's view of a judged bulletin (``pending_key``: not verified yet)."""
    relayable = status is Status.TRUSTED and not is_expired(expiry, now)
    content = bulletin.content
    verified = status is not Status.PENDING_KEY
    return Judgement(
        bulletin.id,
        relayable,
        priority_of(content),
        content.created,
        expiry,
        content.author,
        verified,
    )


class MemoryJudge:
    """decode -> verify -> trust with an in-memory :class:`TrustState`; counts rejections.

    It holds nothing, so a pending bulletin is simply not relayable and not verified: the engine
    judges the next copy again. Untrusted key material is bounded by ``TrustState``'s budget.
    """

    def __init__(self, state: TrustState) -> None:
        self.state = state
        self.rejected = 0

    def __call__(self, raw: bytes, now: float, event: PacketReceived | None) -> Judgement | None:
        try:
            bulletin = wire.decode(raw)
        except WireError:
            self.rejected += 1
            return None
        public_key = self.state.public_key(bulletin)
        signature_ok = None if public_key is None else wire.verify(bulletin, public_key)
        if signature_ok:
            self.state.learn(bulletin)
        verdict = evaluate(self.state, bulletin, signature_ok, now)
        if verdict.status is Status.INVALID:
            self.rejected += 1
            return None
        content = bulletin.content
        return judgement_for(
            bulletin, verdict.status, expires_at(content.created, content.lifetime, now), now
        )


def receive_judged(
    engine: SyncEngine, judge: Judge, event: PacketReceived, now: float
) -> list[SendPacket]:
    """Receive a frame and answer its candidate with ``judge`` (tests and benchmarks)."""
    step = engine.receive(event, now)
    if step.candidate is None:
        return step.sends
    verdict = judge(step.candidate.raw, now, step.candidate.event)
    return step.sends + engine.judged(step.candidate, verdict, now)
