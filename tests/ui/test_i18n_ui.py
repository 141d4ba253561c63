"""The UI in the user's language against a real daemon: a text of several packets is announced
before it is sent (packets, airtime, characters per packet), and high contrast never leaves a
verdict to colour alone."""

from __future__ import annotations

import asyncio

from tests.daemon.conftest import DaemonProcess
from tests.test_i18n import LONG_TEXT
from tests.ui.conftest import until
from tui.app import JarshyApp
from tui.feed import FeedList
from tui.i18n import t
from tui.screens import ComposeScreen
from tui.screens.dialogs import ConfirmScreen, PassphraseScreen


def rendered(widget: object) -> str:
    return str(widget.render())  # type: ignore[attr-defined]


async def test_a_long_text_is_announced_in_packets_and_characters(fast_sim: DaemonProcess) -> None:
    assert (await asyncio.to_thread(fast_sim.cli, "keys", "new", "Alice")).returncode == 0
    app = JarshyApp(fast_sim.socket, lang="ru")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, app.connected.is_set)
        await pilot.press("c")
        screen = app.screen
        assert isinstance(screen, ComposeScreen)
        await until(pilot, lambda: screen.query_one("#identity").value == "Alice")  # type: ignore[attr-defined]
        screen.query_one("#text").insert(LONG_TEXT)  # type: ignore[attr-defined]
        # the meter gives the limit in characters of this text, not only in bytes
        await until(pilot, lambda: "симв. этого текста" in rendered(screen.query_one("#meter")))
        assert screen.fit_chars is not None and 50 < screen.fit_chars < len(LONG_TEXT)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        question = app.screen.question  # type: ignore[attr-defined]
        assert "пакетов:" in question and "LONG_FAST" in question
        assert f"{screen.fit_chars} симв." in question
        await pilot.press("n")  # the author shortens it instead
        await until(pilot, lambda: t("not_sent", "ru") in rendered(screen.query_one("#outcome")))
        assert not isinstance(app.screen, PassphraseScreen)


async def test_high_contrast_rows_say_their_verdict_in_words(fast_sim: DaemonProcess) -> None:
    app = JarshyApp(fast_sim.socket, lang="kk")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: len(app.model) >= 3)
        await pilot.press("h")
        assert app.theme == "jarshy-high-contrast"
        feed = app.screen.query_one(FeedList)
        words = {
            t(s, "kk") for s in ("trusted", "unknown_key", "pending_key", "revoked", "invalid")
        }
        rows = [feed.render_line(y * feed.row_height).text for y in range(min(3, len(app.model)))]
        assert rows and all(any(word in row[:16] for word in words) for row in rows), rows


def test_the_bulletin_screen_gives_local_times_and_the_expiry_in_words() -> None:
    from tui.screens.bulletin import detail_text, heading_text

    now = 1_796_461_380.0
    b = {"kind": "safety", "severity": "extreme", "event": "fire", "author": "ab" * 8,
         "created": now - 600, "received_at": now - 590, "expires_at": now + 3 * 3600,
         "status": "trusted", "signer_name": "Almaty desk"}  # fmt: skip
    kk = detail_text(b, "kk", now)
    assert "3 сағаттан кейін" in kk and "жел." in kk and str(int(now)) not in kk
    assert "через 3 часа" in detail_text(b, "ru", now)
    assert heading_text(b, "kk").startswith("[b]қауіпсіздік дабылы[/b] · өте жоғары")
