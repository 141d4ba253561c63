"""Emulated radios for provisioning tests, over a real pty (or TCP); the real meshtastic library
talks to them. ``after_commit`` makes a radio restart after a committed edit as the firmware does
(AdminModule.cpp: ``reboot(DEFAULT_REBOOT_SECONDS)``), either keeping its serial port and sending
``rebooted`` (a USB-serial bridge) or dropping the port and re-creating it (native USB)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from relay.radio.admin import ProvisioningAdminHandler
from relay.radio.emulator import EmulatedRadio
from relay.radio.state import RadioState
from relay.radio.transports import PtyTransport, TcpTransport

RESTART_DELAY = 0.3  # seconds; the firmware's 7 s, shortened


@dataclass
class Radio:
    """One emulated radio: its state, its admin handler and its address."""

    radio: EmulatedRadio
    transport: PtyTransport | TcpTransport
    timers: list[threading.Timer] = field(default_factory=list)
    restarts: int = 0
    replugs: int = 0

    def _replug(self) -> None:
        assert isinstance(self.transport, PtyTransport)
        self.transport.plug()
        self.replugs += 1

    @property
    def address(self) -> str:
        if isinstance(self.transport, PtyTransport):
            return f"serial:{self.transport.path}"
        return f"tcp:127.0.0.1:{self.transport.port}"

    @property
    def state(self) -> RadioState:
        return self.radio.state

    @property
    def admin(self) -> ProvisioningAdminHandler:
        assert isinstance(self.radio.admin, ProvisioningAdminHandler)
        return self.radio.admin

    def after_commit(self, how: str) -> None:
        """Restart after every commit: ``"rebooted"`` (port kept) or ``"reenumerate"`` (new pty)."""

        def later(delay: float, action: Callable[[], None]) -> None:
            timer = threading.Timer(delay, action)
            timer.daemon = True
            self.timers.append(timer)
            timer.start()

        def restart() -> None:
            self.restarts += 1
            if how == "rebooted":
                self.radio.reboot()
            else:
                assert isinstance(self.transport, PtyTransport)
                self.transport.unplug()
                later(RESTART_DELAY, self._replug)

        self.admin.on_commit = lambda: later(RESTART_DELAY, restart)


@pytest.fixture(autouse=True)
def node_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Provisioning writes the keys to trust into this node's store: a home of the test's own."""
    home = tmp_path / "home"
    monkeypatch.setenv("JARSHY_HOME", str(home))
    monkeypatch.delenv("JARSHY_SOCKET", raising=False)
    return home


@pytest.fixture
def radio(tmp_path: Path) -> Iterator[Callable[..., Radio]]:
    """Factory: ``radio(role="ROUTER", region="UNSET")`` -> a fresh radio on a pty."""
    made: list[Radio] = []

    def make(node_num: int = 0x4A000001, *, transport: str = "pty", **state_kw: Any) -> Radio:
        state = RadioState.create(node_num, **state_kw)
        emulated = EmulatedRadio(state, telemetry_interval=None, seed=node_num)
        t: PtyTransport | TcpTransport
        if transport == "pty":
            t = PtyTransport(emulated, link=tmp_path / f"ttyJARSHY{node_num:08x}").start()
        else:
            t = TcpTransport(emulated, port=0).start()
        made.append(Radio(emulated, t))
        made[-1].admin.on_commit = lambda: None  # no reboot unless a test asks (after_commit)
        return made[-1]

    yield make
    for r in made:
        for timer in r.timers:
            timer.cancel()
        r.transport.close()
        r.radio.stop()
