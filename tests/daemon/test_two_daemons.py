"""Two daemons (in one event loop) on two emulated radios sharing one medium: publish on one,
trusted on the other."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relay.crypto.keys import encode_share
from relay.radio.emulator import EmulatedRadio
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from tests.daemon.conftest import PASSPHRASE, running


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


async def test_bulletin_crosses_the_air_and_is_trusted(
    two_radios: list[str], tmp_path: Path
) -> None:
    async with (
        running(tmp_path / "alice", two_radios[0]) as alice,
        running(tmp_path / "bob", two_radios[1]) as bob,
    ):
        me = alice.new_identity("Alice")
        trusted = await bob.call("trust.add", share=encode_share(me.public_key, "Alice"))
        assert trusted["name"] == "Alice"
        await alice.call("unlock", identity="Alice", passphrase=PASSPHRASE)
        sent = await alice.call("publish", kind="safety", text="Пожар на Абая 10. Уходите.",
                                expires=3600, safety={"severity": "extreme", "event": "fire"})  # fmt: skip

        async def arrived() -> Any:
            result = await bob.call("query", limit=10)
            return next((b for b in result["bulletins"] if b["id"] == sent["id"]), None)

        got = await bob.wait_for(arrived, timeout=60)
        assert got["status"] == "trusted" and got["signer_name"] == "Alice"
        assert got["severity"] == "extreme" and got["source"] == "radio"

        async def went_out() -> bool:
            delivery = (await alice.call("get", id=sent["id"]))["bulletin"]["delivery"]
            return delivery in ("sent", "heard", "held")

        await alice.wait_for(went_out)
