"""Fixtures for radio tests: emulated radios on a shared in-process medium, over a pty or TCP.

``radios`` is a factory: ``radios(0x1111, transport="pty")`` returns an :class:`Emu` whose
``address`` is ready for :class:`relay.radio.link.RadioLink`;
everything is torn down after the test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relay.radio.emulator import EmulatedRadio
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import PtyTransport, TcpTransport


@dataclass
class Emu:
    """One emulated radio with its transport."""

    radio: EmulatedRadio
    transport: PtyTransport | TcpTransport

    @property
    def address(self) -> str:
        if isinstance(self.transport, PtyTransport):
            return f"serial:{self.transport.path}"
        return f"tcp:127.0.0.1:{self.transport.port}"

    @property
    def node_num(self) -> int:
        return self.radio.node_num


@pytest.fixture
def medium() -> Iterator[InProcessMedium]:
    """Zero-airtime medium, all radios in range, no loss."""
    m = InProcessMedium(time_scale=math.inf, seed=7)
    yield m
    m.close()


@pytest.fixture
def radios(medium: InProcessMedium, tmp_path: Path) -> Iterator[Callable[..., Emu]]:
    made: list[Emu] = []

    def make(
        node_num: int,
        *,
        transport: str = "pty",
        name: str | None = None,
        state_kw: dict[str, Any] | None = None,
        **radio_kw: Any,
    ) -> Emu:
        state = RadioState.create(node_num, long_name=name, **(state_kw or {}))
        radio_kw.setdefault("telemetry_interval", None)
        radio = EmulatedRadio(state, medium=medium, seed=node_num, **radio_kw)
        t: PtyTransport | TcpTransport
        if transport == "pty":
            t = PtyTransport(radio, link=tmp_path / f"ttyEMU{node_num:08x}").start()
        else:
            t = TcpTransport(radio, port=0).start()
        radio.start()
        emu = Emu(radio, t)
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.transport.close()
        emu.radio.stop()
