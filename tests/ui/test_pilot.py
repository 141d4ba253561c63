"""The UI driven by Textual's pilot against real daemons (simulated mesh, emulated radios)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import DaemonProcess, start_daemon
from tui.app import JarshyApp
from tui.feed import FeedList
from tui.screens import BulletinScreen


@pytest.fixture
def fast_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DaemonProcess]:
    monkeypatch.setenv("JARSHY_SIM_INTERVAL", "0.5")
    daemon = start_daemon(tmp_path / "home", "--simulate")
    yield daemon
    daemon.stop()


async def until(pilot: object, condition: Callable[[], bool], timeout: float = 45.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)  # type: ignore[attr-defined]
    raise AssertionError("condition not met in time")


async def test_feed_filters_language_and_forgery(fast_sim: DaemonProcess) -> None:
    app = JarshyApp(fast_sim.socket, lang="en")
    async with app.run_test(size=(120, 40)) as pilot:
        statuses = lambda: {b["status"] for b in app.model.bulletins.values()}  # noqa: E731
        await until(pilot, lambda: {"trusted", "unknown_key", "invalid"} <= statuses())
        forged = next(b for b in app.model.bulletins.values() if b["status"] == "invalid")
        assert "signature" in forged["reason"]
        total = len(app.model)
        await pilot.press("t")
        assert 0 < len(app.model) < total
        assert all(b["status"] == "trusted" for b in app.model.rows())
        await pilot.press("t", "g")
        assert app.lang == "ru"
        assert "только доверенные" in str(app.query_one("#filters").render())
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(app.screen, BulletinScreen))
        detail = str(app.screen.query_one("#detail").render())
        assert "Почему" in detail
        await pilot.press("escape", "question_mark")
        assert "ПОДДЕЛКА" in str(app.screen.query_one("#help-text").render())


async def test_banner_when_daemon_lost_and_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    daemon = await asyncio.to_thread(start_daemon, home, "--simulate")
    app = JarshyApp(daemon.socket, lang="en")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.connected.is_set())
        await asyncio.to_thread(daemon.stop)
        banner = app.query_one("#banner")
        await until(pilot, lambda: banner.display)
        assert "reconnecting" in str(banner.render())
        again = await asyncio.to_thread(start_daemon, home, "--simulate")
        try:
            await until(pilot, lambda: not banner.display and app.connected.is_set())
        finally:
            await asyncio.to_thread(again.stop)


async def test_compose_sign_send_reaches_another_daemons_ui(
    two_radios: list[str], tmp_path: Path
) -> None:
    alice = await asyncio.to_thread(start_daemon, tmp_path / "alice", "--radio", two_radios[0])
    bob = await asyncio.to_thread(start_daemon, tmp_path / "bob", "--radio", two_radios[1])
    try:
        created = await asyncio.to_thread(alice.cli, "keys", "new", "Alice")
        assert created.returncode == 0
        share = (await asyncio.to_thread(alice.cli, "keys", "export")).stdout.strip()
        await asyncio.to_thread(bob.call, "trust.add", share=share)
        writer, reader = JarshyApp(alice.socket, lang="en"), JarshyApp(bob.socket, lang="en")
        async with writer.run_test(size=(120, 40)) as wp, reader.run_test(size=(120, 40)) as rp:
            await until(wp, lambda: writer.connected.is_set())
            await until(rp, lambda: reader.connected.is_set())
            await wp.press("c")
            await wp.pause(0.5)
            screen = writer.screen
            screen.query_one("#text").insert("Вода будет завтра с 10:00.")  # type: ignore[attr-defined]
            await until(wp, lambda: "fits one packet" in str(screen.query_one("#meter").render()))
            screen.query_one("#passphrase").value = "test passphrase"  # type: ignore[attr-defined]
            await until(wp, lambda: screen.query_one("#identity").value == "Alice")  # type: ignore[attr-defined]
            await wp.click("#send")
            await until(wp, lambda: "✔" in str(screen.query_one("#outcome").render()))

            def arrived() -> bool:
                return any(b["text"] == "Вода будет завтра с 10:00." and b["status"] == "trusted"
                           for b in reader.model.bulletins.values())  # fmt: skip

            await until(rp, arrived, timeout=60)
            rows = reader.query_one(FeedList)
            assert len(rows.model) >= 1
    finally:
        await asyncio.to_thread(alice.stop)
        await asyncio.to_thread(bob.stop)


async def test_feed_pages_in_older_bulletins(tmp_path: Path) -> None:
    """With more bulletins than one page, moving to the end of the feed loads the older ones."""
    home = tmp_path / "home"
    daemon = await asyncio.to_thread(start_daemon, home, "--simulate")
    try:
        from tests.ui.bulk import import_bulk

        await asyncio.to_thread(import_bulk, daemon, 700)
        app = JarshyApp(daemon.socket, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: len(app.model.bulletins) >= 500)
            first_page = len(app.model.bulletins)
            assert first_page < 700
            for _ in range(30):
                await pilot.press("pagedown")
            await until(pilot, lambda: len(app.model.bulletins) >= 700)
    finally:
        await asyncio.to_thread(daemon.stop)
