"""The store's schema, its rows as values, and the SQL of queries (relay.store uses them)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from relay.read_text import read_text
from relay.trust import Status
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
    snr REAL,
    text_state INTEGER NOT NULL DEFAULT 1,
    text_error TEXT
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
CREATE TABLE IF NOT EXISTS untrusted (
    id BLOB PRIMARY KEY, origin TEXT NOT NULL, priority INTEGER NOT NULL, size INTEGER NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS untrusted_origin ON untrusted (origin);
CREATE INDEX IF NOT EXISTS untrusted_order ON untrusted (priority, received_at);
CREATE TABLE IF NOT EXISTS candidates (
    id BLOB NOT NULL, signature BLOB NOT NULL, PRIMARY KEY (id, signature)
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# text_state: whether the text blob was decoded (docs/protocol.md §4, "When the text is checked")
TEXT_UNREAD, TEXT_READ, TEXT_UNREADABLE = 0, 1, 2
UNREAD_INDEX = (
    "CREATE INDEX IF NOT EXISTS bulletins_unread ON bulletins (received_at) WHERE text_state = 0"
)
# Without an adapter for their exact type, sqlite3 looks up an adaptation protocol for every
# bytes and None parameter (two failed attribute lookups each, about half a microsecond); these
# identity adapters (C callables: bytes(b) is b, {}.get(None) is None) are found in one dict
# lookup. Bound values are unchanged, for every connection of the process.
sqlite3.register_adapter(bytes, bytes)
_NULL: dict[None, None] = {}
sqlite3.register_adapter(type(None), _NULL.get)


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
    stored_text: str  # "" until the text is read (text_state TEXT_UNREAD)
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
    text_state: int = TEXT_READ
    stored_error: str | None = None

    @property
    def text(self) -> str:
        """The text, decoded now if no one read it before ("" if it does not decode)."""
        if self.text_state == TEXT_UNREAD:
            return read_text(self.raw)[0]
        return self.stored_text

    @property
    def text_error(self) -> str | None:
        """Why the text blob does not decode (``bad-text: ...``), or None."""
        if self.text_state == TEXT_UNREAD:
            return read_text(self.raw)[1]
        return self.stored_error


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


COLUMNS = (
    "id, raw, kind, author, created, received_at, expires_at, lang, text, severity, ref, "
    "status, reason, signer_name, claimed_name, chain, source, hops, snr, text_state, text_error"
)
LOOKUP = (
    "SELECT EXISTS (SELECT 1 FROM seen WHERE id = ?1), "
    "EXISTS (SELECT 1 FROM bulletins WHERE id = ?1)"
)
INSERT_SEEN = "INSERT OR IGNORE INTO seen (id, first_seen) VALUES (?, ?)"
INSERT_BULLETIN = (
    f"INSERT OR IGNORE INTO bulletins ({COLUMNS}, text_folded) VALUES "
    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def row_of(row: tuple[Any, ...]) -> StoredBulletin:
    (ident, raw, kind, author, created, received, expires, lang, text, severity, ref,
     status, reason, signer, claimed, chain, source, hops, snr, text_state,
     text_error) = row  # fmt: skip
    return StoredBulletin(
        id=bytes(ident), raw=bytes(raw), kind=Kind(kind), author=bytes(author), created=created,
        received_at=received, expires_at=expires, lang=lang, stored_text=text,
        severity=None if severity is None else SEVERITIES[severity],
        ref=None if ref is None else bytes(ref), status=Status(status), reason=reason,
        signer_name=signer, claimed_name=claimed, chain=chain, source=source, hops=hops, snr=snr,
        text_state=text_state, stored_error=text_error,
    )  # fmt: skip


def where_of(query: Query) -> tuple[str, tuple[Any, ...]]:
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
