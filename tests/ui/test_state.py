"""The UI's plain state: order, pinning, filters, badges (no Textual involved)."""

from __future__ import annotations

import random
from typing import Any

from tui.i18n import t
from tui.state import FeedModel, author_label, badge, order_key


def bulletin(i: int, **kw: Any) -> dict[str, Any]:
    base = {
        "id": f"{i:016x}",
        "kind": "news",
        "status": "trusted",
        "received_at": float(i),
        "created": 1_767_225_600 + i,
        "text": f"text {i}",
        "lang": "ru",
        "author": "ab" * 8,
        "severity": None,
        "expired": False,
    }
    return {**base, **kw}


def test_active_alerts_pinned_by_severity_then_newest() -> None:
    model = FeedModel()
    model.upsert(bulletin(1))
    model.upsert(bulletin(2, kind="safety", severity="minor"))
    model.upsert(bulletin(3, kind="safety", severity="extreme"))
    model.upsert(bulletin(4))
    model.upsert(bulletin(5, kind="safety", severity="extreme", expired=True))
    model.upsert(bulletin(6, kind="safety", severity="severe", status="unknown_key"))
    assert [b["id"][-1] for b in model.rows()] == ["3", "2", "6", "5", "4", "1"]


def test_incremental_order_matches_full_sort() -> None:
    rng = random.Random(5)
    model = FeedModel()
    items = [
        bulletin(
            i,
            kind=rng.choice(["news", "safety"]),
            severity=rng.choice(["minor", "extreme", None]),
            status=rng.choice(["trusted", "unknown_key"]),
        )
        for i in range(300)
    ]
    rng.shuffle(items)
    for b in items:
        model.upsert(b)
    model.update_verdict({"id": items[0]["id"], "status": "revoked", "reason": "key revoked"})
    assert [b["id"] for b in model.rows()] == [
        b["id"] for b in sorted(model.bulletins.values(), key=order_key)
    ]


def test_filters_and_counts() -> None:
    model = FeedModel()
    model.upsert(bulletin(1, lang="kk"))
    model.upsert(bulletin(2, status="unknown_key", text="Су жоқ"))
    model.upsert(bulletin(3, kind="safety", severity="severe"))
    model.filters.trusted_only = True
    model.refilter()
    assert model.counts() == {"shown": 2, "trusted": 2, "alerts": 1}
    model.filters.trusted_only = False
    model.filters.text = "СУ"
    model.refilter()
    assert [b["id"][-1] for b in model.rows()] == ["2"]
    model.filters.text = ""
    model.filters.lang = "kk"
    model.refilter()
    assert len(model) == 1


def test_badges_are_glyph_and_word_in_every_language() -> None:
    for lang in ("en", "ru", "kk"):
        for status in ("trusted", "unknown_key", "pending_key", "revoked", "invalid"):
            text = badge(status, lang)
            glyph, word = text.split(" ", 1)
            assert glyph in "✔?…✖" and word == t(status, lang) and word
    assert badge("invalid", "en") == "✖ FORGED"


def test_claimed_names_look_different_from_trusted_names() -> None:
    assert author_label(bulletin(1, signer_name="Newsroom"), "en") == "Newsroom"
    claimed = author_label(bulletin(1, signer_name=None, claimed_name="Newsroom"), "en")
    assert claimed == "claims: Newsroom"
