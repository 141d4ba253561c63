"""Quotas for untrusted bulletins: what a stranger can make this node keep, and for how long.

A bulletin whose author's key is unknown (``pending_key``) costs its sender nothing to make, and one
from an uncertified key (``unknown_key``) costs a key pair. Both are kept so that they can turn
trusted when a key or certificate arrives, but within bounds, per origin (a radio by its node
number, a bundle file, the local API) and in total: rows and bytes. When a quota is full, the
lowest-priority, oldest untrusted row makes room (news before key material before safety alerts
and revocations); a newcomer that ranks below everything held is refused. Pending rows expire after
``PENDING_TTL``. Trusted bulletins never count against these quotas and are never evicted by them.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.store import Store

PENDING_TTL = 3 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class HoldLimits:
    rows: int = 2000
    size: int = 1024 * 1024  # bytes of raw bulletins
    rows_per_origin: int = 200
    size_per_origin: int = 128 * 1024


class Holding:
    """Admits untrusted rows into the store within :class:`HoldLimits`."""

    def __init__(self, store: Store, limits: HoldLimits | None = None) -> None:
        self.store = store
        self.limits = limits or HoldLimits()
        self.refused = 0
        self.evicted = 0

    def admit(self, origin: str, priority: int, size: int) -> list[bytes] | None:
        """Make room for one row; the ids evicted for it, or None if it is refused."""
        limits = self.limits
        evicted: list[bytes] = []
        for scope, rows, cap in (
            (origin, limits.rows_per_origin, limits.size_per_origin),
            (None, limits.rows, limits.size),
        ):
            while True:
                count, used = self.store.untrusted_usage(scope)
                if count < rows and used + size <= cap:
                    break
                lowest = self.store.lowest_untrusted(scope)
                if lowest is None or lowest[1] > priority:
                    self.refused += 1
                    return None
                self.store.delete(lowest[0], forget_seen=True)
                evicted.append(lowest[0])
                self.evicted += 1
        return evicted

    def expired(self, now: float) -> list[bytes]:
        """Pending rows held longer than ``PENDING_TTL``: deleted, their ids returned."""
        gone = self.store.untrusted_older_than(now - PENDING_TTL, "pending_key")
        for ident in gone:
            self.store.delete(ident)
        return gone
