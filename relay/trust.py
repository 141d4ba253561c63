"""Trust policy (pure): who is trusted to say what, and the verdict for each bulletin.

Verdicts:
  * ``trusted``     – valid signature by a root, or by a key certified (chain of at most
                      ``MAX_CHAIN`` certificates) for this kind by a trusted, unrevoked issuer;
  * ``unknown_key`` – valid signature, but no valid chain to a root (the reason says why);
  * ``pending_key`` – the author's public key has not arrived yet: held, re-evaluated later;
  * ``revoked``     – valid signature by a key that was revoked (by itself or its issuer);
  * ``invalid``     – bad signature or a key that does not match the author id: dropped.

Display names come only from certificates (issuer-asserted); a self-announced name is a claim,
never a trusted name, so a new key cannot borrow a trusted author's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from relay.wire.bulletin import Bulletin
from relay.wire.fields import KIND_NAMES, Kind

MAX_CHAIN = 3
CLOCK_GRACE = 24 * 3600  # seconds a certificate stays usable past its end, for wrong clocks


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


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Status
    reason: str
    chain: tuple[ChainLink, ...] = ()
    name: str | None = None  # trusted display name, from the chain
    claimed_name: str | None = None  # self-announced, unverified


@dataclass(frozen=True, slots=True)
class Certificate:
    id: bytes
    issuer: bytes
    subject: bytes  # key id of the subject
    subject_key: bytes
    name: str
    kinds: int
    created: int
    lifetime: int

    def expired(self, now: float) -> bool:
        return now > self.created + self.lifetime + CLOCK_GRACE


@dataclass(frozen=True, slots=True)
class Revocation:
    id: bytes
    issuer: bytes
    revoked: bytes
    reason: str


@dataclass
class TrustState:
    """Everything the policy knows: roots, public keys, certificates, revocations, claims."""

    roots: dict[bytes, tuple[bytes, str]] = field(default_factory=dict)  # kid -> (key, name)
    keys: dict[bytes, bytes] = field(default_factory=dict)  # kid -> public key
    claims: dict[bytes, str] = field(default_factory=dict)  # kid -> self-announced name
    certificates: dict[bytes, list[Certificate]] = field(default_factory=dict)  # by subject
    revocations: dict[bytes, Revocation] = field(default_factory=dict)  # by revoked key id

    def add_root(self, key_id: bytes, public_key: bytes, name: str) -> None:
        self.roots[key_id] = (public_key, name)
        self.keys[key_id] = public_key

    def remove_root(self, key_id: bytes) -> None:
        self.roots.pop(key_id, None)

    def public_key(self, bulletin: Bulletin) -> bytes | None:
        """The key to check ``bulletin`` with (an announcement carries its own)."""
        content = bulletin.content
        if content.kind is Kind.ANNOUNCEMENT and content.subject_key is not None:
            return content.subject_key
        return self.keys.get(content.author)

    def learn(self, bulletin: Bulletin, key_of: dict[bytes, bytes] | None = None) -> bool:
        """Record what a signature-checked key bulletin teaches; True if the state changed."""
        content = bulletin.content
        if content.kind is Kind.ANNOUNCEMENT and content.subject_key and content.name:
            changed = self.keys.get(content.author) != content.subject_key
            self.keys[content.author] = content.subject_key
            self.claims[content.author] = content.name
            return changed
        if content.kind is Kind.CERTIFICATE:
            assert content.subject_key and content.name is not None and content.kinds is not None
            from relay.crypto.keys import key_id

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
            existing = self.certificates.setdefault(subject, [])
            if any(c.id == cert.id for c in existing):
                return False
            existing.append(cert)
            self.keys.setdefault(subject, content.subject_key)
            return True
        if content.kind is Kind.REVOCATION and content.revoked is not None:
            if not self._may_revoke(content.author, content.revoked):
                return False
            if content.revoked in self.revocations:
                return False
            self.revocations[content.revoked] = Revocation(
                bulletin.id, content.author, content.revoked, content.reason or "unspecified"
            )
            return True
        return False

    def _may_revoke(self, issuer: bytes, revoked: bytes) -> bool:
        if issuer == revoked or issuer in self.roots:
            return True
        return any(c.issuer == issuer for c in self.certificates.get(revoked, []))


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
    revocation = state.revocations.get(content.author)
    if revocation is not None and content.kind is not Kind.REVOCATION:
        why = f"key revoked ({revocation.reason})"
        return Verdict(Status.REVOKED, why, claimed_name=claimed)
    chain, reason = _chain(state, content.author, int(content.kind), now, depth=0)
    if chain is None:
        return Verdict(Status.UNKNOWN_KEY, reason, claimed_name=claimed)
    return Verdict(Status.TRUSTED, reason, chain=chain, name=chain[0].name, claimed_name=claimed)


def _chain(
    state: TrustState, key: bytes, kind_bit: int, now: float, depth: int
) -> tuple[tuple[ChainLink, ...] | None, str]:
    """A chain of links from ``key`` up to a root allowing ``kind_bit``, or None and why not."""
    if key in state.roots:
        return (ChainLink(key, state.roots[key][1], None),), "signed by a trusted root"
    if key in state.revocations:
        return None, "a key in the chain was revoked"
    if depth >= MAX_CHAIN:
        return None, f"certificate chain longer than {MAX_CHAIN}"
    certificates = state.certificates.get(key, [])
    if not certificates:
        return None, "key is not certified by anyone you trust"
    reasons: list[str] = []
    kind_name = KIND_NAMES.get(Kind(kind_bit), str(kind_bit))
    for cert in certificates:
        if cert.expired(now):
            reasons.append("certificate expired")
            continue
        if not cert.kinds & (1 << kind_bit):
            reasons.append(f"certificate does not allow {kind_name}")
            continue
        upper, why = _chain(state, cert.issuer, int(Kind.CERTIFICATE), now, depth + 1)
        if upper is None:
            reasons.append(f"issuer not trusted: {why}")
            continue
        link = ChainLink(key, cert.name, cert.issuer)
        return (link, *upper), f"certified as {cert.name!r}"
    return None, "; ".join(dict.fromkeys(reasons))
