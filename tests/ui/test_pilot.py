"""The UI driven by Textual's pilot against real daemons (simulated mesh, emulated radios)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.daemon.conftest import DaemonProcess, start_daemon
from tests.ui.conftest import until
from tui.app import JarshyApp
from tui.feed import FeedList
from tui.messages import FeedChanged
from tui.screens import BulletinScreen, ComposeScreen, HelpScreen, KeysScreen
from tui.screens.dialogs import PassphraseScreen


def rendered(widget: Any) -> str:
    return str(widget.render())


async def test_feed_forgery_filters_language(fast_sim: DaemonProcess) -> None:
    """Simulated bulletins arrive live; the forged one says why; filters and languages switch."""
    seen: list[object] = []
    app = JarshyApp(fast_sim.socket, lang="en")
    async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
        statuses = lambda: {b["status"] for b in app.model.bulletins.values()}  # noqa: E731
        await until(pilot, lambda: {"trusted", "unknown_key", "invalid"} <= statuses())
        assert any(isinstance(m, FeedChanged) for m in seen)
        assert "SIMULATED MESH" in rendered(app.query_one("#status-line"))

        # the forgery: badge, and the reason on its bulletin screen
        feed = app.query_one(FeedList)
        forged = next(i for i, b in enumerate(app.model.rows()) if b["status"] == "invalid")
        feed.action_jump(forged)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BulletinScreen))
        verdict = rendered(app.screen.query_one("#verdict"))
        assert "✖ FORGED" in verdict and "Why:" in verdict and "signature" in verdict
        await pilot.press("escape")

        # filters: trusted only, kind, severity, text; counts follow
        total = len(app.model)
        await pilot.press("t")
        assert 0 < len(app.model) < total
        assert all(b["status"] == "trusted" for b in app.model.rows())
        assert f"{len(app.model)} of" in rendered(app.query_one("#counts"))
        await pilot.press("x", "k")  # clear, then kind = news
        assert {b["kind"] for b in app.model.rows()} == {"news"}
        await pilot.press("x", "s", "s")  # minimum severity: moderate
        assert all(b["severity"] in ("moderate", "severe", "extreme") for b in app.model.rows())
        await pilot.press("x", "slash", *"Симуляция", "enter")
        assert len(app.model) and all("Симуляция" in b["text"] for b in app.model.rows())
        await pilot.press("x")
        assert len(app.model) == len(app.model.bulletins)

        # UI language at run time: feed, footer, open screens
        await pilot.press("question_mark", "g")
        assert app.lang == "ru" and "ПОДДЕЛКА" in rendered(app.screen.query_one("#help-text"))
        await pilot.press("escape")
        assert "только доверенные" in rendered(app.query_one("#filters"))
        assert "СИМУЛЯЦИЯ СЕТИ" in rendered(app.query_one("#status-line"))
        await pilot.press("g")
        assert app.lang == "kk" and "тек сенімді" in rendered(app.query_one("#filters"))
        await pilot.press("g")
        assert app.lang == "en"


async def test_banner_when_daemon_lost_and_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = await asyncio.to_thread(start_daemon, home, "--simulate")
    app = JarshyApp(daemon.socket, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, app.connected.is_set)
        await pilot.press("question_mark")  # the banner shows on every screen
        await asyncio.to_thread(daemon.stop)
        banner = app.screen.query_one(".banner")
        await until(pilot, lambda: banner.display)
        assert "Daemon not reachable" in rendered(banner)
        again = await asyncio.to_thread(start_daemon, home, "--simulate")
        try:
            await until(pilot, lambda: not banner.display and app.connected.is_set())
            assert isinstance(app.screen, HelpScreen)
        finally:
            await asyncio.to_thread(again.stop)


async def test_compose_sign_send_reaches_another_daemons_ui(
    two_radios: list[str], tmp_path: Path
) -> None:
    """Alice writes in her UI (passphrase prompt, live meter); Bob's UI shows it as trusted."""
    alice = await asyncio.to_thread(start_daemon, tmp_path / "alice", "--radio", two_radios[0])
    bob = await asyncio.to_thread(start_daemon, tmp_path / "bob", "--radio", two_radios[1])
    text = "Вода будет завтра с 10:00."
    try:
        assert (await asyncio.to_thread(alice.cli, "keys", "new", "Alice")).returncode == 0
        share = (await asyncio.to_thread(alice.cli, "keys", "export")).stdout.strip()
        writer, reader = JarshyApp(alice.socket, lang="en"), JarshyApp(bob.socket, lang="en")
        async with writer.run_test(size=(80, 24)) as wp, reader.run_test(size=(120, 40)) as rp:
            await until(wp, writer.connected.is_set)
            await until(rp, reader.connected.is_set)

            # Bob trusts Alice through the Keys screen, after seeing her fingerprint
            await rp.press("y")
            keys = reader.screen
            assert isinstance(keys, KeysScreen)
            keys.query_one("#share").value = share  # type: ignore[attr-defined]
            await until(rp, lambda: "fingerprint" in rendered(keys.query_one("#share-check")))
            await rp.press("enter")  # same as the "Trust this key" button
            await until(
                rp, lambda: "now trusting Alice" in rendered(keys.query_one("#share-check"))
            )
            await rp.press("escape")

            await wp.press("c")
            screen = writer.screen
            assert isinstance(screen, ComposeScreen)
            await until(wp, lambda: screen.query_one("#identity").value == "Alice")  # type: ignore[attr-defined]
            screen.query_one("#text").insert(text)  # type: ignore[attr-defined]
            await until(wp, lambda: "fits one packet" in rendered(screen.query_one("#meter")))
            await wp.press("ctrl+s")
            await until(wp, lambda: isinstance(writer.screen, PassphraseScreen))
            await wp.press(*"test passphrase", "enter")
            await until(wp, lambda: "signed by Alice" in rendered(screen.query_one("#outcome")))
            assert "● queued" in rendered(screen.query_one("#delivery"))
            await until(wp, lambda: "● sent to radio" in rendered(screen.query_one("#delivery")),
                        timeout=60)  # fmt: skip

            def arrived() -> dict[str, Any] | None:
                return next((b for b in reader.model.bulletins.values()
                             if b["text"] == text and b["status"] == "trusted"), None)  # fmt: skip

            await until(rp, arrived, timeout=60)
            got = arrived()
            assert got is not None and got["signer_name"] == "Alice" and got["source"] == "radio"
            assert reader.model.index_of(got["id"]) is not None
    finally:
        await asyncio.to_thread(alice.stop)
        await asyncio.to_thread(bob.stop)


async def test_feed_pages_in_older_bulletins(tmp_path: Path) -> None:
    """With more bulletins than one page, moving to the end of the feed loads the older ones."""
    from tests.ui.bulk import import_bulk

    daemon = await asyncio.to_thread(start_daemon, tmp_path / "home", "--simulate")
    try:
        await asyncio.to_thread(import_bulk, daemon, 700)
        app = JarshyApp(daemon.socket, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(app.model.bulletins) >= 500)
            assert len(app.model.bulletins) < 700
            await pilot.press("end")
            await until(pilot, lambda: len(app.model.bulletins) >= 700)
    finally:
        await asyncio.to_thread(daemon.stop)


async def test_a_forged_text_cannot_draw_a_verdict(tmp_path: Path) -> None:
    """Terminal spoofing: a bulletin with a random author id and a junk signature whose text holds
    line breaks, ANSI codes, a bidi override and Rich markup, taken in by a real daemon from a
    bundle; the feed row and the bulletin screen show it inert, under the real verdict."""
    from relay.bundle import write_bundle
    from tests.test_display_attacks import forged_news

    daemon = await asyncio.to_thread(start_daemon, tmp_path / "home", "--simulate")
    try:
        bundle = tmp_path / "stick.jarshy"
        bundle.write_bytes(write_bundle([forged_news(SPOOF)], []))
        await asyncio.to_thread(daemon.call, "import", path=str(bundle))
        for size in ((120, 40), (80, 24)):
            await show_spoof(daemon, size)
    finally:
        await asyncio.to_thread(daemon.stop)


# What the wire's text rules let through: line breaks, a directional mark, Rich markup.
SPOOF = (
    "Вода.\n✔ TRUSTED safety [extreme] 2026-12-04 10:00 Almaty Newsroom\u200f "
    "[bold red]✔ TRUSTED[/] [link=x]y[/link]"
)


async def show_spoof(
    daemon: DaemonProcess | None, size: tuple[int, int], text: str = SPOOF, app: Any = None
) -> None:
    """Open the bulletin whose text is ``text`` from the feed; check the row and the screen."""
    from relay.inert import inert_block, inert_line
    from tests.test_display_attacks import UNSAFE

    app = app or JarshyApp(daemon.socket if daemon else None, lang="en")

    def spoof_row() -> int | None:
        return next((i for i, b in enumerate(app.model.rows()) if b["text"] == text), None)

    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: spoof_row() is not None)
        feed = app.query_one(FeedList)
        feed.action_jump(spoof_row() or 0)
        await pilot.pause()
        index, h = spoof_row() or 0, feed.row_height
        rows = [feed.render_line(index * h + part - feed.scroll_offset.y).text for part in range(h)]
        for row in rows:
            assert not UNSAFE.search(row)
        assert rows[0].startswith("… PENDING")  # its own badge, first
        assert inert_line(text)[:15] in rows[-1]  # one line: a line break shown as ↵, not taken
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, BulletinScreen))
        screen = app.screen
        verdict = rendered(screen.query_one("#verdict"))
        assert "PENDING" in verdict and "TRUSTED" not in verdict
        shown = rendered(screen.query_one("#detail-text"))
        assert shown.splitlines() == inert_block(text)  # markup shown, not obeyed; escapes too
        assert screen.query_one("#detail-text").styles.border_left[0] != ""  # indented
        for widget in screen.query("Static"):
            assert not UNSAFE.search(rendered(widget))


async def test_terminal_escapes_in_a_held_text_stay_inert() -> None:
    """A text with ESC sequences, a bidi override and a C1 control (refused by today's wire rules,
    but a store filled before them, or another implementation, may hold one) in feed and screen."""
    from tests.test_display_attacks import ANSI_TEXT
    from tests.ui.fixed_data import canned_app

    def app() -> JarshyApp:
        canned = canned_app()
        spoof = {**canned.model.row(0), "id": "ee" * 8, "text": ANSI_TEXT,
                 "status": "pending_key", "claimed_name": "Bank\u202e\x1b[31m",
                 "signer_name": None, "chain": None, "area": "\x1b[2KАлматы", "kind": "news",
                 "severity": None, "event": None, "ref": None,
                 "reason": "author's public key not known yet"}  # fmt: skip
        canned.model.upsert(spoof)

        async def get(method: str, **params: Any) -> Any:
            return {"bulletin": spoof, "corrections": [], "refers_to": None}

        canned.call = get  # type: ignore[method-assign]
        return canned

    for size in ((120, 40), (80, 24)):
        await show_spoof(None, size, ANSI_TEXT, app())


async def test_a_late_feed_event_while_closing_is_harmless() -> None:
    """A daemon event can land after the app's widgets are gone (closing): no crash."""
    from tests.ui.fixed_data import canned_app
    from tui.feed import FeedList

    app = canned_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen_stack[0].query_one(FeedList).remove()
        app.feed_changed()  # would raise NoMatches before
        app.status_changed()
