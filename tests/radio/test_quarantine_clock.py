"""The spam brake's quarantines end by the monotonic clock: a wall clock set back by days (GPS, a
phone) must not leave a neighbour ignored in the radio's flash. Real RadioLink, emulated radio."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from relay.radio.link import RadioLink
from relay.radio_quarantine import MAX_QUARANTINE, RadioQuarantine

SPAMMER = 0x5BAD5BAD
DAYS = 24 * 3600.0


class Wall:
    """A wall clock the test can set back."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_a_wall_clock_set_back_does_not_keep_a_radio_ignored(
    radios: Callable[..., Any], tmp_path: Path
) -> None:
    emu = radios(0x1001, transport="tcp")
    wall = Wall()
    async with RadioLink(emu.address) as link:
        await until(lambda: link.info is not None)
        brake = RadioQuarantine(lambda: link, tmp_path / "ignored.json", wall=wall)
        brake.apply([(SPAMMER, 1.0)])
        await until(lambda: SPAMMER in emu.radio.state.ignored)
        wall.now -= 3 * DAYS  # the clock jumps back mid-quarantine
        await until(lambda: SPAMMER not in emu.radio.state.ignored)
        assert brake.status() == []
        await brake.close()


async def test_a_saved_end_far_ahead_is_believed_only_up_to_the_longest_quarantine(
    radios: Callable[..., Any], tmp_path: Path
) -> None:
    """A file written while the clock ran days ahead: the quarantine still ends within a day."""
    emu = radios(0x1002, transport="tcp")
    wall = Wall()
    saved = tmp_path / "ignored.json"
    saved.write_text(json.dumps({str(SPAMMER): wall.now + 30 * DAYS}))
    async with RadioLink(emu.address) as link:
        await until(lambda: link.info is not None)
        brake = RadioQuarantine(lambda: link, saved, wall=wall)
        brake.link_up()
        await until(lambda: SPAMMER in emu.radio.state.ignored)
        loop = asyncio.get_running_loop()
        assert brake._ends[SPAMMER] <= loop.time() + MAX_QUARANTINE
        await brake.close()
