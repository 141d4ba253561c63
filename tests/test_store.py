"""The SQLite store: queries, dedupe, clock-tolerant expiry and crash safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from relay.ingest import Ingest
from relay.lifetime import MAX_SKEW, expires_at, is_expired
from relay.store import Query, Store
from relay.trust import Status
from relay.wire.fields import Kind
from tests.conftest import make_identity
from tests.helpers import T0, news, safety

ROOT = make_identity("root")
NOW = float(T0 + 60)


def filled(tmp_path: Path) -> Ingest:
    node = Ingest(Store(tmp_path / "s.sqlite3"))
    node.add_root(ROOT.public_key, "Root", NOW)
    node.ingest(news(ROOT, "Вода будет завтра в 10:00").raw, NOW, "radio")
    node.ingest(news(ROOT, "Water tomorrow at ten", created=T0 + 1).raw, NOW + 1, "radio")
    node.ingest(safety(ROOT, severity="extreme").raw, NOW + 2, "radio")
    node.ingest(safety(ROOT, severity="minor", created=T0 + 5).raw, NOW + 3, "radio")
    return node


def test_queries(tmp_path: Path) -> None:
    store = filled(tmp_path).store
    assert [r.received_at for r in store.query(Query())] == [NOW + 3, NOW + 2, NOW + 1, NOW]
    assert len(store.query(Query(kinds=(Kind.SAFETY,)))) == 2
    assert [r.severity for r in store.query(Query(min_severity="severe"))] == ["extreme"]
    assert len(store.query(Query(text="ВОДА"))) == 1  # Cyrillic case-insensitive
    assert len(store.query(Query(statuses=(Status.TRUSTED,)))) == 4
    assert len(store.query(Query(statuses=(Status.REVOKED,)))) == 0
    assert len(store.query(Query(since=NOW + 2))) == 2
    assert len(store.query(Query(limit=1, offset=1))) == 1
    assert store.count(Query(kinds=(Kind.NEWS,))) == 2


def test_expiry_tolerates_wrong_author_clock() -> None:
    day = 86400.0
    # Author's clock three days slow: full lifetime from receipt.
    assert expires_at(T0, 3600, T0 + 3 * day) == T0 + 3 * day + 3600
    # Author's clock ahead: life starts at created, never lost early.
    assert expires_at(T0 + int(day), 3600, T0) == T0 + day + 3600
    # A replay weeks later is expired on arrival.
    replay_at = T0 + 30 * day
    expiry = expires_at(T0, 3600, replay_at)
    assert expiry == T0 + MAX_SKEW + 3600 and is_expired(expiry, replay_at)
    assert expires_at(T0, None, replay_at) is None


def test_kill_minus_nine_mid_write_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """A writer killed with SIGKILL leaves every committed bulletin intact and readable."""
    db = tmp_path / "crash.sqlite3"
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent.parent)!r})
        from relay.ingest import Ingest
        from relay.store import Store
        from tests.conftest import make_identity
        from tests.helpers import news
        root = make_identity("root")
        node = Ingest(Store({str(db)!r}))
        node.add_root(root.public_key, "Root", 0.0)
        for i in range(10_000):
            raw = news(root, f"bulletin {{i}}", created=1_767_225_600 + i).raw
            node.ingest(raw, 1.0 + i, "radio")
            print(i, flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 150:
            break
    os.kill(proc.pid, 9)
    proc.wait()
    store = Store(db)
    count = store.count(Query())
    assert count >= acknowledged + 1
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_store_from_before_lazy_texts_is_migrated_and_keeps_its_texts(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    node = filled(tmp_path)
    node.store.read_texts(100)
    node.store.close()
    # Make it look like a store written before texts were read lazily: no text_state column.
    db = sqlite3.connect(path if path.exists() else tmp_path / "s.sqlite3")
    db.execute("DROP INDEX bulletins_unread")
    db.execute("ALTER TABLE bulletins DROP COLUMN text_error")
    db.execute("ALTER TABLE bulletins DROP COLUMN text_state")
    db.commit()
    db.close()
    store = Store(tmp_path / "s.sqlite3")
    assert not store.unread  # every old row had its text decoded at ingest
    rows = store.query(Query())
    assert len(rows) == 4 and all(r.text and r.text_error is None for r in rows)
    assert store.query(Query(text="water"))[0].text == "Water tomorrow at ten"


def test_unread_texts_are_read_by_slices_and_the_flag_survives_a_restart(tmp_path: Path) -> None:
    node = filled(tmp_path)
    assert node.store.unread
    assert node.store.read_texts(3) == 3 and node.store.unread
    node.store.close()
    store = Store(tmp_path / "s.sqlite3")
    assert store.unread  # one left, found again at start
    assert store.read_texts(3) == 1 and not store.unread
    assert store.read_texts(3) == 0


def test_acknowledged_writes_are_flushed_and_relayed_ones_wait(tmp_path: Path) -> None:
    """Own bulletins, roots and keys commit with synchronous=FULL; what radios sent does not
    (docs in relay.store: a power cut can lose only what was never acknowledged)."""
    node = Ingest(Store(tmp_path / "s.sqlite3"))
    store = node.store
    node.add_root(ROOT.public_key, "Root", NOW)
    assert store.durable_commits == 1
    before = (store.commits, store.durable_commits)
    node.ingest(news(ROOT, "heard over the air").raw, NOW, "radio")
    assert (store.commits, store.durable_commits) == (before[0] + 1, before[1])
    node.ingest(news(ROOT, "my own", created=T0 + 1).raw, NOW, "local")
    assert (store.commits, store.durable_commits) == (before[0] + 2, before[1] + 1)
    with store.batch(durable=False):  # a batch of relayed bulletins holding one of our own
        node.ingest(news(ROOT, "relayed", created=T0 + 2).raw, NOW, "radio")
        node.ingest(news(ROOT, "mine again", created=T0 + 3).raw, NOW, "local")
    assert (store.commits, store.durable_commits) == (before[0] + 3, before[1] + 2)
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL between commits
    assert len(store.query(Query())) == 4
