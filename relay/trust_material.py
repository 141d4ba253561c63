"""Trust material as the trust graph reads it: certificates, revocations, and who holds them.

Kept apart from relay.trust (the policy and its state) so that relay.trust_graph, which computes
what the roots vouch for, depends on the material only and not back on the state's module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from relay.lifetime import FUTURE_TOLERANCE

CLOCK_GRACE = 24 * 3600  # seconds a certificate stays usable past its end, for wrong clocks


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

    def valid_until(self) -> float:
        return float(self.created + self.lifetime + CLOCK_GRACE)

    def current(self, now: float) -> bool:
        """Usable at ``now``: not expired, and not dated beyond the clock tolerance ahead."""
        return self.created - FUTURE_TOLERANCE <= now <= self.valid_until()

    def expired(self, now: float) -> bool:
        return now > self.valid_until()


@dataclass(frozen=True, slots=True)
class Revocation:
    id: bytes
    issuer: bytes
    revoked: bytes
    reason: str


class TrustMaterial(Protocol):
    """What the trust graph reads of a node's trust state (relay.trust.TrustState)."""

    roots: dict[bytes, tuple[bytes, str]]  # kid -> (key, name)
    keys: dict[bytes, bytes]  # kid -> public key, never re-bound
    issued: dict[bytes, dict[bytes, list[Certificate]]]  # issuer -> subject -> certificates
    self_revocations: dict[bytes, Revocation]  # by revoked key
    issuer_revocations: dict[bytes, dict[bytes, Revocation]]  # issuer -> revoked -> revocation
    version: int
