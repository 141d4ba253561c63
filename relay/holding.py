"""Quotas for untrusted bulletins: what a stranger can make this node keep, and for how long.

A bulletin whose author's key is unknown (``pending_key``) costs its sender nothing to make, and one
from an uncertified key (``unknown_key``) costs a key pair. Both are kept so that they can turn
trusted when a key or certificate arrives, but within bounds, per origin (a radio by its node
number, a bundle file, the local API) and in total: rows and bytes. When a quota is full, the
lowest-priority, oldest untrusted row makes room (news before key material before safety alerts
and revocations); a newcomer that ranks below everything held is refused. Pending rows expire after
``PENDING_TTL``. Trusted bulletins never count against these quotas and are never evicted by them.

The same module keeps the candidate signatures of held ids (relay.ingest): the tables are
``untrusted`` and ``candidates`` of relay.store's schema.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay.store import Store

PENDING_TTL = 3 * 24 * 3600.0
# Origins the operator chose (a bundle they imported, their own API): only the total quota
# applies; an import is already bounded by relay.bundle's size limit.
OPERATOR_ORIGINS = frozenset(("bundle", "local"))


@dataclass(frozen=True, slots=True)
class HoldLimits:
    rows: int = 2000
    size: int = 1024 * 1024  # bytes of raw bulletins
    rows_per_origin: int = 200
    size_per_origin: int = 128 * 1024


class Holding:
    """Untrusted rows and candidate signatures in the node's store, within :class:`HoldLimits`."""

    def __init__(self, store: Store, limits: HoldLimits | None = None) -> None:
        self.store = store
        self.limits = limits or HoldLimits()
        self.refused = 0
        self.evicted = 0

    def admit(self, origin: str, priority: int, size: int) -> list[bytes] | None:
        """Make room for one row; the ids evicted for it, or None if it is refused."""
        limits = self.limits
        evicted: list[bytes] = []
        scopes: list[tuple[str | None, int, int]] = [(None, limits.rows, limits.size)]
        if origin not in OPERATOR_ORIGINS:
            scopes.insert(0, (origin, limits.rows_per_origin, limits.size_per_origin))
        for scope, rows, cap in scopes:
            while True:
                count, used = self.usage(scope)
                if count < rows and used + size <= cap:
                    break
                lowest = self.lowest(scope)
                if lowest is None or lowest[1] > priority:
                    self.refused += 1
                    return None
                self.store.delete(lowest[0], forget_seen=True)
                evicted.append(lowest[0])
                self.evicted += 1
        return evicted

    def adopt(self) -> int:
        """Bring a store from before these rules under them: untrusted rows not yet counted join
        the quotas (origin ``"earlier"``, priority as relay.sync.judge.priority_of gives it), and
        pending rows give their ids back (they were marked seen before their signature was
        checked, so a genuine copy was refused as a duplicate). Returns how many rows joined."""
        with self.store.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO untrusted (id, origin, priority, size, received_at) "
                "SELECT id, 'earlier', CASE kind WHEN 5 THEN 100 WHEN 1 THEN 50 + 10 * "
                "coalesce(severity, 0) WHEN 2 THEN 40 WHEN 3 THEN 40 WHEN 4 THEN 30 WHEN 6 "
                "THEN 30 ELSE 20 END, length(raw), received_at FROM bulletins "
                "WHERE status IN ('pending_key', 'unknown_key')"
            )
            db.execute(
                "DELETE FROM seen WHERE id IN (SELECT id FROM bulletins WHERE status='pending_key')"
            )
        return int(cursor.rowcount)

    def expired(self, now: float) -> list[bytes]:
        """Pending rows held longer than ``PENDING_TTL``: deleted, their ids returned."""
        gone = self.older_than(now - PENDING_TTL, "pending_key")
        for ident in gone:
            self.store.delete(ident)
        return gone

    # -- the tables: untrusted rows, candidate signatures ---------------------------------------

    def add_candidate(self, bulletin_id: bytes, signature: bytes, limit: int) -> bool:
        """Remember another copy's signature for a held id; False if known or ``limit`` reached."""
        with self.store.transaction() as db:
            (count,) = db.execute(
                "SELECT count(*) FROM candidates WHERE id=?", (bulletin_id,)
            ).fetchone()
            if count >= limit:
                return False
            cursor = db.execute(
                "INSERT OR IGNORE INTO candidates VALUES (?,?)", (bulletin_id, signature)
            )
            return cursor.rowcount > 0

    def candidates(self, bulletin_id: bytes) -> list[bytes]:
        rows = self.store.db.execute("SELECT signature FROM candidates WHERE id=?", (bulletin_id,))
        return [bytes(r[0]) for r in rows]

    def drop_candidates(self, bulletin_id: bytes) -> None:
        self.store.db.execute("DELETE FROM candidates WHERE id=?", (bulletin_id,))

    def hold(self, bulletin_id: bytes, origin: str, priority: int, size: int, now: float) -> None:
        self.store.db.execute(
            "INSERT OR REPLACE INTO untrusted VALUES (?,?,?,?,?)",
            (bulletin_id, origin, priority, size, now),
        )

    def release(self, bulletin_id: bytes) -> None:
        self.store.db.execute("DELETE FROM untrusted WHERE id=?", (bulletin_id,))

    def usage(self, origin: str | None = None) -> tuple[int, int]:
        """(rows, bytes) of untrusted bulletins held, in total or from one origin."""
        sql = "SELECT count(*), coalesce(sum(size), 0) FROM untrusted"
        row = (
            self.store.db.execute(sql + " WHERE origin=?", (origin,))
            if origin
            else self.store.db.execute(sql)
        )
        count, size = row.fetchone()
        return int(count), int(size)

    def lowest(self, origin: str | None = None) -> tuple[bytes, int] | None:
        """The untrusted row to evict first (lowest priority, oldest): (id, priority)."""
        sql = "SELECT id, priority FROM untrusted"
        order = " ORDER BY priority, received_at LIMIT 1"
        if origin:
            found = self.store.db.execute(sql + " WHERE origin=?" + order, (origin,)).fetchone()
        else:
            found = self.store.db.execute(sql + order).fetchone()
        return None if found is None else (bytes(found[0]), int(found[1]))

    def older_than(self, cutoff: float, status: str) -> list[bytes]:
        rows = self.store.db.execute(
            "SELECT u.id FROM untrusted u JOIN bulletins b ON b.id = u.id "
            "WHERE u.received_at < ? AND b.status = ?",
            (cutoff, status),
        )
        return [bytes(r[0]) for r in rows]
