"""Emulated radios over TCP for provisioning tests (the real meshtastic library talks to them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from relay.radio.admin import ProvisioningAdminHandler
from relay.radio.emulator import EmulatedRadio
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport


@dataclass
class Radio:
    """One emulated radio: its state, its admin handler and its address."""

    radio: EmulatedRadio
    transport: TcpTransport

    @property
    def address(self) -> str:
        return f"tcp:127.0.0.1:{self.transport.port}"

    @property
    def state(self) -> RadioState:
        return self.radio.state

    @property
    def admin(self) -> ProvisioningAdminHandler:
        assert isinstance(self.radio.admin, ProvisioningAdminHandler)
        return self.radio.admin


@pytest.fixture
def radio() -> Iterator[Callable[..., Radio]]:
    """Factory: ``radio(role="ROUTER", region="UNSET")`` -> a fresh radio with these settings."""
    made: list[Radio] = []

    def make(node_num: int = 0x4A000001, **state_kw: Any) -> Radio:
        state = RadioState.create(node_num, **state_kw)
        emulated = EmulatedRadio(state, telemetry_interval=None, seed=node_num)
        made.append(Radio(emulated, TcpTransport(emulated, port=0).start()))
        return made[-1]

    yield make
    for r in made:
        r.transport.close()
        r.radio.stop()
