"""RadioLink against emulated radios: real meshtastic library, real pty and TCP, no mocks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from relay.radio.framing import MAGIC
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkDown, LinkState, SendStatus, parse_address
from relay.sync.events import PacketReceived

Emu = Any  # tests/radio/conftest.py:Emu
WAIT = 10.0


class Inbox:
    """Collects PacketReceived events; awaitable without sleeps."""

    def __init__(self) -> None:
        self.packets: list[PacketReceived] = []
        self._changed = asyncio.Event()

    def __call__(self, event: PacketReceived) -> None:
        self.packets.append(event)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[PacketReceived], bool]) -> PacketReceived:
        async def scan() -> PacketReceived:
            while True:
                for p in self.packets:
                    if predicate(p):
                        return p
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(scan(), WAIT)


def test_addresses_are_validated_before_the_library() -> None:
    assert parse_address("serial:/dev/ttyUSB0").path == "/dev/ttyUSB0"
    assert parse_address("serial:auto").path is None
    tcp = parse_address("tcp:radio.local")
    assert (tcp.host, tcp.port) == ("radio.local", 4403)
    assert parse_address("tcp:[::1]:4404").port == 4404
    for bad in ("ttyUSB0", "serial:ttyUSB0", "tcp:", "tcp:host:0", "tcp:host:x", "ble:abc"):
        with pytest.raises(ValueError):
            parse_address(bad)
    with pytest.raises(ValueError, match="private port"):
        RadioLink("serial:auto", port_num=1)


async def test_two_links_exchange_a_private_payload(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA, name="Alpha"), radios(0xB, name="Beta", transport="tcp")
    inbox_b = Inbox()
    states: list[LinkState] = []
    async with (
        RadioLink(a.address, on_state=states.append) as link_a,
        RadioLink(b.address, on_packet=inbox_b) as link_b,
    ):
        assert link_a.state is LinkState.UP and link_b.state is LinkState.UP
        result = await link_a.send(b"\x00signed bulletin", hop_limit=3)
        assert result.ok and result.status is SendStatus.QUEUED and result.queue_max == 16
        got = await inbox_b.wait_for(lambda p: p.payload == b"\x00signed bulletin")
        assert got.sender == 0xA and got.hops == 0 and got.snr is not None and got.rssi is not None
        info = link_a.info
        assert info is not None
        assert (info.node_num, info.long_name, info.region, info.modem_preset, info.role) == (
            0xA,
            "Alpha",
            "EU_868",
            "LONG_FAST",
            "CLIENT",
        )
        assert info.firmware_version and info.hw_model == "PORTDUINO" and info.hop_limit == 3
        assert link_b.info is not None and any(n.num == 0xA for n in link_b.info.nodes)
        with pytest.raises(ValueError, match="at most 229"):
            await link_a.send(b"x" * 230)  # 231 on air with the magic: the firmware's limit
    assert states == [LinkState.CONNECTING, LinkState.UP, LinkState.DOWN]


async def test_other_ports_are_not_delivered(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA, transport="tcp"), radios(0xB, transport="tcp")
    inbox = Inbox()
    async with RadioLink(a.address, port_num=300) as la, RadioLink(b.address, on_packet=inbox):
        await la.send(b"elsewhere")
        await la.send(b"elsewhere 2")
        assert b.radio.wait_heard(lambda p: p.decoded.payload == MAGIC + b"elsewhere 2")
    assert inbox.packets == []


async def test_too_large_nak_is_reported(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, max_payload=100)  # like a firmware that reserves room for its own signature
    radios(0xB)
    async with RadioLink(a.address) as link:
        result = await link.send(b"x" * 150)
        assert result.status is SendStatus.REJECTED and result.error == "TOO_LARGE"
        assert (await link.send(b"small")).ok  # the refused packet is not resent before it


async def test_duty_cycle_nak_is_reported(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp", duty_cycle_percent=0.01)
    b = radios(0xB)
    async with RadioLink(a.address) as link:
        first = await link.send(b"x" * 200)
        assert first.ok
        assert b.radio.wait_heard(lambda p: p.id == first.packet_id)
        second = await link.send(b"y")
        assert second.status is SendStatus.REJECTED and second.error == "DUTY_CYCLE_LIMIT"


async def test_full_queue_is_back_pressure(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(a.address) as link:
        a.radio.queue_full = True
        refused = await link.send(b"one")
        assert refused.status is SendStatus.QUEUE_FULL and refused.queue_free == 0
        again = await link.send(b"two")  # not even sent: the link knows the queue is full
        assert again.status is SendStatus.QUEUE_FULL and again.packet_id == 0
        a.radio.queue_full = False
        await link.wait_queue_free(WAIT)  # heartbeats until the radio reports room
        assert link.info is not None and link.info.queue_free
        assert (await link.send(b"three")).ok


async def test_a_queue_the_library_saw_full_never_blocks_a_send(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(a.address) as link:
        assert (await link.send(b"one")).ok
        a.radio.queue_full = True
        link._iface.queueStatus.free = 0  # the library heard "full" before the link did
        link._queue = (4, 16)
        refused = await asyncio.wait_for(link.send(b"two"), WAIT)  # would block the library
        assert refused.status is SendStatus.QUEUE_FULL and refused.packet_id == 0
        a.radio.queue_full = False
        for _ in range(50):  # as the transmitter does: wait for room, try again
            await link.wait_queue_free(WAIT)
            third = await asyncio.wait_for(link.send(b"three"), WAIT)
            if third.ok:
                break
            await asyncio.sleep(0.2)
        assert third.ok, third


async def test_closing_with_packets_the_library_still_queues_does_not_hang(
    radios: Callable[..., Emu],
) -> None:
    from meshtastic.protobuf import mesh_pb2

    a = radios(0xA, transport="tcp")
    link = RadioLink(a.address)
    await link.__aenter__()
    assert (await link.send(b"one")).ok
    stuck = mesh_pb2.ToRadio()
    stuck.packet.id = 12345
    link._iface.queue[12345] = stuck  # the library still holds a packet for a full radio
    link._iface.queueStatus.free = 0
    await asyncio.wait_for(link.aclose(), WAIT)  # close() would wait for room forever
    assert link.state is LinkState.DOWN


async def test_serial_unplug_and_replug_reconnects(radios: Callable[..., Emu]) -> None:
    a = radios(0xA)
    b = radios(0xB)
    inbox = Inbox()
    async with (
        RadioLink(a.address, on_packet=inbox, backoff_initial=0.1, backoff_max=0.4) as link,
        RadioLink(b.address) as lb,
    ):
        a.transport.unplug()
        await link.wait_state(LinkState.DOWN, WAIT)
        with pytest.raises(LinkDown):
            await link.send(b"nobody home")
        a.transport.plug()
        await link.wait_state(LinkState.UP, WAIT)
        assert link.connects == 2
        await lb.send(b"welcome back")
        await inbox.wait_for(lambda p: p.payload == b"welcome back")
        assert (await link.send(b"hello again")).ok


async def test_tcp_drop_reconnects(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(
        a.address, backoff_initial=0.1, backoff_max=0.4, displaced_backoff=0.1
    ) as link:
        a.transport.unplug()  # connections closed by the radio (read as displaced), then refused
        await link.wait_state(LinkState.DOWN, WAIT)
        a.transport.plug()
        await link.wait_state(LinkState.UP, WAIT)
        assert (await link.send(b"back")).ok


async def test_reboot_rehandshakes_and_stops_the_leaked_timer(radios: Callable[..., Emu]) -> None:
    a = radios(0xA)
    states: list[LinkState] = []
    async with RadioLink(a.address, on_state=states.append) as link:
        iface = link._iface
        first_timer = iface.heartbeatTimer
        a.radio.reboot()
        await link.wait_state(LinkState.CONNECTING, WAIT)
        await link.wait_state(LinkState.UP, WAIT)
        assert link.connects == 1  # same interface, new handshake
        assert iface.heartbeatTimer is not first_timer and first_timer.finished.is_set()
        assert (await link.send(b"after reboot")).ok
    assert (
        iface.heartbeatTimer is None
        or not iface.heartbeatTimer.is_alive()
        or (iface.heartbeatTimer.finished.is_set())
    )


async def test_telemetry_updates_status(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp")
    b = radios(0xB)
    async with RadioLink(a.address) as link:
        b.radio.announce()
        assert a.radio.wait_heard(lambda p: p.decoded.portnum == 4)
        a.radio.send_telemetry()
        info = await link.wait_info(lambda i: i.channel_utilization is not None, WAIT)
        assert info.channel_utilization and info.channel_utilization > 0
        assert info.air_util_tx is not None


async def test_missing_device_fails_fast() -> None:
    with pytest.raises(OSError):
        async with RadioLink("serial:/dev/does-not-exist"):
            pass
