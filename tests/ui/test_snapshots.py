"""Pictures of every screen at 80x24 and 120x40, from fixed data (no daemon, no clock)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from tui.app import JarshyApp
from tui.state import FeedModel

os.environ["TZ"] = "UTC"
time.tzset()

T0 = 1_767_225_600.0
STATUS: dict[str, Any] = {
    "link": {"state": "up", "address": "tcp:127.0.0.1:4403", "simulated": True},
    "radio": {
        "model": "PORTDUINO",
        "firmware": "2.7.15",
        "region": "KZ_863",
        "preset": "LONG_FAST",
        "role": "CLIENT",
        "node_num": 1,
        "name": "Rooftop",
    },
    "nodes": [{"num": 2, "name": "Market", "snr": 6.5, "hops": 0, "last_heard": T0 + 300}],
    "channel_utilization": 4.2,
    "air_util_tx": 0.8,
    "airtime": {"budget_s": 360.0, "used_s": 12.5, "window_s": 3600},
    "queue": {"depth": 1, "by_priority": {"news": 1}},
    "counts": {"trusted": 3},
}


def feed() -> FeedModel:
    model = FeedModel()
    rows = [
        (
            "a1",
            "news",
            "trusted",
            None,
            "Вода будет завтра с 10:00 до 14:00 во всём Медеуском районе.",
            "ru",
            "Almaty Newsroom",
            None,
        ),
        (
            "a2",
            "safety",
            "trusted",
            "extreme",
            "Комендантский час с 23:00 до 07:00. Не выходите из дома.",
            "ru",
            "Almaty Newsroom",
            None,
        ),
        (
            "a3",
            "news",
            "unknown_key",
            None,
            "Ертең барлық дүкендер жабылады дейді.",
            "kk",
            None,
            "Almaty Newsroom",
        ),
        (
            "a4",
            "safety",
            "invalid",
            "extreme",
            "OFFICIAL: evacuate the whole city now.",
            "en",
            None,
            None,
        ),
        ("a5", "news", "revoked", None, "Bank branches open at 9.", "en", "Old key", None),
        ("a6", "news", "pending_key", None, "Дәріханалар 09:00-ден ашық.", "kk", None, None),
    ]
    for i, (ident, kind, status, severity, text, lang, signer, claimed) in enumerate(rows):
        model.upsert({
            "id": ident * 8, "kind": kind, "status": status, "severity": severity, "text": text,
            "lang": lang, "signer_name": signer, "claimed_name": claimed, "author": "cd" * 8,
            "created": T0 + 60 * i, "received_at": T0 + 60 * i + 5, "expired": False,
            "reason": "signature does not match the author's key" if status == "invalid" else "signed by a trusted root",
            "area": "Алматы" if kind == "safety" else None, "event": "curfew" if kind == "safety" else None,
            "source": "radio", "hops": 2, "snr": -7.5, "ref": None, "chain": "Almaty Newsroom" if signer else None,
            "expires_at": None, "delivery": None, "held_by": None,
        })  # fmt: skip
    return model


def app() -> JarshyApp:
    return JarshyApp(None, model=feed(), lang="en", status=dict(STATUS))


SCREENS = {
    "feed": (),
    "bulletin": ("down", "enter"),
    "compose": ("c",),
    "keys": ("y",),
    "mesh": ("m",),
    "help": ("question_mark",),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare: Any, screen: str, size: tuple[int, int]) -> None:
    async def settle(pilot: Any) -> None:
        for widget in pilot.app.screen.query("Input, TextArea"):
            widget.cursor_blink = False
        await pilot.pause()

    assert snap_compare(app(), press=SCREENS[screen], terminal_size=size, run_before=settle)
