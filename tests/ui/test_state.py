"""The UI's plain state: order, pinning, filters, counts, badges and texts (no Textual involved)."""

from __future__ import annotations

import random
from typing import Any

from tui.i18n import LANGUAGES, MESSAGES, default_language, t
from tui.state import (
    STATUSES,
    FeedModel,
    Filters,
    author_label,
    badge,
    delivery_text,
    meter_text,
    order_key,
    status_line,
)


def bulletin(i: int, **kw: Any) -> dict[str, Any]:
    base = {"id": f"{i:016x}", "kind": "news", "status": "trusted", "received_at": float(i),
            "created": 1_767_225_600 + i, "text": f"text {i}", "lang": "ru", "author": "ab" * 8,
            "severity": None, "expired": False, "expires_at": None}  # fmt: skip
    return {**base, **kw}


def test_active_alerts_pinned_by_severity_then_newest() -> None:
    model = FeedModel()
    model.upsert(bulletin(1))
    model.upsert(bulletin(2, kind="safety", severity="minor"))
    model.upsert(bulletin(3, kind="safety", severity="extreme"))
    model.upsert(bulletin(4))
    model.upsert(bulletin(5, kind="safety", severity="extreme", expired=True))
    model.upsert(bulletin(6, kind="safety", severity="severe", status="unknown_key"))
    model.upsert(bulletin(7, kind="safety", severity="extreme", status="invalid"))
    assert [b["id"][-1] for b in model.rows()] == ["3", "2", "7", "6", "5", "4", "1"]


def test_alert_unpins_when_it_expires() -> None:
    model = FeedModel()
    model.upsert(bulletin(1, kind="safety", severity="extreme", expires_at=100.0))
    model.upsert(bulletin(2))
    assert model.row(0)["id"][-1] == "1" and model.counts()["alerts"] == 1
    assert model.expire(now=99.0) == 0
    assert model.expire(now=100.0) == 1
    assert [b["id"][-1] for b in model.rows()] == ["2", "1"]
    assert model.counts()["alerts"] == 0 and model.row(1)["expired"]


def test_incremental_order_and_counts_match_a_full_rebuild() -> None:
    rng = random.Random(5)
    model = FeedModel()
    items = [bulletin(i, kind=rng.choice(["news", "safety"]), status=rng.choice(STATUSES),
                      severity=rng.choice(["minor", "extreme", None])) for i in range(300)]  # fmt: skip
    rng.shuffle(items)
    for b in items:
        model.upsert(b)
    for b in items[:40]:
        model.update_verdict({"id": b["id"], "status": rng.choice(STATUSES), "reason": "x"})
    model.upsert({**items[50], "text": "edited", "received_at": 1e9})
    incremental = ([b["id"] for b in model.rows()], model.counts())
    model.refilter()
    assert incremental == ([b["id"] for b in model.rows()], model.counts())
    assert incremental[0] == [b["id"] for b in sorted(model.bulletins.values(), key=order_key)]


def test_filters_and_counts() -> None:
    model = FeedModel()
    model.upsert(bulletin(1, lang="kk"))
    model.upsert(bulletin(2, status="unknown_key", text="Су жоқ"))
    model.upsert(bulletin(3, kind="safety", severity="severe"))
    model.upsert(bulletin(4, status="invalid", kind="safety", severity="minor"))
    model.filters.trusted_only = True
    model.refilter()
    assert model.counts() == {"shown": 2, "total": 4, "trusted": 2, "unknown": 0, "bad": 0,
                              "alerts": 1}  # fmt: skip
    model.filters = Filters(text="СУ")
    model.refilter()
    assert [b["id"][-1] for b in model.rows()] == ["2"]
    model.filters = Filters(lang="kk")
    model.refilter()
    assert len(model) == 1
    model.filters = Filters(min_severity="moderate")
    model.refilter()
    assert [b["id"][-1] for b in model.rows()] == ["3"]
    model.filters = Filters(kind="safety")
    model.refilter()
    assert model.counts()["bad"] == 1 and len(model) == 2
    model.upsert(bulletin(5))  # filtered out on arrival, counted in the total
    assert len(model) == 2 and model.counts()["total"] == 5


def test_delivery_updates_do_not_disturb_order() -> None:
    model = FeedModel()
    model.upsert(bulletin(1))
    model.upsert(bulletin(2))
    assert model.update_delivery({"id": bulletin(1)["id"], "delivery": "held", "held_by": 3})
    assert not model.update_delivery({"id": "ff" * 8, "delivery": "sent"})
    assert model.rows()[1]["held_by"] == 3 and model.index_of(bulletin(2)["id"]) == 0


def test_badges_are_glyph_and_word_in_every_language() -> None:
    for lang in LANGUAGES:
        words = set()
        for status in STATUSES:
            text = badge(status, lang)
            glyph, word = text.split(" ", 1)
            assert glyph in "✔?…✖" and word.isupper()
            words.add(word)
        assert len(words) == len(STATUSES)  # revoked and forged share a glyph, never a word
    assert badge("invalid", "en") == "✖ FORGED"


def test_claimed_names_look_different_from_trusted_ones() -> None:
    assert author_label(bulletin(1, signer_name="Newsroom"), "en") == "Newsroom"
    assert author_label(bulletin(1, claimed_name="Newsroom"), "en") == "claims: Newsroom"
    assert author_label(bulletin(1, claimed_name="Newsroom"), "ru") == "называет себя: Newsroom"
    assert author_label(bulletin(1), "en") == "key abababab"


def test_delivery_progression_is_honest() -> None:
    text = delivery_text("sent", None, "en")
    assert text == "● queued → ● sent to radio → ○ heard by the mesh → ○ held by 0 stores"
    assert delivery_text("held", 4, "en").endswith("● held by 4 stores")
    assert "delivered" not in " ".join(MESSAGES[k]["en"] for k in MESSAGES)


def test_meter_and_status_texts() -> None:
    size = {"bytes": 240, "packets": 2, "fits": False, "preset": "LONG_FAST",
            "airtime_ms": {"LONG_FAST": 4100}}  # fmt: skip
    assert meter_text(size, 300, "en") == (
        "300 chars → 240 bytes on air · 2 fragment(s) · 4.1 s on LONG_FAST · "
        "✖ does not fit one packet (2)"
    )
    assert "fits one packet" in meter_text({**size, "packets": 1, "fits": True}, 10, "en")
    assert meter_text(None, 0, "en") == t("meter_empty", "en")
    simulated, line = status_line({"link": {"state": "up", "simulated": True}, "nodes": [{}]}, "en")
    assert simulated and "1 nodes" in line


def test_catalogue_is_complete_and_formats(monkeypatch: Any) -> None:
    for key, table in MESSAGES.items():
        assert set(table) == set(LANGUAGES), key
        fields = {f for f in ("n", "name", "s") if "{" + f + "}" in table["en"]}
        for lang in LANGUAGES:
            assert fields <= {f for f in fields if "{" + f + "}" in table[lang]}, (key, lang)
    monkeypatch.setenv("JARSHY_LANG", "kk_KZ.UTF-8")
    assert default_language() == "kk"
    monkeypatch.delenv("JARSHY_LANG")
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    assert default_language() == "ru"
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    assert default_language() == "en"


def test_mesh_screen_names_radios_the_spam_brake_ignores() -> None:
    from tui.screens.mesh import mesh_text

    status = {"link": {"state": "up", "ignored_radios": [{"node": "!5bad5bad", "until": 0}]}}
    assert "!5bad5bad" in mesh_text(status, "ru", 0.0) and "подделки" in mesh_text(
        status, "ru", 0.0
    )
    assert "spam brake" not in mesh_text({"link": {"state": "up"}}, "en", 0.0)


def test_safe_values_cannot_touch_the_markup_around_them() -> None:
    """tui.state.safe: inert, and whatever the value, Textual's markup parser shows it verbatim."""
    from textual.content import Content

    from relay.inert import inert_line
    from tui.state import safe

    for value in ("q [2K] [31m", "[bold]b[/bold]", "end\\", "mid\\[b]x", "\x1b[1A\u202e[/]\n"):
        shown = Content.from_markup(f"[dim]<{safe(value)}>[/dim][b]x[/b]").plain
        assert shown in (f"<{inert_line(value)}>x", f"<{inert_line(value)} >x")


def test_an_unreadable_text_is_said_in_the_ui_language_never_shown_as_text() -> None:
    from tui.screens.bulletin import body_text
    from tui.state import shown_text

    b = bulletin(1, text="", text_error="bad-text: text does not decode: \x1b[31mred")
    for lang in LANGUAGES:
        assert shown_text(b, lang) == t("text_unreadable", lang)
        assert "⚠" in shown_text(b, lang)
    body = body_text(b, "ru").plain
    assert body.startswith(t("text_unreadable", "ru")) and "\x1b" not in body  # the reason, inert
    assert shown_text(bulletin(2), "en") == "text 2"
