"""The emulator against the real meshtastic library: handshake, NAKs, flooding, hooks.

No mocks: SerialInterface over a real pty, TCPInterface over a real socket.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from meshtastic.protobuf import mesh_pb2, portnums_pb2
from meshtastic.serial_interface import SerialInterface
from meshtastic.tcp_interface import TCPInterface

from relay.radio.framing import FrameParser, encode_frame
from relay.radio.medium import InProcessMedium

Emu = Any  # tests/radio/conftest.py:Emu


@contextlib.contextmanager
def serial_client(emu: Emu) -> Iterator[Any]:
    iface = SerialInterface(devPath=emu.transport.path, timeout=10)
    try:
        yield iface
    finally:
        iface.close()


def test_frame_parser_resyncs_and_drops_oversize() -> None:
    parser = FrameParser()
    good = encode_frame(b"abc")
    oversize = bytes([0x94, 0xC3, 0x02, 0x01]) + b"x" * 10  # declares 513 bytes
    data = b"\xc3" * 32 + b"log line\n" + oversize + good + b"\x94" + good[:2]
    assert parser.feed(data) == [b"abc"]
    assert parser.dropped == 1
    assert parser.feed(good[2:]) == [b"abc"]


def test_serial_handshake(radios: Callable[..., Emu]) -> None:
    emu = radios(0x1234ABCD, name="Alpha", state_kw={"region": "KZ_863", "tx_power": 14})
    with serial_client(emu) as iface:
        assert iface.myInfo.my_node_num == 0x1234ABCD
        assert iface.getLongName() == "Alpha"
        assert iface.metadata.firmware_version.startswith("2.7")
        lora = iface.localNode.localConfig.lora
        assert lora.hop_limit == 3 and lora.tx_power == 14
        assert lora.region == lora.RegionCode.Value("KZ_863")
        assert iface.localNode.channels[0].role == 1  # PRIMARY
        assert iface.localNode.localConfig.device.role == 0  # CLIENT


def test_tcp_handshake_lists_other_nodes(radios: Callable[..., Emu]) -> None:
    other = radios(0x0000BEEF, name="Beta")
    emu = radios(0x0000CAFE, name="Gamma", transport="tcp")
    other.radio.announce()  # NodeInfo over the air: Gamma learns Beta's name
    assert emu.radio.wait_heard(lambda p: p.decoded.portnum == portnums_pb2.NODEINFO_APP)
    iface = TCPInterface("127.0.0.1", portNumber=emu.transport.port, timeout=10)
    try:
        assert iface.getLongName() == "Gamma"
        assert iface.nodesByNum[0xBEEF]["user"]["longName"] == "Beta"
    finally:
        iface.close()


def test_private_payload_crosses_the_medium(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA), radios(0xB, transport="tcp")
    with serial_client(a) as iface:
        sent = iface.sendData(b"\x01bulletin", portNum=300, hopLimit=2)
    got = b.radio.wait_heard(lambda p: p.decoded.payload == b"\x01bulletin")
    assert got is not None
    assert getattr(got, "from") == 0xA and got.id == sent.id
    assert got.decoded.portnum == 300 and got.hop_start == 2 and got.hop_limit == 2
    assert got.to == 0xFFFFFFFF and got.rx_snr != 0 and got.rx_rssi < 0


def test_too_large_is_nacked_like_firmware(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA), radios(0xB)
    naks: list[dict[str, Any]] = []
    with serial_client(a) as iface:
        ok = iface.sendData(b"x" * 231, portNum=256)
        big = iface.sendData(b"x" * 232, portNum=256, onResponse=naks.append)
        nak = a.radio.wait_heard(
            lambda p: (
                p.decoded.portnum == portnums_pb2.ROUTING_APP and p.decoded.request_id == big.id
            )
        )
        assert nak is not None
        routing = mesh_pb2.Routing.FromString(nak.decoded.payload)
        assert routing.error_reason == mesh_pb2.Routing.TOO_LARGE
        assert b.radio.wait_heard(lambda p: p.id == ok.id)
        assert b.radio.medium.wait_idle()
        assert not [p for p in b.radio.heard if p.id == big.id]
    assert naks and naks[0]["decoded"]["routing"]["errorReason"] == "TOO_LARGE"


def test_duty_cycle_limit(radios: Callable[..., Emu]) -> None:
    a = radios(0xA, duty_cycle_percent=0.01)  # 0.36 s of airtime per hour
    b = radios(0xB)
    with serial_client(a) as iface:
        first = iface.sendData(b"x" * 200)
        # the first packet goes out; once its airtime is booked, the next is refused
        assert b.radio.wait_heard(lambda p: p.id == first.id)
        second = iface.sendData(b"y")
        nak = a.radio.wait_heard(lambda p: p.decoded.request_id == second.id)
    assert nak is not None
    assert mesh_pb2.Routing.FromString(nak.decoded.payload).error_reason == (
        mesh_pb2.Routing.DUTY_CYCLE_LIMIT
    )
    assert first.id != second.id


def test_flooding_over_a_chain_of_three(
    medium: InProcessMedium, radios: Callable[..., Emu]
) -> None:
    medium.full_mesh = False
    a, b, c = radios(0xA), radios(0xB), radios(0xC)
    medium.link(0xA, 0xB)
    medium.link(0xB, 0xC)
    with serial_client(a) as iface:
        sent = iface.sendData(b"far", hopLimit=3)
        got = c.radio.wait_heard(lambda p: p.id == sent.id)
        assert got is not None
        assert got.hop_start == 3 and got.hop_limit == 2  # one relay by B
        assert b.radio.wait_heard(lambda p: p.id == sent.id) is not None
        zero = iface.sendData(b"near", hopLimit=0)
        assert b.radio.wait_heard(lambda p: p.id == zero.id) is not None
        assert medium.wait_idle()
        assert not [p for p in c.radio.heard if p.id == zero.id]
    # A hears B's rebroadcast of its own packet once and C's not at all: no duplicates delivered
    assert sum(1 for p in c.radio.heard if p.id == sent.id) == 1


def test_router_role_drops_private_ports(
    medium: InProcessMedium, radios: Callable[..., Emu]
) -> None:
    medium.full_mesh = False
    a = radios(0xA)
    radios(0xB, state_kw={"role": "ROUTER"})
    c = radios(0xC)
    medium.link(0xA, 0xB)
    medium.link(0xB, 0xC)
    with serial_client(a) as iface:
        text = iface.sendText("hi", hopLimit=3)
        private = iface.sendData(b"jarshy", hopLimit=3)
        assert c.radio.wait_heard(lambda p: p.id == text.id) is not None
        assert medium.wait_idle()
        assert not [p for p in c.radio.heard if p.id == private.id]


def test_telemetry_reaches_the_client(radios: Callable[..., Emu]) -> None:
    a = radios(0xA)
    with serial_client(a) as iface:
        a.radio.send_telemetry()
        pkt = a.radio.wait_heard(lambda p: p.decoded.portnum == portnums_pb2.TELEMETRY_APP)
        assert pkt is not None
        assert iface.myInfo.my_node_num == 0xA


def test_medium_loss_is_seeded() -> None:
    def run() -> int:
        from relay.radio.emulator import EmulatedRadio
        from relay.radio.state import RadioState

        m = InProcessMedium(time_scale=float("inf"), loss=0.5, seed=3)
        tx = EmulatedRadio(RadioState.create(1), medium=m, telemetry_interval=None)
        rx = EmulatedRadio(RadioState.create(2), medium=m, telemetry_interval=None)
        rx.state.config.device.rebroadcast_mode = 4  # NONE: no relays muddy the count
        for _ in range(40):
            tx.announce()
            assert m.wait_idle()  # one at a time: a burst of 40 would overflow the TX queue
        m.close()
        return len(rx.heard)

    first = run()
    assert 5 < first < 35
    assert run() == first


def test_reboot_rehandshakes(radios: Callable[..., Emu]) -> None:
    a = radios(0xA)
    with serial_client(a) as iface:
        session = a.radio.sessions()[0]
        before = session.frames_out
        a.radio.reboot()
        assert iface.isConnected.wait(5)
        sent = iface.sendData(b"after reboot")
        assert sent.id
        assert session.frames_out > before
