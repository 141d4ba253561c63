"""The one ingest pipeline every source uses: parse -> dedupe -> verify -> trust -> text -> store.

Radio, local API, bundle import and the CLI all call :meth:`Ingest.ingest`; nothing else writes
bulletins.  Invalid bulletins are counted and dropped, never stored or relayed.  When a key,
certificate or revocation arrives, earlier verdicts are re-evaluated and the changes returned.

Order of work, cheapest first, so that copies and forgeries cost little:

1. header and field map (``wire.parse``; the text stays compressed) and the id;
2. an id already stored is a duplicate: no signature check, no text decompression;
3. signature, with the key the trust state holds for the author, then the trust verdict; a bad
   signature is rejected here, before its text is decompressed;
4. the text (``wire.open_text``: decompression and the kind rules). Every bulletin that is kept
   gets here, pending-key ones included: they are stored, shown and re-judged when their key
   arrives, so their text must be valid and decoded now. A text that does not decode rejects
   the bulletin with its own reason (``bad-text``, ``bad-fields``); it is never stored.

A rejected forgery and a duplicate still come back with their bulletin (the daemon shows recent
forgeries and tells the sync engine about copies), but decoded only when the caller reads
:attr:`IngestResult.bulletin`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from relay.lifetime import expires_at
from relay.store import Store
from relay.trust import Status, TrustState, Verdict, evaluate
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import Kind

KEY_KINDS = (Kind.CERTIFICATE, Kind.REVOCATION, Kind.ANNOUNCEMENT)


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class IngestResult:
    """What became of one candidate bulletin.

    ``bulletin`` is the decoded bulletin, or None if it does not decode. For a duplicate or a
    forgery the pipeline did not decode its text: that happens on the first read of ``bulletin``
    (and gives None if the text is invalid).
    """

    __slots__ = ("_bulletin", "_envelope", "changed", "outcome", "reason", "verdict")

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        bulletin: wire.Bulletin | wire.Envelope | None = None,
        verdict: Verdict | None = None,
        changed: tuple[tuple[bytes, Verdict], ...] = (),  # other bulletins whose verdict changed
    ) -> None:
        self.outcome = outcome
        self.reason = reason
        self.verdict = verdict
        self.changed = changed
        self._envelope = bulletin if isinstance(bulletin, wire.Envelope) else None
        self._bulletin = bulletin if isinstance(bulletin, wire.Bulletin) else None

    def __repr__(self) -> str:
        return f"IngestResult({self.outcome!s}, {self.reason!r}, id={_hex(self.id)})"

    @property
    def bulletin(self) -> wire.Bulletin | None:
        envelope = self._envelope
        if envelope is not None:
            self._envelope = None
            try:
                self._bulletin = wire.open_text(envelope)
            except WireError:
                self._bulletin = None
        return self._bulletin

    @property
    def id(self) -> bytes | None:
        if self._envelope is not None:
            return self._envelope.id
        return None if self._bulletin is None else self._bulletin.id


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


@dataclass
class Ingest:
    """Owns the in-memory trust state, rebuilt from the store at start."""

    store: Store
    state: TrustState = field(default_factory=TrustState)
    rejected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        for key_id, public_key, name in self.store.roots():
            self.state.add_root(key_id, public_key, name)
        for key_id, public_key in self.store.known_keys():
            self.state.keys.setdefault(key_id, public_key)
        for raw in self.store.key_bulletins():
            # Stored, so valid; keys are learnt from fields alone: no need to decode the text.
            bulletin = wire.parse(raw).textless()
            if self._signature_ok(bulletin):
                self.state.learn(bulletin)

    def ingest(
        self,
        raw: bytes,
        now: float,
        source: str,
        hops: int | None = None,
        snr: float | None = None,
    ) -> IngestResult:
        """Run one candidate bulletin through the whole pipeline (order: module docstring)."""
        try:
            envelope = wire.parse(raw)
        except WireError as exc:
            self.rejected[exc.code] += 1
            return IngestResult(Outcome.REJECTED, str(exc))
        if self.store.seen(envelope.id):
            return IngestResult(Outcome.DUPLICATE, "already held", envelope)
        textless = envelope.textless()  # key lookup and verdict never read the text
        signature_ok = self._signature_ok(textless)
        verdict = evaluate(self.state, textless, signature_ok, now)
        if verdict.status is Status.INVALID:
            self.rejected["bad-signature"] += 1
            return IngestResult(Outcome.REJECTED, verdict.reason, envelope, verdict)
        try:
            bulletin = wire.open_text(envelope)
        except WireError as exc:
            self.rejected[exc.code] += 1
            return IngestResult(Outcome.REJECTED, str(exc))
        learned = signature_ok is True and self.state.learn(bulletin)
        if learned:
            verdict = evaluate(self.state, bulletin, signature_ok, now)
        content = bulletin.content
        expiry = expires_at(content.created, content.lifetime, now)
        self.store.put(bulletin, verdict, now, expiry, source, hops, snr)
        changed = self.reevaluate(now) if learned else ()
        return IngestResult(Outcome.ACCEPTED, verdict.reason, bulletin, verdict, changed)

    def add_root(
        self, public_key: bytes, name: str, now: float
    ) -> tuple[tuple[bytes, Verdict], ...]:
        """Trust ``public_key`` as a root; return verdicts that changed."""
        from relay.crypto.keys import key_id

        kid = key_id(public_key)
        self.store.add_root(kid, public_key, name, now)
        self.state.add_root(kid, public_key, name)
        return self.reevaluate(now)

    def remove_root(self, key_id: bytes, now: float) -> tuple[tuple[bytes, Verdict], ...]:
        removed = self.store.remove_root(key_id)
        self.state.remove_root(key_id)
        return self.reevaluate(now) if removed else ()

    def learn_key(self, public_key: bytes, now: float) -> tuple[tuple[bytes, Verdict], ...]:
        """Remember a public key (e.g. imported from a share string) without trusting it."""
        from relay.crypto.keys import key_id

        kid = key_id(public_key)
        self.store.add_key(kid, public_key, now)
        self.state.keys.setdefault(kid, public_key)
        return self.reevaluate(now)

    def reevaluate(self, now: float) -> tuple[tuple[bytes, Verdict], ...]:
        """Re-judge every stored bulletin after the trust state changed; return the changes."""
        changes: dict[bytes, Verdict] = {}
        progress = True
        while progress:  # a newly verified certificate can unlock further bulletins
            progress = False
            for row in self.store.by_status(tuple(s for s in Status if s is not Status.INVALID)):
                bulletin = wire.parse(row.raw).textless()  # stored text: valid, not needed here
                signature_ok = self._signature_ok(bulletin)
                verdict = evaluate(self.state, bulletin, signature_ok, now)
                if signature_ok and bulletin.kind in KEY_KINDS and self.state.learn(bulletin):
                    progress = True
                if (verdict.status, verdict.reason) != (row.status, row.reason):
                    self.store.set_verdict(row.id, verdict)
                    changes[row.id] = verdict
        return tuple(changes.items())

    def _signature_ok(self, bulletin: wire.Bulletin) -> bool | None:
        public_key = self.state.public_key(bulletin)
        if public_key is None:
            return None
        return wire.verify(bulletin, public_key)
