"""Firmware rules of the emulated radio, radio to radio over the in-process medium.

Channels and keys (Channels.cpp), frequency slots and presets (RadioInterface.cpp), rebroadcast
modes (Router.cpp, NextHopRouter.cpp, RoutingModule.cpp), hop-limit clamping, reliable
delivery (ReliableRouter.cpp), and the frame length 2.8 puts on air (Router.cpp perhapsEncode).
The client side is the real :class:`ClientSession`; its output is parsed back into FromRadio.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from meshtastic.protobuf import channel_pb2, config_pb2, mesh_pb2, portnums_pb2

from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import FrameParser
from relay.radio.medium import InProcessMedium, on_air_bytes
from relay.radio.session import ClientSession
from relay.radio.state import NodeSeen, RadioState

BROADCAST = 0xFFFFFFFF
JARSHY_PSK = bytes(range(1, 33))
Mode = config_pb2.Config.DeviceConfig.RebroadcastMode


class Phone:
    """A client of one radio: what it sent and everything the radio wrote back."""

    def __init__(self, radio: EmulatedRadio) -> None:
        self.radio = radio
        self.parser = FrameParser()
        self.received: list[Any] = []
        self.session = ClientSession(radio, self._write, "pty:test")
        radio.add_session(self.session)
        self.session.connected = True

    def _write(self, data: bytes) -> None:
        self.received += [mesh_pb2.FromRadio.FromString(f) for f in self.parser.feed(data)]

    def send(self, payload: bytes, *, port: int = 256, to: int = BROADCAST, **kw: Any) -> Any:
        pkt = mesh_pb2.MeshPacket(to=to, hop_limit=kw.pop("hop_limit", 3), **kw)
        pkt.decoded.portnum = port
        pkt.decoded.payload = payload
        self.radio.handle_phone_packet(self.session, pkt)
        return pkt

    def routing(self, packet_id: int) -> list[int]:
        """Routing error codes the radio gave the phone about ``packet_id``."""
        return [
            mesh_pb2.Routing.FromString(r.packet.decoded.payload).error_reason
            for r in self.received
            if r.HasField("packet")
            and r.packet.decoded.portnum == portnums_pb2.ROUTING_APP
            and r.packet.decoded.request_id == packet_id
        ]


@pytest.fixture
def medium() -> Iterator[InProcessMedium]:
    m = InProcessMedium(time_scale=math.inf, seed=3)
    yield m
    m.close()


@pytest.fixture
def make(medium: InProcessMedium) -> Iterator[Callable[..., EmulatedRadio]]:
    made: list[EmulatedRadio] = []

    def radio(
        num: int, *, jarshy_channel: bool = False, mode: str | None = None, **kw: Any
    ) -> EmulatedRadio:
        state = RadioState.create(num, **kw)
        if jarshy_channel:  # the channel plan: a secondary "Jarshy" channel with its own key
            ch = state.channels[1]
            ch.role = channel_pb2.Channel.Role.SECONDARY
            ch.settings.name = "Jarshy"
            ch.settings.psk = JARSHY_PSK
        if mode is not None:
            state.config.device.rebroadcast_mode = Mode.Value(mode)
        r = EmulatedRadio(state, medium=medium, telemetry_interval=None, seed=num)
        made.append(r)
        return r

    yield radio
    for r in made:
        r.stop()


def chain(medium: InProcessMedium, *radios: EmulatedRadio) -> None:
    """Only neighbours in the list hear each other."""
    medium.full_mesh = False
    for a, b in itertools.pairwise(radios):
        medium.link(a.node_num, b.node_num)


def got(radio: EmulatedRadio, packet_id: int) -> list[Any]:
    return [p for p in radio.heard if p.id == packet_id]


def test_a_secondary_channel_crosses_a_stock_relay_that_cannot_read_it(
    medium: InProcessMedium, make: Callable[..., EmulatedRadio]
) -> None:
    a, stock, c = make(0xA, jarshy_channel=True), make(0xB), make(0xC, jarshy_channel=True)
    chain(medium, a, stock, c)
    sent = Phone(a).send(b"bulletin", channel=1)
    assert medium.wait_idle()
    [rx] = got(c, sent.id)
    assert rx.channel == 1 and rx.decoded.payload == b"bulletin" and rx.hop_limit == 2
    assert not got(stock, sent.id)  # opaque to it: relayed (rebroadcast ALL), not delivered
    assert stock.opaque_relays == 1


@pytest.mark.parametrize(
    ("mode", "firmware", "relays"),
    [
        ("ALL", "2.8.0", True),
        ("ALL_SKIP_DECODING", "2.8.0", True),
        ("CORE_PORTNUMS_ONLY", "2.8.0", False),  # NextHopRouter::relayOpaquePacket
        ("CORE_PORTNUMS_ONLY", "2.7.26", True),  # 2.7: only decoded ports are checked
        ("LOCAL_ONLY", "2.8.0", False),
        ("KNOWN_ONLY", "2.8.0", False),
        ("NONE", "2.8.0", False),
    ],
)
def test_rebroadcast_modes_on_a_packet_the_relay_cannot_decrypt(
    medium: InProcessMedium,
    make: Callable[..., EmulatedRadio],
    mode: str,
    firmware: str,
    relays: bool,
) -> None:
    a, c = make(0xA, jarshy_channel=True), make(0xC, jarshy_channel=True)
    b = make(0xB, mode=mode, firmware_version=firmware)
    chain(medium, a, b, c)
    sent = Phone(a).send(b"x", channel=1)
    assert medium.wait_idle()
    assert bool(got(c, sent.id)) is relays
    assert not got(b, sent.id)


@pytest.mark.parametrize(
    ("mode", "port", "delivered", "relays"),
    [
        ("CORE_PORTNUMS_ONLY", 256, False, False),  # the ROUTER trap, when it holds the key
        ("CORE_PORTNUMS_ONLY", portnums_pb2.TEXT_MESSAGE_APP, True, True),
        ("CORE_PORTNUMS_ONLY", portnums_pb2.TELEMETRY_APP, True, True),
        ("LOCAL_ONLY", 256, True, True),  # its own channels: relayed
        ("ALL", 256, True, True),
        ("NONE", 256, True, False),
    ],
)
def test_rebroadcast_modes_on_a_packet_the_relay_decodes(
    medium: InProcessMedium,
    make: Callable[..., EmulatedRadio],
    mode: str,
    port: int,
    delivered: bool,
    relays: bool,
) -> None:
    a, b, c = make(0xA), make(0xB, mode=mode), make(0xC)
    chain(medium, a, b, c)
    sent = Phone(a).send(b"x", port=port)
    assert medium.wait_idle()
    assert bool(got(b, sent.id)) is delivered
    assert bool(got(c, sent.id)) is relays


def test_known_only_drops_a_sender_missing_from_its_node_db(
    medium: InProcessMedium, make: Callable[..., EmulatedRadio]
) -> None:
    a, b, c = make(0xA), make(0xB, mode="KNOWN_ONLY"), make(0xC)
    chain(medium, a, b, c)
    phone = Phone(a)
    first = phone.send(b"before")
    assert medium.wait_idle()
    assert not got(b, first.id) and not got(c, first.id)
    a.announce()  # its NodeInfo fails decoding too (perhapsDecode): still unknown
    assert medium.wait_idle()
    assert 0xA not in b.state.nodes
    b.state.nodes[0xA] = NodeSeen(0xA, user=mesh_pb2.User(id="!0000000a"))  # known elsewhere
    second = phone.send(b"after")
    assert medium.wait_idle()
    assert got(b, second.id) and got(c, second.id)


def test_router_role_becomes_core_portnums_only(make: Callable[..., EmulatedRadio]) -> None:
    router = make(0xB, role="ROUTER")
    assert router.state.enum_name("device", "rebroadcast_mode") == "CORE_PORTNUMS_ONLY"


def test_other_frequency_slot_or_preset_is_not_heard(
    medium: InProcessMedium, make: Callable[..., EmulatedRadio]
) -> None:
    public = make(0xA, region="KZ_863")
    own_primary = make(0xB, region="KZ_863", channel_name="Jarshy")  # hash -> slot 7
    pinned = make(0xC, region="KZ_863")
    pinned.state.config.lora.channel_num = 16  # the public slot, pinned: same air
    isolated = make(0xE, region="KZ_863")
    isolated.state.config.lora.channel_num = 3  # the isolated-mesh option: its own slot
    slow = make(0xD, region="KZ_863", preset="LONG_SLOW")
    assert public.air_channel == ("LONG_FAST", 866.875)
    assert own_primary.air_channel == ("LONG_FAST", 864.625)
    assert pinned.air_channel == public.air_channel
    sent = Phone(public).send(b"x", hop_limit=0)
    assert medium.wait_idle()
    assert got(pinned, sent.id)
    assert not got(own_primary, sent.id) and not got(slow, sent.id)
    assert not got(isolated, sent.id)


def test_hop_limit_above_seven_becomes_three(make: Callable[..., EmulatedRadio]) -> None:
    a, b = make(0xA), make(0xB)
    sent = Phone(a).send(b"x", hop_limit=9)
    assert b.medium is not None and b.medium.wait_idle()  # type: ignore[attr-defined]
    [rx] = got(b, sent.id)
    assert rx.hop_start == 3 and rx.hop_limit == 3


def test_want_ack_alone_is_naked_after_the_retransmissions(
    make: Callable[..., EmulatedRadio],
) -> None:
    a = make(0xA)
    phone = Phone(a)
    sent = phone.send(b"anyone?", want_ack=True)
    assert a.wait_heard(lambda p: p.decoded.request_id == sent.id, timeout=10)
    assert phone.routing(sent.id) == [mesh_pb2.Routing.MAX_RETRANSMIT]


def test_want_ack_is_acked_when_a_neighbour_relays(
    medium: InProcessMedium, make: Callable[..., EmulatedRadio]
) -> None:
    a, _b = make(0xA), make(0xB)
    phone = Phone(a)
    sent = phone.send(b"hello", want_ack=True)
    assert a.wait_heard(lambda p: p.decoded.request_id == sent.id, timeout=10)
    assert phone.routing(sent.id) == [mesh_pb2.Routing.NONE]  # the implicit ACK


def test_firmware_2_8_frames_are_longer_on_air(
    medium: InProcessMedium, make: Callable[..., EmulatedRadio]
) -> None:
    new, old = make(0xA, firmware_version="2.8.0.abc"), make(0xB)
    sizes: list[int] = []
    transmit = medium.transmit

    def recording(sender: Any, packet: Any) -> None:
        sizes.append(on_air_bytes(sender, packet))
        transmit(sender, packet)

    medium.transmit = recording  # type: ignore[method-assign]
    Phone(new).send(b"\x00" * 7, hop_limit=0)
    Phone(old).send(b"\x00" * 7, hop_limit=0)
    assert medium.wait_idle()
    assert sizes == [96, 30]  # a 7-byte beacon, as firmware 2.8 and 2.7 send it


def test_queue_status_comes_unasked_when_room_returns(make: Callable[..., EmulatedRadio]) -> None:
    a = make(0xA)
    phone = Phone(a)
    a.queue_full = True
    refused = phone.send(b"x")
    statuses = [r.queueStatus for r in phone.received if r.HasField("queueStatus")]
    assert statuses[-1].free == 0 and statuses[-1].mesh_packet_id == refused.id
    a.queue_full = False
    a.check_queue_room()  # MeshService::loop runs this check
    statuses = [r.queueStatus for r in phone.received if r.HasField("queueStatus")]
    assert statuses[-1].mesh_packet_id == 0 and statuses[-1].free == 16


@pytest.mark.parametrize(
    ("region", "limit"), [("EU_868", 10.0), ("TH", 10.0), ("EU_866", 2.5), ("US", None)]
)
def test_duty_cycle_of_every_region(
    make: Callable[..., EmulatedRadio], region: str, limit: float | None
) -> None:
    assert make(0xA, region=region).duty_cycle_percent == limit


def test_a_full_queue_evicts_a_lower_priority_packet() -> None:
    # Real time on LONG_SLOW: the first packet is on air for seconds, the rest wait in the queue.
    medium = InProcessMedium(time_scale=1.0, seed=1)
    radio = EmulatedRadio(
        RadioState.create(0xA, preset="LONG_SLOW"), medium=medium, telemetry_interval=None
    )
    try:
        phone = Phone(radio)
        sent = [phone.send(b"x" * 200) for _ in range(17)]  # one on air, 16 queued
        assert radio.tx_queue_free() == (0, 16)
        refused = phone.send(b"same priority")
        text = phone.send(b"hi", port=portnums_pb2.TEXT_MESSAGE_APP)  # HIGH (fixPriority)
        status = {
            r.queueStatus.mesh_packet_id: r.queueStatus.res
            for r in phone.received
            if r.HasField("queueStatus")
        }
        assert status[refused.id] == 32 and status[text.id] == 0
        queued = [p.id for p in radio.txq.packets()]
        assert queued[0] == text.id  # the highest priority goes first
        assert sent[-1].id not in queued  # the newest of the lowest priority made room
        assert [p.id for p in radio.txq.evicted] == [sent[-1].id]
    finally:
        radio.stop()
        medium.close()
