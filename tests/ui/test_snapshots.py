"""Pictures of every screen at 80x24 and 120x40, from fixed data (no daemon, fixed clock, UTC)."""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

import pytest
from textual.worker import WorkerCancelled, WorkerFailed

from tests.ui.fixed_data import canned_app

os.environ["TZ"] = "UTC"
time.tzset()

SCREENS = {
    "feed": (),
    "bulletin": ("down", "enter"),  # the newest correction: linked to the bulletin it corrects
    "compose": ("c",),
    "keys": ("y",),
    "mesh": ("m",),
    "help": ("question_mark",),
}


async def settle(pilot: Any) -> None:
    """No cursor blink, workers done, a last refresh."""
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    for worker in list(pilot.app.workers):
        if worker.group != "send":  # send waits for the passphrase prompt
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    await pilot.pause(0.2)
    editable: list[Any] = []
    for _ in range(100):  # a dialog pushed by a worker, or a field focused after the first
        screen = pilot.app.screen  # refresh, takes focus a bit later (seconds on a busy machine)
        editable = list(screen.query("Input, TextArea"))
        focused = pilot.app.focused
        if not editable or (
            focused is not None and focused.screen is screen and focused in editable
        ):
            break
        await pilot.pause(0.1)
    for widget in editable:
        # blink off again *after* focus has landed: turning it off re-reads focus (a widget that
        # got focus after its blink was turned off would otherwise hide its cursor, by chance)
        widget.cursor_blink = True
        widget.cursor_blink = False
        widget.refresh()  # pausing the blink sets the cursor visible but repaints nothing
    await pilot.pause(0.3)  # and let that repaint land before the screenshot
    # A blink toggle queued before the pause can still flip a cursor on a busy machine: the
    # pictures are taken with nothing focused, so no cursor is in them (focus has its own tests).
    pilot.app.set_focus(None)
    for widget in editable:
        widget._cursor_visible = False
        widget.refresh()
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, screen: str, size: tuple[int, int]) -> None:
    assert snap_compare(canned_app(), press=SCREENS[screen], terminal_size=size, run_before=settle)


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_feed_in_other_languages(snap_compare: Any, lang: str) -> None:
    assert snap_compare(canned_app(lang), terminal_size=(80, 24), run_before=settle)


def test_compose_measures_a_safety_alert(snap_compare: Any) -> None:
    async def write(pilot: Any) -> None:
        await pilot.press("c")
        await pilot.pause()
        pilot.app.screen.query_one("#kind").value = "safety"
        pilot.app.screen.query_one("#text").insert("Пожар на Абая 10. Уходите через двор.")
        await pilot.pause(0.3)
        await settle(pilot)

    assert snap_compare(canned_app(), terminal_size=(80, 24), run_before=write)


def test_passphrase_prompt(snap_compare: Any) -> None:
    async def send(pilot: Any) -> None:
        await pilot.press("c")
        await pilot.pause()
        pilot.app.screen.query_one("#text").insert("Вода будет завтра.")
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        for _ in range(50):  # the send worker pushes the prompt: wait for it on a loaded machine
            if any(getattr(i, "password", False) for i in pilot.app.screen.query("Input")):
                break
            await pilot.pause(0.1)
        await settle(pilot)

    assert snap_compare(canned_app(), terminal_size=(80, 24), run_before=send)
