"""Fixtures for the UI tests: real daemons (simulated mesh or emulated radios), fixed data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.daemon.conftest import DaemonProcess, start_daemon
from tests.daemon.test_two_daemons import two_radios  # noqa: F401 - a fixture


async def until(pilot: Any, condition: Callable[[], object], timeout: float = 45.0) -> None:
    """Let the app run until ``condition()`` holds (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.05)


@pytest.fixture
async def fast_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DaemonProcess]:
    """A real daemon on the simulated mesh whose demo publishers speak every half second."""
    monkeypatch.setenv("JARSHY_SIM_INTERVAL", "0.5")
    daemon = await asyncio.to_thread(start_daemon, tmp_path / "home", "--simulate")
    yield daemon
    await asyncio.to_thread(daemon.stop)
