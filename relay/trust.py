"""Trust policy (pure): who is trusted to say what, and the verdict for each bulletin.

Verdicts:
  * ``trusted``     – valid signature by a root, or by a key certified (chain of at most
                      ``MAX_CHAIN`` certificates) for this kind by a trusted, unrevoked issuer;
                      also an effective revocation of a key that was trusted (so it spreads);
  * ``unknown_key`` – valid signature, but no valid chain to a root (the reason says why);
  * ``pending_key`` – the author's public key has not arrived yet: held, re-evaluated later;
  * ``revoked``     – valid signature by a key whose revocation is in effect (relay.trust_graph);
  * ``invalid``     – bad signature or a key that does not match the author id: dropped.

Every verdict names the evidence that produced it (certificate and revocation ids). Key material
from strangers is recorded but never changes a verdict unless it chains to a root this node
trusts (relay.trust_graph); a key id, once bound to a public key, is never re-bound. Display names
come only from certificates (issuer-asserted); a self-announced name is a claim, never a trusted
name, so a new key cannot borrow a trusted author's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from relay.lifetime import FUTURE_TOLERANCE
from relay.trust_graph import MAX_CHAIN, TrustGraph, compute
from relay.trust_material import CLOCK_GRACE, Certificate, Revocation
from relay.wire.bulletin import Bulletin
from relay.wire.fields import KIND_NAMES, Kind

__all__ = [
    "CLOCK_GRACE",
    "MAX_CHAIN",
    "Certificate",
    "Revocation",
    "Status",
    "TrustState",
    "Verdict",
    "evaluate",
]

MAX_MATERIAL = 50_000  # key bulletins from keys outside the trust graph held in memory at most
MAX_EXPLAINED = 16  # certificates per subject kept to explain an untrusted verdict


class Status(StrEnum):
    TRUSTED = "trusted"
    UNKNOWN_KEY = "unknown_key"
    PENDING_KEY = "pending_key"
    REVOKED = "revoked"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ChainLink:
    """One step of a trust chain: ``key`` named ``name`` certified by ``issuer``."""

    key: bytes
    name: str
    issuer: bytes | None  # None for a root
    certificate: bytes | None = None  # id of the certificate bulletin (None for a root)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    reason: str
    chain: tuple[ChainLink, ...] = ()
    name: str | None = None  # trusted display name, from the chain
    claimed_name: str | None = None  # self-announced, unverified
    evidence: tuple[bytes, ...] = ()  # ids of the certificates / revocation behind the verdict


@dataclass(frozen=True, slots=True)
class Learned:
    """What one key bulletin taught: whether anything changed, the graph, a newly bound key."""

    changed: bool = False
    graph: bool = False  # trusted material changed: verdicts of several keys may change
    keyed: bytes | None = None  # this key id's public key became known

    def __bool__(self) -> bool:
        return self.changed


@dataclass
class TrustState:
    """Everything the policy knows: roots, public keys, certificates, revocations, claims."""

    roots: dict[bytes, tuple[bytes, str]] = field(default_factory=dict)  # kid -> (key, name)
    keys: dict[bytes, bytes] = field(default_factory=dict)  # kid -> public key, never re-bound
    claims: dict[bytes, str] = field(default_factory=dict)  # kid -> self-announced name
    certificates: dict[bytes, list[Certificate]] = field(default_factory=dict)  # by subject
    issued: dict[bytes, dict[bytes, list[Certificate]]] = field(default_factory=dict)
    self_revocations: dict[bytes, Revocation] = field(default_factory=dict)  # by revoked key
    issuer_revocations: dict[bytes, dict[bytes, Revocation]] = field(default_factory=dict)
    version: int = 0
    refused: int = 0  # key bulletins not learned: over the untrusted material budget
    _material: dict[bytes, Certificate | Revocation | bytes] = field(default_factory=dict)
    _key_source: dict[bytes, bytes] = field(default_factory=dict)  # kid -> announcing bulletin
    _graph: TrustGraph | None = None

    # -- roots and keys ----------------------------------------------------------------------

    def add_root(self, key_id: bytes, public_key: bytes, name: str) -> None:
        self.roots[key_id] = (public_key, name)
        self.keys[key_id] = public_key  # the operator's choice binds the id to this key
        self._key_source.pop(key_id, None)
        self.version += 1

    def remove_root(self, key_id: bytes) -> None:
        if self.roots.pop(key_id, None) is not None:
            self.version += 1

    def bind_key(self, key_id: bytes, public_key: bytes) -> bool:
        """Bind ``key_id`` to ``public_key`` unless it is bound already; True if newly bound."""
        if key_id in self.keys:
            return False
        self.keys[key_id] = public_key
        return True

    def public_key(self, bulletin: Bulletin) -> bytes | None:
        """The key to check ``bulletin`` with: the bound one, else an announcement's own."""
        content = bulletin.content
        known = self.keys.get(content.author)
        if known is not None:
            return known
        if content.kind is Kind.ANNOUNCEMENT and content.subject_key is not None:
            return content.subject_key
        return None

    def graph(self, now: float) -> TrustGraph:
        """The trust graph at ``now``, memoised (relay.trust_graph)."""
        graph = self._graph
        if graph is None or not graph.fresh(self.version, now):
            graph = self._graph = compute(self, now)
        return graph

    # -- learning ----------------------------------------------------------------------------

    def learn(self, bulletin: Bulletin) -> Learned:
        """Record what a signature-checked key bulletin teaches."""
        content = bulletin.content
        if bulletin.id in self._material:
            return Learned()
        if not self._within_budget(content.author):
            self.refused += 1
            return Learned()
        if content.kind is Kind.ANNOUNCEMENT and content.subject_key and content.name:
            keyed = self.bind_key(content.author, content.subject_key)
            if keyed:
                self._key_source[content.author] = bulletin.id
            if self.keys[content.author] != content.subject_key:
                return Learned()
            self.claims.setdefault(content.author, content.name)
            self._material[bulletin.id] = content.author
            return Learned(True, False, content.author if keyed else None)
        if content.kind is Kind.CERTIFICATE:
            return self._learn_certificate(bulletin)
        if content.kind is Kind.REVOCATION and content.revoked is not None:
            return self._learn_revocation(bulletin)
        return Learned()

    def _learn_certificate(self, bulletin: Bulletin) -> Learned:
        from relay.crypto.keys import key_id

        content = bulletin.content
        assert content.subject_key and content.name is not None and content.kinds is not None
        subject = key_id(content.subject_key)
        cert = Certificate(
            id=bulletin.id,
            issuer=content.author,
            subject=subject,
            subject_key=content.subject_key,
            name=content.name,
            kinds=content.kinds,
            created=content.created,
            lifetime=content.lifetime or 0,
        )
        self.issued.setdefault(cert.issuer, {}).setdefault(subject, []).append(cert)
        explained = self.certificates.setdefault(subject, [])
        if len(explained) < MAX_EXPLAINED:
            explained.append(cert)
        self._material[bulletin.id] = cert
        keyed = self.bind_key(subject, content.subject_key)
        relevant = self._graph is None or self._graph.can_certify(cert.issuer)
        if relevant:
            self.version += 1
        return Learned(True, relevant, subject if keyed else None)

    def _learn_revocation(self, bulletin: Bulletin) -> Learned:
        content = bulletin.content
        assert content.revoked is not None
        revocation = Revocation(
            bulletin.id, content.author, content.revoked, content.reason or "unspecified"
        )
        if content.author == content.revoked:
            if content.revoked in self.self_revocations:
                return Learned()
            self.self_revocations[content.revoked] = revocation
            graph = self._graph
            relevant = graph is None or content.revoked in graph.base
        else:
            by_issuer = self.issuer_revocations.setdefault(content.author, {})
            if content.revoked in by_issuer:
                return Learned()
            by_issuer[content.revoked] = revocation
            relevant = self._graph is None or self._graph.can_certify(content.author)
        self._material[bulletin.id] = revocation
        if relevant:
            self.version += 1
        return Learned(True, relevant, None)

    def _within_budget(self, author: bytes) -> bool:
        if len(self._material) < MAX_MATERIAL:
            return True
        graph = self._graph
        return author in self.roots or (graph is not None and author in graph.base)

    def forget(self, bulletin_id: bytes) -> None:
        """Drop what the key bulletin ``bulletin_id`` taught (it was evicted from the store)."""
        item = self._material.pop(bulletin_id, None)
        if item is None:
            return
        if isinstance(item, Certificate):
            by_subject = self.issued.get(item.issuer, {})
            kept = [c for c in by_subject.get(item.subject, []) if c.id != bulletin_id]
            if kept:
                by_subject[item.subject] = kept
            else:
                by_subject.pop(item.subject, None)
            self.certificates[item.subject] = [
                c for c in self.certificates.get(item.subject, []) if c.id != bulletin_id
            ]
        elif isinstance(item, Revocation):
            if self.self_revocations.get(item.revoked) == item:
                del self.self_revocations[item.revoked]
            self.issuer_revocations.get(item.issuer, {}).pop(item.revoked, None)
        elif self._key_source.get(item) == bulletin_id and item not in self.roots:
            del self._key_source[item]
            self.keys.pop(item, None)
            self.claims.pop(item, None)
        self.version += 1


def evaluate(
    state: TrustState, bulletin: Bulletin, signature_ok: bool | None, now: float
) -> Verdict:
    """The verdict on ``bulletin``; ``signature_ok`` None means its key is not known yet."""
    content = bulletin.content
    claimed = state.claims.get(content.author)
    if signature_ok is None:
        return Verdict(
            Status.PENDING_KEY, "author's public key not known yet", claimed_name=claimed
        )
    if not signature_ok:
        return Verdict(Status.INVALID, "signature does not match the author's key")
    graph = state.graph(now)
    note = _future_note(content.created, now)
    if content.kind is Kind.REVOCATION and content.revoked is not None:
        effective = graph.revoked.get(content.revoked)
        if effective is not None and effective.id == bulletin.id and content.revoked in graph.base:
            name = _name_of(state, graph, content.revoked)
            why = f"revocation in effect: {name} is revoked ({effective.reason}){note}"
            return Verdict(Status.TRUSTED, why, claimed_name=claimed, evidence=(bulletin.id,))
    revocation = graph.revoked.get(content.author)
    if revocation is not None and content.kind is not Kind.REVOCATION:
        by = "itself" if revocation.issuer == revocation.revoked else "its certifier"
        why = f"key revoked by {by} ({revocation.reason}; revocation {revocation.id.hex()[:16]})"
        return Verdict(Status.REVOKED, why, claimed_name=claimed, evidence=(revocation.id,))
    kind_bit = int(content.kind)
    grant = graph.grants.get(content.author, {}).get(kind_bit)
    if grant is None:
        why = _why_untrusted(state, graph, content.author, kind_bit, now)
        return Verdict(Status.UNKNOWN_KEY, why, claimed_name=claimed)
    chain = _chain(state, graph, content.author, kind_bit)
    if grant.cert is None:
        reason = "signed by a trusted root"
    else:
        reason = f"certified as {grant.cert.name!r} (certificate {grant.cert.id.hex()[:16]})"
    evidence = tuple(link.certificate for link in chain if link.certificate is not None)
    return Verdict(
        Status.TRUSTED,
        reason + note,
        chain=chain,
        name=chain[0].name,
        claimed_name=claimed,
        evidence=evidence,
    )


def _chain(
    state: TrustState, graph: TrustGraph, key: bytes, kind_bit: int
) -> tuple[ChainLink, ...]:
    links: list[ChainLink] = []
    grant = graph.grants[key][kind_bit]
    while grant.cert is not None and len(links) <= MAX_CHAIN:
        cert = grant.cert
        links.append(ChainLink(key, cert.name, cert.issuer, cert.id))
        key = cert.issuer
        grant = graph.grants[key][int(Kind.CERTIFICATE)]
    links.append(ChainLink(key, state.roots[key][1], None))
    return tuple(links)


def _name_of(state: TrustState, graph: TrustGraph, key: bytes) -> str:
    if key in state.roots:
        return repr(state.roots[key][1])
    for grant in graph.base.get(key, {}).values():
        if grant.cert is not None:
            return repr(grant.cert.name)
    return key.hex()[:16]


def _future_note(created: int, now: float) -> str:
    if created > now + FUTURE_TOLERANCE:
        days = int((created - now) // 86400)
        return f"; dated {days} days ahead of this node's clock"
    return ""


def _why_untrusted(
    state: TrustState, graph: TrustGraph, key: bytes, kind_bit: int, now: float
) -> str:
    """Why ``key`` has no grant for ``kind_bit``: its certificates, each in a few words."""
    certificates = state.certificates.get(key, [])
    if not certificates:
        return "key is not certified by anyone you trust"
    kind_name = KIND_NAMES.get(Kind(kind_bit), str(kind_bit))
    reasons: list[str] = []
    for cert in certificates:
        held = graph.grants.get(cert.issuer, {}).get(int(Kind.CERTIFICATE))
        if cert.expired(now):
            reasons.append("certificate expired")
        elif not cert.current(now):
            reasons.append("certificate dated in the future")
        elif not cert.kinds & (1 << kind_bit):
            reasons.append(f"certificate does not allow {kind_name}")
        elif state.keys.get(key) != cert.subject_key:
            reasons.append("certificate is for another key with the same id")
        elif cert.issuer in graph.revoked:
            reasons.append("issuer not trusted: a key in the chain was revoked")
        elif held is not None and held.length >= MAX_CHAIN:
            reasons.append(f"certificate chain longer than {MAX_CHAIN}")
        else:
            reasons.append("issuer not trusted: key is not certified by anyone you trust")
    return "; ".join(dict.fromkeys(reasons))
