"""The simulated mesh's demo feed: varied and drawn from the corpus, trusted where it should be
(real store, real ingest), the same bytes after a restart, bounded; and the spam brake's demo on a
real daemon on the simulated mesh."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from relay.demo_bulletins import (
    AUTHORS,
    CIVIL,
    DEMO,
    DEMO_FLOODER,
    DEMO_NEWSROOM,
    FLOOD,
    FORGERY_SLOT,
    MARKERS,
    REPORTER,
    ROUND,
    STRANGER_SLOT,
    flood,
    key_bulletins,
    lifetime_for,
    slot_bulletin,
)
from relay.ingest import Ingest, Outcome
from relay.mirror_text import MirrorSource, mirror_texts
from relay.simulated import NOISY, RETENTION, VISITOR, prune
from relay.store import Query, Store
from relay.trust import Status
from relay.wire import bulletin as wire
from tests.daemon.conftest import Node, running

CORPUS = Path(__file__).parent / "data" / "corpus" / "train.jsonl"
NOW = 1_767_000_000.0  # a fixed wall clock: 2025-12-29
INTERVAL = 12.0
FIRST = int(NOW // INTERVAL) // ROUND * ROUND + ROUND  # the first slot of a round


def node(tmp_path: Path) -> Ingest:
    ingest = Ingest(Store(tmp_path / "simulated.sqlite3"))
    ingest.add_root(DEMO_NEWSROOM.public_key, DEMO_NEWSROOM.name, NOW)
    for raw in key_bulletins(NOW):
        assert ingest.ingest(raw, NOW, "radio").outcome is Outcome.ACCEPTED
    return ingest


def test_a_round_is_varied_and_every_text_is_the_corpus_text() -> None:
    corpus = {row["id"]: row for row in map(json.loads, CORPUS.read_text().splitlines())}
    for item in DEMO:
        row = corpus[item.corpus_id]
        assert (row["text"], row["lang"]) == (item.text, item.lang), item.corpus_id
        assert item.shown.startswith(MARKERS[item.lang])  # never taken for real news
        source = MirrorSource(bytes(8), item.kind, AUTHORS[item.author].name, item.shown,
                              item.lang, bytes(8) if item.corrects is not None else None)  # fmt: skip
        assert len(mirror_texts(source)) == 1  # one message on the phone app, never parts
    assert set(Counter(i.author for i in DEMO)) == {"desk", REPORTER, CIVIL}
    assert set(Counter(i.lang for i in DEMO)) == {"kk", "ru", "en"}
    assert set(Counter(i.kind for i in DEMO)) == {"news", "safety", "correction"}
    alerts = [i for i in DEMO if i.kind == "safety"]
    assert {i.severity for i in alerts} == {"minor", "moderate", "severe", "extreme"}
    assert len({i.area for i in alerts}) >= 8 and len({i.event for i in alerts}) >= 6
    texts = [slot_bulletin(FIRST + n, INTERVAL) for n in range(ROUND)]
    assert len(set(texts)) == ROUND  # no text twice in a round
    for n in range(ROUND - 1):  # no author twice in a row: the feed alternates
        a, b = (wire.decode(t).content.author for t in texts[n : n + 2])
        assert a != b or n + 1 in (STRANGER_SLOT, FORGERY_SLOT)


def test_a_node_trusting_the_newsroom_trusts_every_author_it_certified(tmp_path: Path) -> None:
    ingest = node(tmp_path)
    verdicts: dict[str, list[str]] = {}
    for n in range(ROUND):
        slot = FIRST + n
        result = ingest.ingest(slot_bulletin(slot, INTERVAL), slot * INTERVAL + 1, "radio")
        if n == FORGERY_SLOT:
            assert result.outcome is Outcome.REJECTED and "signature" in result.reason
            continue
        assert result.verdict is not None
        verdicts.setdefault(result.verdict.status, []).append(result.verdict.name or "")
    assert verdicts.keys() == {Status.TRUSTED, Status.UNKNOWN_KEY}
    assert len(verdicts[Status.UNKNOWN_KEY]) == 1  # the stranger's rumour
    assert set(verdicts[Status.TRUSTED]) == {
        "Simulated newsroom", "Field reporter (simulated)", "Civil protection (simulated)"
    }  # fmt: skip
    store = ingest.store
    held = {row.id for row in store.query(Query(limit=1000))}
    corrections = [r for r in store.query(Query(limit=1000)) if r.ref is not None]
    assert len(corrections) >= 1 and all(r.ref in held for r in corrections)


def test_a_restart_sends_the_same_bulletins_again_never_new_copies(tmp_path: Path) -> None:
    ingest = node(tmp_path)
    slots = range(FIRST, FIRST + 10)
    for slot in slots:
        ingest.ingest(slot_bulletin(slot, INTERVAL), slot * INTERVAL, "radio")
    for raw in flood(NOW):
        ingest.ingest(raw, NOW, "radio")
    count = ingest.store.count(Query(limit=10_000))
    later = NOW + 30 * 60  # restarted half an hour later, the same day
    again = [*key_bulletins(later), *flood(NOW + 60), slot_bulletin(FIRST + 9, INTERVAL)]
    assert {ingest.ingest(raw, later, "radio").outcome for raw in again} == {Outcome.DUPLICATE}
    assert ingest.store.count(Query(limit=10_000)) == count
    assert slot_bulletin(FIRST, INTERVAL) != slot_bulletin(FIRST + ROUND, INTERVAL)  # next round
    assert len(set(flood(NOW))) == FLOOD and flood(NOW) != flood(NOW + 600)


def test_at_most_two_live_copies_of_a_text_and_prune_bounds_the_store(tmp_path: Path) -> None:
    life = lifetime_for(INTERVAL)
    assert ROUND * INTERVAL <= life < 2 * ROUND * INTERVAL
    texts: Counter[bytes] = Counter()  # at the default pace: which texts are live at the end
    slots = range(FIRST, FIRST + 3 * ROUND)
    end = slots[-1] * INTERVAL
    for slot in slots:
        bulletin = wire.decode(slot_bulletin(slot, INTERVAL))
        lifetime = bulletin.content.lifetime
        if lifetime is not None and bulletin.content.created + lifetime > end:
            texts[bulletin.content.text.encode()] += 1
    assert max(texts.values()) == 2  # a text comes back once before its last copy expires
    slow = 120.0  # a slower pace: fewer bulletins span lifetime plus retention
    ingest = node(tmp_path)
    first = int(NOW // slow) // ROUND * ROUND + ROUND
    rounds = 3  # 3 h 18 min of demo at this pace
    with ingest.store.batch():
        for slot in range(first, first + rounds * ROUND):
            ingest.ingest(slot_bulletin(slot, slow), slot * slow, "radio")
    store = ingest.store
    while store.read_texts(1000):
        pass
    end = (first + rounds * ROUND) * slow
    live = [
        r
        for r in store.query(Query(limit=10_000))
        if r.kind.name in ("NEWS", "SAFETY", "CORRECTION") and (r.expires_at or 0) > end
    ]
    assert len(live) >= ROUND - 3 and all(r.stored_text for r in live)
    assert max(Counter(r.stored_text for r in live).values()) <= 2
    before = store.count(Query(limit=10_000))
    gone = prune(store, end)
    after = store.count(Query(limit=10_000))
    assert gone > 0 and after == before - gone
    bound = (lifetime_for(slow) + RETENTION) / slow + 10  # lifetime plus retention, in slots
    assert after <= bound


async def test_the_spam_brake_demo_ignores_the_flood_and_the_forger(tmp_path: Path) -> None:
    async with running(tmp_path / "home") as daemon:

        async def braked() -> set[str] | None:
            status = await daemon.call("status")
            ignored = {r["node"] for r in status["link"].get("ignored_radios", [])}
            return ignored if {f"!{NOISY:08x}", f"!{VISITOR:08x}"} <= ignored else None

        ignored = await daemon.wait_for(braked, timeout=90)
        assert f"!{NOISY:08x}" in ignored
        rows = daemon.daemon.store.query(Query(limit=1000))
        flooded = [r for r in rows if r.author == DEMO_FLOODER.key_id and r.kind.name == "NEWS"]
        assert 0 < len(flooded) <= FLOOD and all(r.status is Status.UNKNOWN_KEY for r in flooded)
        trusted = {
            r.signer_name
            for r in rows
            if r.status is Status.TRUSTED and r.kind.name != "CERTIFICATE"
        }
        assert trusted and trusted <= {
            "Simulated newsroom", "Field reporter (simulated)", "Civil protection (simulated)"
        }  # fmt: skip


async def test_a_restarted_simulation_adds_no_copies_of_what_it_sent(tmp_path: Path) -> None:
    home = tmp_path / "home"

    def kinds(store: Store) -> Counter[str]:
        return Counter(r.kind.name for r in store.query(Query(limit=10_000)))

    async def ran_past(node: Node, wall: float) -> bool:
        rows = node.daemon.store.query(Query(statuses=(Status.TRUSTED,), limit=10_000))
        return any(r.kind.name == "NEWS" and r.created >= wall for r in rows)

    async with running(home) as first:
        begun = time.time()
        await first.wait_for(lambda: ran_past(first, begun + 3), timeout=60)
        before = kinds(first.daemon.store)
    assert before["CERTIFICATE"] == 2 and before["ANNOUNCEMENT"] == 2
    async with running(home) as again:  # the keys of the day are sent again on start
        begun = time.time()
        await again.wait_for(lambda: ran_past(again, begun + 3), timeout=60)
        after = kinds(again.daemon.store)
    assert after["CERTIFICATE"] == 2 and after["ANNOUNCEMENT"] == 2
    assert after["NEWS"] > before["NEWS"]  # the feed went on, with new slots only
