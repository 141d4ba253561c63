"""SQLite persistence (WAL, synchronous=FULL): bulletins with their verdicts, roots, known keys.

The exact bytes that were verified are stored with the trust decision (attack 13).  Every id ever
stored is also kept in ``seen`` so that a replay of a deleted bulletin is never new again.  A
bulletin is written in one transaction; a kill -9 leaves either all of it or none of it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from relay.trust import Status, Verdict
from relay.wire.bulletin import Bulletin
from relay.wire.fields import SEVERITIES, Kind

SCHEMA = """
CREATE TABLE IF NOT EXISTS bulletins (
    id BLOB PRIMARY KEY,
    raw BLOB NOT NULL,
    kind INTEGER NOT NULL,
    author BLOB NOT NULL,
    created INTEGER NOT NULL,
    received_at REAL NOT NULL,
    expires_at REAL,
    lang TEXT NOT NULL,
    text TEXT NOT NULL,
    text_folded TEXT NOT NULL,
    severity INTEGER,
    ref BLOB,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    signer_name TEXT,
    claimed_name TEXT,
    chain TEXT,
    source TEXT NOT NULL,
    hops INTEGER,
    snr REAL
);
CREATE INDEX IF NOT EXISTS bulletins_received ON bulletins (received_at DESC);
CREATE INDEX IF NOT EXISTS bulletins_author ON bulletins (author);
CREATE INDEX IF NOT EXISTS bulletins_ref ON bulletins (ref);
CREATE TABLE IF NOT EXISTS seen (id BLOB PRIMARY KEY, first_seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS roots (
    key_id BLOB PRIMARY KEY, public_key BLOB NOT NULL, name TEXT NOT NULL, added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS keys (
    key_id BLOB PRIMARY KEY, public_key BLOB NOT NULL, added_at REAL NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class StoredBulletin:
    """A row of the bulletins table, ready for the API and the UI."""

    id: bytes
    raw: bytes
    kind: Kind
    author: bytes
    created: int
    received_at: float
    expires_at: float | None
    lang: str
    text: str
    severity: str | None
    ref: bytes | None
    status: Status
    reason: str
    signer_name: str | None
    claimed_name: str | None
    chain: str | None
    source: str
    hops: int | None
    snr: float | None


@dataclass(frozen=True, slots=True)
class Query:
    """Filters for :meth:`Store.query`; every field is optional."""

    kinds: tuple[Kind, ...] = ()
    min_severity: str | None = None
    lang: str | None = None
    statuses: tuple[Status, ...] = ()
    author: bytes | None = None
    since: float | None = None  # received_at >= since
    before: float | None = None  # received_at < before (paging)
    text: str | None = None
    limit: int = 100
    offset: int = 0


class Store:
    """The node's database; one writer (the daemon), safe against kill -9 mid-write."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write (joins an enclosing :meth:`batch` if there is one)."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group many writes into one commit (bundle import); all or nothing on a crash."""
        with self.transaction():
            yield

    # -- bulletins ---------------------------------------------------------------------------

    def seen(self, bulletin_id: bytes) -> bool:
        """True if this id was ever stored (even if since deleted)."""
        row = self.db.execute("SELECT 1 FROM seen WHERE id = ?", (bulletin_id,)).fetchone()
        return row is not None

    def put(
        self,
        bulletin: Bulletin,
        verdict: Verdict,
        received_at: float,
        expires_at: float | None,
        source: str,
        hops: int | None = None,
        snr: float | None = None,
    ) -> bool:
        """Store a bulletin with its verdict; False if its id was seen before."""
        content = bulletin.content
        severity = None
        if content.safety is not None:
            severity = SEVERITIES.index(content.safety.severity)
        chain = " <- ".join(f"{link.name}" for link in verdict.chain) or None
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO seen (id, first_seen) VALUES (?, ?)",
                (bulletin.id, received_at),
            )
            if cursor.rowcount == 0:
                return False
            db.execute(
                "INSERT INTO bulletins VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    bulletin.id, bulletin.raw, int(content.kind), content.author,
                    content.created, received_at, expires_at, content.lang, content.text,
                    content.text.casefold(), severity, content.ref, str(verdict.status),
                    verdict.reason, verdict.name, verdict.claimed_name, chain, source, hops, snr,
                ),
            )  # fmt: skip
        return True

    def set_verdict(self, bulletin_id: bytes, verdict: Verdict) -> bool:
        """Record a changed verdict; True if it changed."""
        chain = " <- ".join(link.name for link in verdict.chain) or None
        cursor = self.db.execute(
            "UPDATE bulletins SET status=?, reason=?, signer_name=?, claimed_name=?, chain=? "
            "WHERE id=? AND (status IS NOT ? OR reason IS NOT ?)",
            (
                str(verdict.status), verdict.reason, verdict.name, verdict.claimed_name, chain,
                bulletin_id, str(verdict.status), verdict.reason,
            ),
        )  # fmt: skip
        return cursor.rowcount > 0

    def get(self, bulletin_id: bytes) -> StoredBulletin | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM bulletins WHERE id=?", (bulletin_id,))
        found = row.fetchone()
        return None if found is None else _row(found)

    def get_by_prefix(self, prefix_hex: str) -> list[StoredBulletin]:
        """Bulletins whose hex id starts with ``prefix_hex`` (for the CLI and the UI)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM bulletins WHERE hex(id) LIKE ? LIMIT 5",
            (prefix_hex.upper() + "%",),
        )
        return [_row(r) for r in rows]

    def referring(self, bulletin_id: bytes) -> list[StoredBulletin]:
        """Corrections and retractions that point at ``bulletin_id``."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM bulletins WHERE ref=? ORDER BY created", (bulletin_id,)
        )
        return [_row(r) for r in rows]

    def query(self, query: Query) -> list[StoredBulletin]:
        """Bulletins matching ``query``, newest received first."""
        where, params = _where(query)
        sql = f"SELECT {_COLUMNS} FROM bulletins {where} ORDER BY received_at DESC, id"
        sql += " LIMIT ? OFFSET ?"
        rows = self.db.execute(sql, (*params, max(0, min(query.limit, 1000)), query.offset))
        return [_row(r) for r in rows]

    def count(self, query: Query) -> int:
        where, params = _where(query)
        row = self.db.execute(f"SELECT count(*) FROM bulletins {where}", params).fetchone()
        return int(row[0])

    def by_status(self, statuses: tuple[Status, ...]) -> list[StoredBulletin]:
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM bulletins WHERE status IN ({marks})",
            tuple(str(s) for s in statuses),
        )
        return [_row(r) for r in rows]

    def key_bulletins(self) -> list[bytes]:
        """Raw bytes of every stored certificate, revocation and announcement, oldest first."""
        kinds = (int(Kind.CERTIFICATE), int(Kind.REVOCATION), int(Kind.ANNOUNCEMENT))
        rows = self.db.execute(
            "SELECT raw FROM bulletins WHERE kind IN (?,?,?) AND status != 'invalid' "
            "ORDER BY received_at",
            kinds,
        )
        return [bytes(r[0]) for r in rows]

    def all_raw(self) -> list[bytes]:
        rows = self.db.execute("SELECT raw FROM bulletins ORDER BY received_at")
        return [bytes(r[0]) for r in rows]

    def purge_expired(self, now: float, retention: float) -> int:
        """Delete bulletins expired more than ``retention`` ago (their ids stay in ``seen``)."""
        cursor = self.db.execute(
            "DELETE FROM bulletins WHERE expires_at IS NOT NULL AND expires_at + ? < ?",
            (retention, now),
        )
        return cursor.rowcount

    # -- roots and keys ----------------------------------------------------------------------

    def add_root(self, key_id: bytes, public_key: bytes, name: str, now: float) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO roots VALUES (?,?,?,?)", (key_id, public_key, name, now)
        )

    def remove_root(self, key_id: bytes) -> bool:
        return self.db.execute("DELETE FROM roots WHERE key_id=?", (key_id,)).rowcount > 0

    def roots(self) -> list[tuple[bytes, bytes, str]]:
        rows = self.db.execute("SELECT key_id, public_key, name FROM roots ORDER BY added_at")
        return [(bytes(a), bytes(b), str(c)) for a, b, c in rows]

    def add_key(self, key_id: bytes, public_key: bytes, now: float) -> None:
        self.db.execute("INSERT OR IGNORE INTO keys VALUES (?,?,?)", (key_id, public_key, now))

    def known_keys(self) -> list[tuple[bytes, bytes]]:
        return [
            (bytes(a), bytes(b)) for a, b in self.db.execute("SELECT key_id, public_key FROM keys")
        ]


_COLUMNS = (
    "id, raw, kind, author, created, received_at, expires_at, lang, text, severity, ref, "
    "status, reason, signer_name, claimed_name, chain, source, hops, snr"
)


def _row(row: tuple[Any, ...]) -> StoredBulletin:
    (ident, raw, kind, author, created, received, expires, lang, text, severity, ref,
     status, reason, signer, claimed, chain, source, hops, snr) = row  # fmt: skip
    return StoredBulletin(
        id=bytes(ident), raw=bytes(raw), kind=Kind(kind), author=bytes(author), created=created,
        received_at=received, expires_at=expires, lang=lang, text=text,
        severity=None if severity is None else SEVERITIES[severity],
        ref=None if ref is None else bytes(ref), status=Status(status), reason=reason,
        signer_name=signer, claimed_name=claimed, chain=chain, source=source, hops=hops, snr=snr,
    )  # fmt: skip


def _where(query: Query) -> tuple[str, tuple[Any, ...]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.kinds:
        clauses.append(f"kind IN ({','.join('?' * len(query.kinds))})")
        params.extend(int(k) for k in query.kinds)
    if query.min_severity is not None:
        clauses.append("severity >= ?")
        params.append(SEVERITIES.index(query.min_severity))
    if query.lang:
        clauses.append("lang = ?")
        params.append(query.lang)
    if query.statuses:
        clauses.append(f"status IN ({','.join('?' * len(query.statuses))})")
        params.extend(str(s) for s in query.statuses)
    if query.author is not None:
        clauses.append("author = ?")
        params.append(query.author)
    if query.since is not None:
        clauses.append("received_at >= ?")
        params.append(query.since)
    if query.before is not None:
        clauses.append("received_at < ?")
        params.append(query.before)
    if query.text:
        clauses.append("instr(text_folded, ?) > 0")
        params.append(query.text.casefold())
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", tuple(params)
