"""The UI's panic wipe (Keys screen, F9, one confirmation) and its quit note, against real daemons."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.daemon.conftest import start_daemon
from tests.ui.conftest import until
from tui.app import JarshyApp
from tui.launch import left_running
from tui.screens import KeysScreen
from tui.screens.dialogs import ConfirmScreen


async def test_wipe_from_the_keys_screen_stops_the_daemon_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    daemon = await asyncio.to_thread(start_daemon, home, "--simulate")
    try:
        made = await asyncio.to_thread(daemon.cli, "keys", "new", "Reporter")
        assert made.returncode == 0, made.stderr
        seed_file = (home / "keys" / "Reporter.key").read_bytes()
        for name, value in daemon.env.items():
            if name.startswith("JARSHY_"):
                monkeypatch.setenv(name, value)  # the wipe subprocess wipes this home
        app = JarshyApp(daemon.socket, lang="en")
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, app.connected.is_set)
            await pilot.press("y")
            assert isinstance(app.screen, KeysScreen)
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert str(home) in str(app.screen.question)
            await pilot.press("n")  # No: nothing happens
            await until(pilot, lambda: isinstance(app.screen, KeysScreen))
            assert (home / "keys" / "Reporter.key").exists()
            await pilot.press("f9")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(pilot, lambda: not app.is_running or not home.exists(), timeout=60)
        assert await asyncio.to_thread(daemon.proc.wait, 30) == 0  # stopped through its API
        assert not home.exists()
        assert seed_file[-200:] not in b"".join(
            p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()
        )
    finally:
        await asyncio.to_thread(daemon.stop)


async def test_quitting_says_a_daemon_keeps_running(tmp_path: Path) -> None:
    daemon = await asyncio.to_thread(start_daemon, tmp_path / "home", "--simulate")
    try:
        for lang, word in (("en", "keeps running"), ("ru", "продолжает"), ("kk", "жалғастырады")):
            note = left_running(daemon.socket, lang)
            assert note is not None and word in note and "jarshy daemon stop" in note
    finally:
        await asyncio.to_thread(daemon.stop)
    assert left_running(daemon.socket, "en") is None  # nothing left behind: nothing to say
