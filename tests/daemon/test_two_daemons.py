"""Two daemons on two emulated radios sharing one medium: publish on one, trusted on the other."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay.radio.emulator import EmulatedRadio
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from tests.daemon.conftest import start_daemon


@pytest.fixture
def two_radios() -> Iterator[list[str]]:
    medium = InProcessMedium(time_scale=math.inf, seed=3)
    radios, transports = [], []
    for num in (0x1001, 0x1002):
        radio = EmulatedRadio(RadioState.create(num, region="KZ_433"), medium=medium, seed=num)
        radio.start()
        radios.append(radio)
        transports.append(TcpTransport(radio, port=0).start())
    yield [f"tcp:127.0.0.1:{t.port}" for t in transports]
    for transport in transports:
        transport.close()
    for radio in radios:
        radio.stop()
    medium.close()


def test_bulletin_crosses_the_air_and_is_trusted(two_radios: list[str], tmp_path: Path) -> None:
    alice = start_daemon(tmp_path / "alice", "--radio", two_radios[0])
    bob = start_daemon(tmp_path / "bob", "--radio", two_radios[1])
    try:
        assert alice.cli("keys", "new", "Alice").returncode == 0
        share = alice.cli("keys", "export").stdout.strip()
        trusted: Any = bob.call("trust.add", share=share)
        assert trusted["name"] == "Alice"
        alice.call("unlock", identity="Alice", passphrase="test passphrase")
        sent: Any = alice.call("publish", kind="safety", text="Пожар на Абая 10. Уходите.",
                               expires=3600, safety={"severity": "extreme", "event": "fire"})  # fmt: skip

        def arrived() -> Any:
            result: Any = bob.call("query", limit=10)
            return next((b for b in result["bulletins"] if b["id"] == sent["id"]), None)

        got = bob.wait_for(arrived, timeout=60)
        assert got["status"] == "trusted" and got["signer_name"] == "Alice"  # type: ignore[index]
        assert got["severity"] == "extreme" and got["source"] == "radio"  # type: ignore[index]
        alice.wait_for(
            lambda: (
                alice.call("get", id=sent["id"])["bulletin"]["delivery"]
                in ("sent", "heard", "held")
            )  # type: ignore[index]
        )
    finally:
        assert alice.stop() == 0
        assert bob.stop() == 0
