"""The one ingest pipeline every source uses: parse -> dedupe -> verify -> trust -> store.

Radio, local API, bundle import and the CLI all call :meth:`Ingest.ingest`; nothing else writes
bulletins.  Invalid bulletins are counted and dropped, never stored or relayed.

Order of work, cheapest first, so that copies and forgeries cost little:

1. header and field map (``wire.parse``; the text stays compressed) and the id;
2. an id already *verified* is a duplicate: no signature check, no text decompression. A copy
   that fails verification, or cannot be verified yet, never consumes the id;
3. signature, with the key bound to the author's key id, then the trust verdict; a bad
   signature is rejected here, before its text is decompressed. While the key is unknown the
   bulletin is held as ``pending_key`` without consuming its id, and up to ``MAX_CANDIDATES``
   other copies' signatures wait beside it; when the key arrives each is checked and the first
   that verifies is kept;
4. untrusted rows (pending or unknown key) are admitted within relay.holding's quotas;
5. one write to the store (relay.store), the text blob kept compressed: it is decoded when
   someone reads it (docs/protocol.md §4, "When the text is checked"), never here.

Re-judging: a key bulletin changes the trust graph (relay.trust_graph) only if it chains to a
root; then only the authors whose grants or revocation changed are re-judged, found through the
author index. A newly bound key re-judges that author's pending bulletins. Re-judging runs in
slices of ``SLICE`` rows: :meth:`ingest` does one slice and returns its changes; the rest waits in
:attr:`backlog` for :meth:`rejudge` (the daemon calls it between packets) or :meth:`settle`.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum

from relay.holding import Holding
from relay.lifetime import expires_at
from relay.store import Store, StoredBulletin
from relay.sync.judge import priority_of
from relay.trust import Learned, Status, TrustState, Verdict, evaluate
from relay.trust_graph import Summary
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import Kind

KEY_KINDS = (Kind.CERTIFICATE, Kind.REVOCATION, Kind.ANNOUNCEMENT)
MAX_CANDIDATES = 4  # other copies' signatures held per pending id
SLICE = 64  # rows re-judged per slice
RULES_VERSION = "2"  # trust rules of this module; a store judged under others is re-judged
SIG = wire.SIGNATURE_LEN

Changes = tuple[tuple[bytes, Verdict], ...]
_NO_SUMMARY: dict[bytes, Summary] = {}  # "before" of a bulletin that teaches nothing


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class IngestResult:
    """What became of one candidate bulletin.

    ``bulletin`` is the decoded bulletin, or None if it does not decode. The pipeline never
    decodes a text: that happens on the first read of ``bulletin`` (None if the text is invalid);
    ``textless`` gives the rest without decoding it.
    """

    __slots__ = ("_bulletin", "_envelope", "_opened", "changed", "outcome", "reason", "verdict")

    def __init__(
        self,
        outcome: Outcome,
        reason: str,
        bulletin: wire.Bulletin | wire.Envelope | None = None,
        verdict: Verdict | None = None,
        changed: Changes = (),  # other bulletins whose verdict changed
    ) -> None:
        self.outcome = outcome
        self.reason = reason
        self.verdict = verdict
        self.changed = changed
        self._envelope = bulletin if isinstance(bulletin, wire.Envelope) else None
        self._bulletin = bulletin if isinstance(bulletin, wire.Bulletin) else None
        self._opened = False

    def __repr__(self) -> str:
        return f"IngestResult({self.outcome!s}, {self.reason!r}, id={_hex(self.id)})"

    @property
    def bulletin(self) -> wire.Bulletin | None:
        if self._bulletin is None and self._envelope is not None and not self._opened:
            self._opened = True  # decoded at most once, whatever it gives
            try:
                self._bulletin = wire.open_text(self._envelope)
            except WireError:
                self._bulletin = None
        return self._bulletin

    @property
    def textless(self) -> wire.Bulletin | None:
        """The bulletin without decoding its text (``text`` is ""): for verdicts and expiry."""
        if self._envelope is not None:
            return self._envelope.textless()
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
    holding: Holding | None = None
    _dirty: OrderedDict[bytes, bytes] = field(default_factory=OrderedDict)  # author -> after id
    _sweep: bytes | None = None  # re-judging every row: the id to continue after
    _summary: dict[bytes, Summary] | None = None

    def __post_init__(self) -> None:
        if self.holding is None:
            self.holding = Holding(self.store)
        for key_id, public_key, name in self.store.roots():
            self.state.add_root(key_id, public_key, name)
        for key_id, public_key in self.store.known_keys():
            self.state.bind_key(key_id, public_key)
        for raw in self.store.key_bulletins():
            # Stored, so valid; keys are learnt from fields alone: no need to decode the text.
            bulletin = wire.parse(raw).textless()
            if self._signature_ok(bulletin):
                self.state.learn(bulletin)
        if self.store.meta("trust_rules") != RULES_VERSION:
            self._sweep = b""  # verdicts stored under older rules: judge everything again
            self._holding.adopt()  # and rows kept before quotas existed are counted in them

    @property
    def backlog(self) -> bool:
        """True while some verdicts still wait to be re-judged."""
        return bool(self._dirty) or self._sweep is not None

    def ingest(
        self,
        raw: bytes,
        now: float,
        source: str,
        hops: int | None = None,
        snr: float | None = None,
        origin: str | None = None,
    ) -> IngestResult:
        """Run one candidate bulletin through the whole pipeline (order: module docstring)."""
        try:
            envelope = wire.parse(raw)
        except WireError as exc:
            self.rejected[exc.code] += 1
            return IngestResult(Outcome.REJECTED, str(exc))
        seen, held_row = self.store.lookup(envelope.id)
        if seen:
            return IngestResult(Outcome.DUPLICATE, "already held", envelope)
        textless = envelope.textless()  # key lookup and verdict never read the text
        signature_ok = self._signature_ok(textless)
        verdict = evaluate(self.state, textless, signature_ok, now)
        if verdict.status is Status.INVALID:  # a forgery costs no look into the store
            self.rejected["bad-signature"] += 1
            return IngestResult(Outcome.REJECTED, verdict.reason, envelope, verdict)
        # Only a pending copy can be held unseen; it is read only if there is one.
        held = self.store.get(envelope.id) if held_row else None
        if signature_ok is None and held is not None:
            return self._candidate(envelope, held)
        bulletin = textless  # the text is decoded when read (docs/protocol.md §4), never here
        learned, before = Learned(), _NO_SUMMARY
        if signature_ok and bulletin.kind in KEY_KINDS:  # only key bulletins teach anything
            before = self._graph_summary(now)
            learned = self.state.learn(bulletin)
        if learned:
            verdict = evaluate(self.state, bulletin, signature_ok, now)
        if verdict.status in (Status.PENDING_KEY, Status.UNKNOWN_KEY):
            priority = priority_of(bulletin.content)
            if not self._admit(origin or source, priority, len(raw)):
                if learned:
                    self.state.forget(bulletin.id)
                return IngestResult(Outcome.REJECTED, "untrusted quota full", envelope, verdict)
        if held is not None:
            self.store.delete(held.id)  # a pending copy: this one verified, it takes its place
        content = bulletin.content
        expiry = expires_at(content.created, content.lifetime, now)
        verified = signature_ok is True
        self.store.put(bulletin, verdict, now, expiry, source, hops, snr, verified, text_read=False)
        if verdict.status in (Status.PENDING_KEY, Status.UNKNOWN_KEY):
            size, priority = len(raw), priority_of(content)
            self._holding.hold(bulletin.id, origin or source, priority, size, now)
        self._note_learned(learned, before, now)
        changed = self.rejudge(now, SLICE) if self.backlog else ()
        return IngestResult(Outcome.ACCEPTED, verdict.reason, envelope, verdict, changed)

    def _candidate(self, envelope: wire.Envelope, held: StoredBulletin) -> IngestResult:
        """Another copy of a bulletin held while its key is unknown: keep its signature aside."""
        signature = envelope.raw[-SIG:]
        if signature == held.raw[-SIG:]:
            return IngestResult(Outcome.DUPLICATE, "already held", envelope)
        if self._holding.add_candidate(envelope.id, signature, MAX_CANDIDATES):
            why = "held beside another copy until the author's key arrives"
        else:
            why = f"already holding {MAX_CANDIDATES} candidate copies"
        return IngestResult(Outcome.DUPLICATE, why, envelope)

    def _admit(self, origin: str, priority: int, size: int) -> bool:
        assert self.holding is not None
        evicted = self.holding.admit(origin, priority, size)
        if evicted is None:
            self.rejected["untrusted-quota"] += 1
            return False
        for ident in evicted:
            self.state.forget(ident)
        return True

    # -- operator actions --------------------------------------------------------------------

    def add_root(self, public_key: bytes, name: str, now: float, settle: bool = True) -> Changes:
        """Trust ``public_key`` as a root, re-judge from scratch; return verdicts that changed."""
        from relay.crypto.keys import key_id

        kid = key_id(public_key)
        self.store.add_root(kid, public_key, name, now)
        self.state.add_root(kid, public_key, name)
        self._sweep, self._summary = b"", None
        return self.settle(now) if settle else self.rejudge(now, SLICE)

    def remove_root(self, key_id: bytes, now: float, settle: bool = True) -> Changes:
        removed = self.store.remove_root(key_id)
        self.state.remove_root(key_id)
        if not removed:
            return ()
        self._sweep, self._summary = b"", None
        return self.settle(now) if settle else self.rejudge(now, SLICE)

    def learn_key(self, public_key: bytes, now: float, settle: bool = True) -> Changes:
        """Remember a public key (e.g. imported from a share string) without trusting it."""
        from relay.crypto.keys import key_id

        kid = key_id(public_key)
        if self.state.keys.get(kid, public_key) != public_key:
            return ()  # the id is bound to another key already: never re-bound
        self.store.add_key(kid, public_key, now)
        if self.state.bind_key(kid, public_key):
            self._dirty.setdefault(kid, b"")
        return self.settle(now) if settle else self.rejudge(now, SLICE)

    def expire_untrusted(self, now: float) -> int:
        """Drop pending bulletins held past relay.holding.PENDING_TTL; how many."""
        assert self.holding is not None
        gone = self.holding.expired(now)
        return len(gone)

    # -- re-judging --------------------------------------------------------------------------

    def reevaluate(self, now: float) -> Changes:
        """Re-judge every stored bulletin (after a change of rules); return the changes."""
        self._sweep = b""
        return self.settle(now)

    def settle(self, now: float) -> Changes:
        """Run every waiting re-judgement now (CLI and tests; the daemon uses slices)."""
        changes: dict[bytes, Verdict] = {}
        while self.backlog:
            changes.update(self.rejudge(now, SLICE))
        return tuple(changes.items())

    def rejudge(self, now: float, limit: int = SLICE) -> Changes:
        """Re-judge at most about ``limit`` waiting rows; return the verdicts that changed."""
        changes: dict[bytes, Verdict] = {}
        budget = limit
        while budget > 0 and self._dirty:
            author, after = next(iter(self._dirty.items()))
            rows = self.store.by_author(author, after, budget)
            if len(rows) < budget:
                self._dirty.pop(author, None)
            else:
                self._dirty[author] = rows[-1].id
            budget -= max(1, len(rows))
            for row in rows:
                self._judge_row(row, now, changes)
        while budget > 0 and self._sweep is not None:
            rows = self.store.page_after(self._sweep, budget)
            budget -= max(1, len(rows))
            if rows:
                self._sweep = rows[-1].id
            else:
                self._sweep = None
                self.store.set_meta("trust_rules", RULES_VERSION)
            for row in rows:
                self._judge_row(row, now, changes)
        return tuple(changes.items())

    def _judge_row(self, row: StoredBulletin, now: float, changes: dict[bytes, Verdict]) -> None:
        if row.status is Status.INVALID:
            return
        textless = wire.parse(row.raw).textless()
        signature_ok: bool | None = True  # stored verified: its key is never re-bound
        if row.status is Status.PENDING_KEY:
            signature_ok = self._verify_held(row, textless, now)
            if signature_ok is False:
                changes[row.id] = Verdict(
                    Status.INVALID, "no held copy's signature matches the author's key"
                )
                return
            if signature_ok:
                textless = wire.parse(self.store.get(row.id).raw).textless()  # type: ignore[union-attr]
        before = self._graph_summary(now)
        learned = Learned()
        if signature_ok and row.kind in KEY_KINDS:
            learned = self.state.learn(textless)
        verdict = evaluate(self.state, textless, signature_ok, now)
        self._note_learned(learned, before, now)
        if verdict.status is Status.TRUSTED:
            self._holding.release(row.id)
        if (verdict.status, verdict.reason) != (row.status, row.reason):
            self.store.set_verdict(row.id, verdict)
            changes[row.id] = verdict

    def _verify_held(self, row: StoredBulletin, textless: wire.Bulletin, now: float) -> bool | None:
        """Check a pending row's copies once its key is known; keep the first that verifies."""
        public_key = self.state.public_key(textless)
        if public_key is None:
            return None
        body = row.raw[:-SIG]
        candidates = self._holding.candidates(row.id)
        for signature in [row.raw[-SIG:], *candidates]:
            copy = wire.parse(body + signature).textless()
            if wire.verify(copy, public_key):
                if signature != row.raw[-SIG:]:
                    self.store.replace_raw(row.id, body + signature)
                self._holding.drop_candidates(row.id)
                self.store.mark_seen(row.id, now)
                return True
        self.rejected["bad-signature"] += 1 + len(candidates)
        self.store.delete(row.id)
        return False

    @property
    def _holding(self) -> Holding:
        assert self.holding is not None
        return self.holding

    def _graph_summary(self, now: float) -> dict[bytes, Summary]:
        if self._summary is None:
            self._summary = self.state.graph(now).summary()
        return self._summary

    def _note_learned(self, learned: Learned, before: dict[bytes, Summary], now: float) -> None:
        """Queue the authors whose verdicts ``learned`` can change."""
        if learned.keyed is not None:
            self._dirty.setdefault(learned.keyed, b"")
        if not learned.graph:
            return
        after = self.state.graph(now).summary()
        self._summary = after
        for key in set(before) | set(after):
            if before.get(key) != after.get(key):
                self._dirty.setdefault(key, b"")

    def _signature_ok(self, bulletin: wire.Bulletin) -> bool | None:
        public_key = self.state.public_key(bulletin)
        if public_key is None:
            return None
        return wire.verify(bulletin, public_key)
