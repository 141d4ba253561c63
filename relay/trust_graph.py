"""Who is trusted for what, computed top-down from the roots (pure).

The graph is built from the roots outwards, level by level, following only certificates whose
issuer is already trusted to certify. Key material from strangers is never visited: a thousand
certificates or revocations issued by untrusted keys cost nothing here, and cannot push a genuine
certificate out of the search. The search is bounded by ``MAX_CHAIN`` levels and
``MAX_ISSUED_PER_ISSUER`` certificates per issuer, and memoised: it is recomputed only when trusted
material changes (``TrustState.version``), the clock passes the first certificate expiry it used,
or the clock goes back.

Revocations (docs/protocol.md §7):
* a key may always revoke itself; a root can be revoked only by itself;
* any other revocation counts only if its issuer holds an unexpired certificate for the revoked key,
  bound to that key, and the issuer is trusted to certify through a chain that does not pass
  through the revoked key;
* issuer revocations are applied closest-to-a-root first, and the graph is recomputed after each
  level, so a key revoked by its own issuer cannot revoke others on its way out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from relay.trust_material import Certificate, Revocation, TrustMaterial
from relay.wire.fields import Kind

MAX_CHAIN = 3  # certificates between a root and an author
MAX_ISSUED_PER_ISSUER = 1024  # certificates of one trusted issuer the search follows
CERTIFY = int(Kind.CERTIFICATE)
ALL_BITS = frozenset(range(8))

Summary = tuple[frozenset[tuple[int, bytes]], bytes | None]


@dataclass(frozen=True, slots=True)
class Grant:
    """How a key is trusted for one kind: through ``cert`` (None for a root), ``length`` deep."""

    length: int
    cert: Certificate | None


@dataclass
class TrustGraph:
    """The trusted keys with their grants per kind bit, and the revocations in effect."""

    grants: dict[bytes, dict[int, Grant]] = field(default_factory=dict)
    base: dict[bytes, dict[int, Grant]] = field(default_factory=dict)  # before any revocation
    revoked: dict[bytes, Revocation] = field(default_factory=dict)
    version: int = -1
    computed_at: float = 0.0
    valid_until: float = float("inf")

    def fresh(self, version: int, now: float) -> bool:
        return self.version == version and self.computed_at <= now < self.valid_until

    def can_certify(self, key: bytes) -> bool:
        return CERTIFY in self.grants.get(key, {})

    def chain_keys(self, key: bytes) -> list[bytes]:
        """Keys on the certifying chain of ``key`` up to its root, ``key`` first."""
        out = [key]
        grant = self.grants.get(key, {}).get(CERTIFY)
        while grant is not None and grant.cert is not None and len(out) <= MAX_CHAIN:
            out.append(grant.cert.issuer)
            grant = self.grants.get(grant.cert.issuer, {}).get(CERTIFY)
        return out

    def summary(self) -> dict[bytes, Summary]:
        """What verdicts depend on, per key: its grants and its revocation (for diffs)."""
        out: dict[bytes, Summary] = {}
        for key in set(self.grants) | set(self.revoked) | set(self.base):
            grants = frozenset((bit, _grant_id(g)) for bit, g in self.grants.get(key, {}).items())
            revocation = self.revoked.get(key)
            out[key] = (grants, None if revocation is None else revocation.id)
        return out


def _grant_id(grant: Grant) -> bytes:
    return b"root" if grant.cert is None else grant.cert.id


def compute(state: TrustMaterial, now: float) -> TrustGraph:
    """The trust graph of ``state`` at ``now`` (see module docstring)."""
    graph = TrustGraph(version=state.version, computed_at=now)
    revoked: dict[bytes, Revocation] = {}
    for key, revocation in state.self_revocations.items():
        revoked[key] = revocation
    graph.base, graph.valid_until = _grants(state, now, set())
    while True:
        grants, valid_until = _grants(state, now, set(revoked))
        graph.valid_until = min(graph.valid_until, valid_until)
        found = _issuer_revocations(state, now, grants, revoked)
        if not found:
            graph.grants = grants
            break
        for revocation in found:
            revoked[revocation.revoked] = revocation
    graph.revoked = revoked
    return graph


def _grants(
    state: TrustMaterial, now: float, excluded: set[bytes]
) -> tuple[dict[bytes, dict[int, Grant]], float]:
    """Breadth-first from the roots; the shortest grant per (key, kind bit)."""
    grants: dict[bytes, dict[int, Grant]] = {}
    frontier: list[bytes] = []
    valid_until = float("inf")
    for key in state.roots:
        if key in excluded:
            continue
        grants[key] = dict.fromkeys(ALL_BITS, Grant(0, None))
        frontier.append(key)
    for length in range(1, MAX_CHAIN + 1):
        following: list[bytes] = []
        for issuer in frontier:
            for cert in _issued(state, issuer):
                subject = cert.subject
                if subject in excluded or not cert.current(now):
                    continue
                if state.keys.get(subject) != cert.subject_key:
                    continue  # trust is bound to the full public key, never to the id alone
                valid_until = min(valid_until, cert.valid_until())
                held = grants.setdefault(subject, {})
                gained_certify = False
                for bit in _bits(cert.kinds):
                    if bit not in held:
                        held[bit] = Grant(length, cert)
                        gained_certify = gained_certify or bit == CERTIFY
                if gained_certify and length < MAX_CHAIN:
                    following.append(subject)
        frontier = following
    return grants, valid_until


def _issued(state: TrustMaterial, issuer: bytes) -> Iterable[Certificate]:
    by_subject = state.issued.get(issuer)
    if not by_subject:
        return ()
    out: list[Certificate] = []
    for certs in by_subject.values():
        out.extend(certs)
        if len(out) >= MAX_ISSUED_PER_ISSUER:
            break
    return out[:MAX_ISSUED_PER_ISSUER]


def _issuer_revocations(
    state: TrustMaterial,
    now: float,
    grants: dict[bytes, dict[int, Grant]],
    revoked: dict[bytes, Revocation],
) -> list[Revocation]:
    """Issuer revocations valid under ``grants``, only those of the issuers closest to a root."""
    best: list[Revocation] = []
    best_level = MAX_CHAIN + 1
    graph = TrustGraph(grants=grants)
    for issuer, held in grants.items():
        if CERTIFY not in held:
            continue
        level = held[CERTIFY].length
        if level > best_level:
            continue
        for revocation in state.issuer_revocations.get(issuer, {}).values():
            target = revocation.revoked
            if target in revoked or target in state.roots or target == issuer:
                continue
            if not _holds_certificate(state, issuer, target, now):
                continue
            if target in graph.chain_keys(issuer):
                continue  # an issuer whose own trust runs through the key cannot revoke it
            if level < best_level:
                best, best_level = [], level
            best.append(revocation)
    return best


def _holds_certificate(state: TrustMaterial, issuer: bytes, target: bytes, now: float) -> bool:
    certs = state.issued.get(issuer, {}).get(target, [])
    key = state.keys.get(target)
    return any(c.current(now) and c.subject_key == key for c in certs)


def _bits(mask: int) -> Iterable[int]:
    return (bit for bit in range(8) if mask & (1 << bit))
