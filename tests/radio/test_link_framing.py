"""Jarshy's own port, magic and channel (issue 10 item 3), and an honest "heard" (item 8).

Real meshtastic library against emulated radios over TCP and a pty; a real node core with a real
store judges what the link delivers, so "not counted by the spam brake" is the brake's own word.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from meshtastic.protobuf import channel_pb2

from relay.node.core import NodeCore
from relay.radio._iface import close_interface, open_interface
from relay.radio.framing import FRAME_MAX, JARSHY_PORT, MAGIC, unwrap, wrap
from relay.radio.link import RadioLink
from relay.radio.linktypes import PacketAcked
from relay.store import Store
from relay.sync.events import PacketReceived
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.helpers import until

Emu = Any  # tests/radio/conftest.py:Emu
WAIT = 15.0


def forged(i: int) -> bytes:
    """A bulletin in the newsroom's name signed by someone else."""
    claimed, signer = make_identity("newsroom"), make_identity("mallory")
    content = Content(Kind.NEWS, claimed.key_id, int(time.time()) - 60 + i, f"fake {i}", "en")
    unsigned = wire.encode_unsigned(content)
    return unsigned + signer.sign(wire.SIGNING_DOMAIN + unsigned)


def name_channel(emu: Emu, index: int, name: str) -> None:
    """Give the emulated radio a secondary channel ``name`` at ``index`` (before connecting)."""
    channel = emu.radio.state.channels[index]
    channel.role = channel_pb2.Channel.Role.SECONDARY
    channel.settings.name = name


def test_the_magic_is_added_and_stripped_exactly() -> None:
    assert 256 <= JARSHY_PORT <= 511 and JARSHY_PORT not in (256, 257, 511)
    assert wrap(b"\x19abcdef") == b"\xfe\x4a\x19abcdef"
    assert unwrap(wrap(b"\x19abcdef")) == b"\x19abcdef"
    assert len(wrap(b"x" * FRAME_MAX)) == 231  # the firmware's limit on a private port
    for foreign in (b"", MAGIC, b"\x19abcdef", b'{"app":1}', b"\xfe\x4b\x19abc", b"\x4a\xfe\x19"):
        assert unwrap(foreign) is None
    with pytest.raises(ValueError, match="at most 229"):
        wrap(b"x" * (FRAME_MAX + 1))
    with pytest.raises(ValueError):
        wrap(b"")


async def test_other_apps_on_our_port_are_ignored_and_never_counted(
    radios: Callable[..., Emu], tmp_path: Path
) -> None:
    ours, other, forger = (radios(n, transport="tcp") for n in (0xA, 0xB, 0xC))
    core = NodeCore(Store(tmp_path / "node.sqlite3"), seed=1, node=0xA)
    newsroom = make_identity("newsroom")  # known, so a bulletin in its name can be a forgery
    core.ingest.add_root(newsroom.public_key, newsroom.name, time.time())
    heard: list[PacketReceived] = []
    ignored: list[int] = []

    def on_packet(event: PacketReceived) -> None:
        heard.append(event)
        loop = asyncio.get_running_loop()
        ignored.extend(radio for radio, _ in core.receive(event, loop.time(), time.time()).ignores)

    async with RadioLink(ours.address, on_packet=on_packet) as link:
        # Another application on the same port, through the official library: text, JSON, and
        # bytes that look like a Jarshy bulletin but lack the magic. More than the brake's limit.
        iface = await asyncio.to_thread(open_interface, other.address, 10)
        try:
            foreign = [b'{"app":"weather"}', b"hello", forged(0), forged(1), forged(2), forged(3)]
            for payload in foreign:
                await asyncio.to_thread(iface.sendData, payload, portNum=JARSHY_PORT)
        finally:
            await asyncio.to_thread(close_interface, iface)
        await until(lambda: link.stats["not_jarshy"] == len(foreign))
        assert heard == [] and ignored == []
        # The same forgeries with Jarshy's magic are judged, and their radio is ignored.
        async with RadioLink(forger.address) as lf:
            for i in range(4):
                assert (await lf.send(forged(10 + i), hop_limit=0)).ok
            await until(lambda: 0xC in ignored)
        assert {e.sender for e in heard} == {0xC} and 0xB not in ignored
        assert link.health.not_jarshy == len(foreign)
    core.store.close()


async def test_the_jarshy_channel_is_found_by_name_and_others_are_ignored(
    radios: Callable[..., Emu],
) -> None:
    a = radios(0xA)
    b = radios(0xB, transport="tcp")
    name_channel(a, 2, "Jarshy")  # Jarshy rides a secondary channel on A's radio
    received: list[PacketReceived] = []
    async with RadioLink(a.address, on_packet=received.append) as la, RadioLink(b.address) as lb:
        info = la.info
        assert info is not None and (info.channel_index, info.channel_found) == (2, True)
        assert info.channel_name == "Jarshy"
        other = lb.info
        assert other is not None and (other.channel_index, other.channel_found) == (0, False)
        sent = await la.send(b"\x19beacon", hop_limit=0)
        assert sent.ok
        asked = [p for p in a.radio.from_phone if p.id == sent.packet_id]
        assert asked and asked[0].channel == 2 and asked[0].decoded.portnum == JARSHY_PORT
        assert asked[0].decoded.payload == MAGIC + b"\x19beacon"
        # B sends on its channel 0, which is not A's Jarshy channel: A's link drops it.
        await lb.send(b"\x19wrong channel", hop_limit=0)
        await until(lambda: la.stats["other_channel"] == 1)
        assert received == []


async def test_the_channel_is_found_again_after_a_reconnect(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(
        a.address, backoff_initial=0.05, backoff_max=0.2, displaced_backoff=0.05
    ) as link:
        assert link.channel_index == 0 and link.info is not None and not link.info.channel_found
        name_channel(a, 1, "Jarshy")  # provisioned meanwhile; the radio drops off and returns
        a.transport.unplug()
        a.transport.plug()
        await until(lambda: link.connects == 2 and link.info is not None)
        assert link.channel_index == 1 and link.info.channel_found


async def test_a_relayed_broadcast_is_reported_heard(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA, transport="tcp"), radios(0xB)
    acks: list[PacketAcked] = []
    async with RadioLink(a.address, on_acked=acks.append) as link, RadioLink(b.address) as lb:
        flooded = await link.send(b"\x10own bulletin", hop_limit=1)  # B's radio relays it
        assert flooded.ok
        await until(lambda: len(acks) == 1)
        assert acks[0] == PacketAcked(flooded.packet_id, b"\x10own bulletin", True, None)
        sent = [p for p in a.radio.from_phone if p.id == flooded.packet_id]
        assert sent and sent[0].want_ack
        # Hop limit 0: nobody relays, and the firmware would flood a want_ack one: never asked.
        local = await link.send(b"\x19beacon", hop_limit=0, want_ack=True)
        assert local.ok
        assert not next(p for p in a.radio.from_phone if p.id == local.packet_id).want_ack
        unheard = await lb.send(b"\x10nobody asks", hop_limit=1)  # no on_acked: nothing asked
        assert not next(p for p in b.radio.from_phone if p.id == unheard.packet_id).want_ack


async def test_a_broadcast_nobody_relays_is_reported_not_heard(
    radios: Callable[..., Emu],
) -> None:
    a = radios(0xA, transport="tcp")  # alone: no neighbour to relay
    acks: list[PacketAcked] = []
    async with RadioLink(a.address, on_acked=acks.append) as link:
        sent = await link.send(b"\x10into the void", hop_limit=1)
        assert sent.ok
        await until(lambda: len(acks) == 1, timeout=60.0)
        assert acks[0].packet_id == sent.packet_id and not acks[0].heard
        assert acks[0].error == "MAX_RETRANSMIT" and acks[0].payload == b"\x10into the void"
