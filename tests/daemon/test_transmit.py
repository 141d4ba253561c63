"""The transmitter between the queue and a real RadioLink to an emulated radio."""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Callable, Iterator

import pytest

from relay.crypto.keys import generate_identity
from relay.radio.emulator import EmulatedRadio
from relay.radio.link import RadioLink
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.sync.events import SendPacket
from relay.transmit import DUTY_CYCLE_BACKOFF, Transmitter, group
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from relay.wire.fragments import carried_id, split


def long_bulletin() -> bytes:
    author = generate_identity("Long")
    numbers = random.Random(1)  # incompressible enough to need several packets
    text = " ".join(str(numbers.getrandbits(40)) for _ in range(40))
    return wire.sign(Content(Kind.NEWS, author.key_id, 1_800_000_000, text, "ru"), author).raw


def test_fragments_of_one_bulletin_are_one_unit() -> None:
    packets = split(long_bulletin())
    assert len(packets) >= 2
    sends = [SendPacket(b"\x00beacon", 0, -1)]
    sends += [SendPacket(p, 1, 20) for p in packets]
    sends += [SendPacket(b"\x00beacon", 0, -1)]
    units = group(sends)
    assert [len(u) for u in units] == [1, len(packets), 1]
    assert {carried_id(s.payload) for s in units[1]} == {carried_id(packets[0])}


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


@pytest.fixture
def eu_radio() -> Iterator[tuple[EmulatedRadio, str]]:
    """An EU_868 radio whose own duty-cycle limit is nearly zero: it refuses after one packet."""
    medium = InProcessMedium(time_scale=math.inf, seed=5)
    radio = EmulatedRadio(
        RadioState.create(0x2001, region="EU_868"), medium=medium, duty_cycle_percent=1e-6
    )
    radio.start()
    transport = TcpTransport(radio, port=0).start()
    yield radio, f"tcp:127.0.0.1:{transport.port}"
    transport.close()
    radio.stop()
    medium.close()


async def test_radio_duty_cycle_refusal_defers_and_keeps_the_packet(
    eu_radio: tuple[EmulatedRadio, str],
) -> None:
    _, address = eu_radio
    sent: list[bytes] = []
    tx = Transmitter(about=lambda ident: None, on_sent=sent.append, clock=time.time)
    async with RadioLink(address) as link:
        tx.link = link
        await wait_until(lambda: link.info is not None and link.info.region is not None)
        tx.radio_changed()
        assert tx.queue.duty_cycle == pytest.approx(0.1)  # EU_868 from the radio's region
        packets = split(long_bulletin())
        tx.submit([SendPacket(p, 1, 20) for p in packets])
        assert len(tx.queue) == 1  # one bulletin, one ticket
        runner = asyncio.create_task(tx.run())
        try:
            await wait_until(lambda: tx.queue.next_deadline(time.time()) is not None
                             and tx.queue.next_deadline(time.time()) > time.time() + 30)  # fmt: skip
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    assert len(sent) == 1  # the first fragment went; the radio refused the second
    deadline = tx.queue.next_deadline(time.time())
    assert deadline is not None and deadline <= time.time() + DUTY_CYCLE_BACKOFF
    ticket = tx.queue.next_ready(deadline)
    assert ticket is not None and [s.payload for s in ticket.item] == packets[1:]
    assert tx.queue.used_airtime(time.time()) > 0


async def test_full_radio_queue_keeps_the_packets_until_there_is_room(
    eu_radio: tuple[EmulatedRadio, str],
) -> None:
    radio, address = eu_radio
    radio.duty_cycle_percent = None
    sent: list[bytes] = []
    tx = Transmitter(about=lambda ident: None, on_sent=sent.append, clock=time.time)
    async with RadioLink(address) as link:
        tx.link = link
        radio.queue_full = True
        packets = split(long_bulletin())
        tx.submit([SendPacket(p, 1, 20) for p in packets])
        runner = asyncio.create_task(tx.run())
        try:
            await wait_until(lambda: link.info is not None and link.info.queue_free == 0)
            assert sent == [] and len(tx.queue) <= 1
            radio.queue_full = False
            await wait_until(lambda: len(sent) == len(packets))
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
    assert len(tx.queue) == 0
