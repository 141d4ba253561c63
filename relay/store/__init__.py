"""SQLite persistence (WAL): bulletins with their verdicts, roots, known keys.

The exact bytes that were verified are stored with the trust decision (attack 13).  Every id ever
stored with a verified signature is also kept in ``seen`` so that a replay of a deleted bulletin is
never new again; a bulletin held while its author's key is unknown (``pending_key``) does not
consume its id: other copies' signatures wait beside it in ``candidates``.  Untrusted rows
(pending or unknown key) are listed in ``untrusted`` with their origin, priority and size, for the
quotas of relay.holding.  A bulletin is written in one transaction; a kill -9 leaves either all
of it or none of it.

Durability (an SD card wears with every write; a radio node loses power without warning): the
journal is a WAL with ``synchronous=NORMAL``, so a commit appends to the WAL and is not flushed
to the card; the WAL is flushed at each checkpoint (about every ``WAL_AUTOCHECKPOINT`` pages)
and when the store closes. A power cut never corrupts the store; it can lose the last commits
since the last flush. What is acknowledged is flushed before the call returns: a commit that
holds one of our own bulletins (source ``local``), an imported bundle's (``bundle``), a root or
a key is made with ``synchronous=FULL`` (the WAL, with every commit before it, reaches the card).
What can be lost is only what other radios sent us since the last flush: nothing was promised
for it, and the sync engine asks neighbours for what the node lacks after it restarts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from relay.read_text import read_text
from relay.store.rows import (
    COLUMNS,
    INSERT_BULLETIN,
    INSERT_SEEN,
    LOOKUP,
    SCHEMA,
    TEXT_READ,
    TEXT_UNREAD,
    TEXT_UNREADABLE,
    UNREAD_INDEX,
    Query,
    StoredBulletin,
    row_of,
    where_of,
)
from relay.trust import Status, Verdict
from relay.wire.bulletin import Bulletin
from relay.wire.fields import SEVERITIES, Kind

__all__ = [
    "SYNCHRONOUS",
    "TEXT_READ",
    "TEXT_UNREAD",
    "TEXT_UNREADABLE",
    "Query",
    "Store",
    "StoredBulletin",
]

SYNCHRONOUS = "NORMAL"  # for commits nothing was promised for (bench/pi.py compares with FULL)
DURABLE_SOURCES = frozenset({"local", "bundle"})  # bulletins acknowledged to a person
WAL_AUTOCHECKPOINT = 1000  # pages (4 KB): checkpoint, and flush, when the WAL grows past this
WAL_LIMIT = 4 << 20  # bytes the WAL file is truncated to after a checkpoint

SEARCH_DECODES = 2000  # texts a search decodes first, at most (the background pass does the rest)


class Store:
    """The node's database; one writer (the daemon), safe against kill -9 mid-write."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        self.db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        self.db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
        self.commits = 0  # transactions this store committed (writes on the card, at most)
        self.durable_commits = 0  # of which flushed at once (acknowledged: see the docstring)
        self._durable = False  # the open transaction holds something acknowledged
        self._full = False  # the open transaction was begun with synchronous=FULL
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(bulletins)")}
        if "text_state" not in columns:  # a store from before texts were read lazily
            self.db.execute(
                "ALTER TABLE bulletins ADD COLUMN text_state INTEGER NOT NULL DEFAULT 1"
            )
            self.db.execute("ALTER TABLE bulletins ADD COLUMN text_error TEXT")
        self.db.execute(UNREAD_INDEX)
        self.unread = self._any_unread()
        self._cursor = self.db.cursor()  # the relay path's statements (no cursor per call)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self, durable: bool = False) -> Iterator[sqlite3.Connection]:
        """One atomic write (joins an enclosing :meth:`batch` if there is one); ``durable``: it
        is acknowledged, flushed to the card when it commits (see the module docstring)."""
        if self.db.in_transaction:
            self._durable = self._durable or durable
            yield self.db
            return
        self._begin(durable)
        try:
            yield self.db
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def _begin(self, durable: bool) -> None:
        if durable:  # the level can only change between transactions
            self.db.execute("PRAGMA synchronous=FULL")
        self._full = durable
        self.db.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        """COMMIT; flushed at once if the transaction holds something acknowledged."""
        self.db.execute("COMMIT")
        self.commits += 1
        if self._full:
            self.db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
            self.durable_commits += 1
        elif self._durable:  # acknowledged, found inside a transaction begun without a flush
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # flushes the WAL, then the db
            self.durable_commits += 1
        self._full = self._durable = False

    def _rollback(self) -> None:
        self.db.execute("ROLLBACK")
        if self._full:
            self.db.execute(f"PRAGMA synchronous={SYNCHRONOUS}")
        self._full = self._durable = False

    def _write(self, durable: bool) -> _Write:
        """:meth:`transaction` for the relay path, without a generator per write."""
        return _Write(self, durable)

    @contextmanager
    def batch(self, durable: bool = True) -> Iterator[None]:
        """Group many writes into one commit (bundle import); all or nothing on a crash. One
        flush for the whole batch unless ``durable`` is False (nothing in it was promised)."""
        with self.transaction(durable):
            yield

    # -- bulletins ---------------------------------------------------------------------------

    def seen(self, bulletin_id: bytes) -> bool:
        """True if this id was ever stored (even if since deleted)."""
        row = self.db.execute("SELECT 1 FROM seen WHERE id = ?", (bulletin_id,)).fetchone()
        return row is not None

    def lookup(self, bulletin_id: bytes) -> tuple[bool, bool]:
        """(seen, held): :meth:`seen`, and whether a row of this id is held, in one statement."""
        seen, held = self._cursor.execute(LOOKUP, (bulletin_id,)).fetchone()
        return bool(seen), bool(held)

    def put(
        self,
        bulletin: Bulletin,
        verdict: Verdict,
        received_at: float,
        expires_at: float | None,
        source: str,
        hops: int | None = None,
        snr: float | None = None,
        seen: bool = True,
        text_read: bool = True,
    ) -> bool:
        """Store a bulletin with its verdict; False if its id is held or was seen before.

        ``seen=False`` (a bulletin whose signature could not be checked yet) leaves the id free.
        ``text_read=False``: the bulletin's text was not decoded (a relay's admission never does);
        it is decoded when read (:attr:`StoredBulletin.text`) or by :meth:`read_texts`.
        """
        content = bulletin.content
        severity = None
        if content.safety is not None:
            severity = SEVERITIES.index(content.safety.severity)
        chain = " <- ".join(f"{link.name}" for link in verdict.chain) or None
        cursor = self._cursor
        with self._write(source in DURABLE_SOURCES):
            if seen:
                cursor.execute(INSERT_SEEN, (bulletin.id, received_at))
                if cursor.rowcount == 0:
                    return False
            text = content.text if text_read else ""
            cursor.execute(
                INSERT_BULLETIN,
                (
                    bulletin.id, bulletin.raw, int(content.kind), content.author,
                    content.created, received_at, expires_at, content.lang, text, severity,
                    content.ref, str(verdict.status), verdict.reason, verdict.name,
                    verdict.claimed_name, chain, source, hops, snr,
                    TEXT_READ if text_read else TEXT_UNREAD, None, text.casefold(),
                ),
            )  # fmt: skip
            if cursor.rowcount == 0:
                if seen:
                    raise sqlite3.IntegrityError("bulletin held without its id in seen")
                return False
        self.unread = self.unread or not text_read
        return True

    def _any_unread(self) -> bool:
        found = self.db.execute("SELECT 1 FROM bulletins WHERE text_state = 0 LIMIT 1")
        return found.fetchone() is not None

    def read_texts(self, limit: int) -> int:
        """Decode up to ``limit`` texts no one has read yet, newest first; how many."""
        if not self.unread:
            return 0
        rows = self.db.execute(
            "SELECT id, raw FROM bulletins WHERE text_state = 0 ORDER BY received_at DESC LIMIT ?",
            (limit,),
        ).fetchall()
        with self.transaction() as db:
            for ident, raw in rows:
                text, error = read_text(bytes(raw))
                db.execute(
                    "UPDATE bulletins SET text = ?, text_folded = ?, text_state = ?, "
                    "text_error = ? WHERE id = ?",
                    (text, text.casefold(), TEXT_READ if error is None else TEXT_UNREADABLE,
                     error, ident),
                )  # fmt: skip
        if len(rows) < limit:
            self.unread = False
        return len(rows)

    def mark_seen(self, bulletin_id: bytes, now: float) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO seen (id, first_seen) VALUES (?, ?)", (bulletin_id, now)
        )

    def replace_raw(self, bulletin_id: bytes, raw: bytes) -> None:
        """Keep the copy whose signature verified (same id, so same content)."""
        self.db.execute("UPDATE bulletins SET raw=? WHERE id=?", (raw, bulletin_id))

    def delete(self, bulletin_id: bytes, forget_seen: bool = False) -> None:
        """Remove a held bulletin with its bookkeeping (eviction, failed candidates)."""
        with self.transaction() as db:
            db.execute("DELETE FROM bulletins WHERE id=?", (bulletin_id,))
            db.execute("DELETE FROM untrusted WHERE id=?", (bulletin_id,))
            db.execute("DELETE FROM candidates WHERE id=?", (bulletin_id,))
            if forget_seen:
                db.execute("DELETE FROM seen WHERE id=?", (bulletin_id,))

    def by_author(
        self, author: bytes, after: bytes = b"", limit: int = 1000
    ) -> list[StoredBulletin]:
        """Up to ``limit`` of ``author``'s bulletins with ids above ``after``, in id order."""
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM bulletins WHERE author=? AND id > ? ORDER BY id LIMIT ?",
            (author, after, limit),
        )
        return [row_of(r) for r in rows]

    def page_after(self, after: bytes, limit: int) -> list[StoredBulletin]:
        """Up to ``limit`` rows with ids above ``after``, in id order (for re-judging all)."""
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM bulletins WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
        )
        return [row_of(r) for r in rows]

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (name, value))

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
        row = self.db.execute(f"SELECT {COLUMNS} FROM bulletins WHERE id=?", (bulletin_id,))
        found = row.fetchone()
        return None if found is None else row_of(found)

    def get_by_prefix(self, prefix_hex: str) -> list[StoredBulletin]:
        """Bulletins whose hex id starts with ``prefix_hex`` (for the CLI and the UI)."""
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM bulletins WHERE hex(id) LIKE ? LIMIT 5",
            (prefix_hex.upper() + "%",),
        )
        return [row_of(r) for r in rows]

    def referring(self, bulletin_id: bytes) -> list[StoredBulletin]:
        """Corrections and retractions of ``bulletin_id`` by its own author (only they may)."""
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM bulletins WHERE ref=? AND author = "
            "(SELECT author FROM bulletins WHERE id=?) ORDER BY created",
            (bulletin_id, bulletin_id),
        )
        return [row_of(r) for r in rows]

    def query(self, query: Query) -> list[StoredBulletin]:
        """Bulletins matching ``query``, newest received first."""
        if query.text:
            self.read_texts(SEARCH_DECODES)  # a search looks into texts: read the unread first
        where, params = where_of(query)
        sql = f"SELECT {COLUMNS} FROM bulletins {where} ORDER BY received_at DESC, id"
        sql += " LIMIT ? OFFSET ?"
        rows = self.db.execute(sql, (*params, max(0, min(query.limit, 1000)), query.offset))
        return [row_of(r) for r in rows]

    def count(self, query: Query) -> int:
        if query.text:
            self.read_texts(SEARCH_DECODES)
        where, params = where_of(query)
        row = self.db.execute(f"SELECT count(*) FROM bulletins {where}", params).fetchone()
        return int(row[0])

    def by_status(self, statuses: tuple[Status, ...]) -> list[StoredBulletin]:
        marks = ",".join("?" * len(statuses))
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM bulletins WHERE status IN ({marks})",
            tuple(str(s) for s in statuses),
        )
        return [row_of(r) for r in rows]

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
        with self.transaction(durable=True) as db:
            db.execute(
                "INSERT OR REPLACE INTO roots VALUES (?,?,?,?)", (key_id, public_key, name, now)
            )

    def remove_root(self, key_id: bytes) -> bool:
        with self.transaction(durable=True) as db:
            return db.execute("DELETE FROM roots WHERE key_id=?", (key_id,)).rowcount > 0

    def roots(self) -> list[tuple[bytes, bytes, str]]:
        rows = self.db.execute("SELECT key_id, public_key, name FROM roots ORDER BY added_at")
        return [(bytes(a), bytes(b), str(c)) for a, b, c in rows]

    def add_key(self, key_id: bytes, public_key: bytes, now: float) -> None:
        with self.transaction(durable=True) as db:
            db.execute("INSERT OR IGNORE INTO keys VALUES (?,?,?)", (key_id, public_key, now))

    def known_keys(self) -> list[tuple[bytes, bytes]]:
        return [
            (bytes(a), bytes(b)) for a, b in self.db.execute("SELECT key_id, public_key FROM keys")
        ]


class _Write:
    """One atomic write, or a part of the enclosing transaction (as :meth:`Store.transaction`)."""

    __slots__ = ("durable", "own", "store")

    def __init__(self, store: Store, durable: bool) -> None:
        self.store = store
        self.durable = durable
        self.own = False

    def __enter__(self) -> None:
        store = self.store
        if store.db.in_transaction:
            store._durable = store._durable or self.durable
        else:
            store._begin(self.durable)
            self.own = True

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self.own:
            return
        if kind is None:
            self.store._commit()
        else:
            self.store._rollback()
