"""The firmware's client rules: one TCP client at a time (src/mesh/api/ServerAPI.cpp).

Real sockets: each session writes to and is closed through one end of a socket pair, as a TCP
transport's connection is; the other end is what the client reads.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from meshtastic.protobuf import mesh_pb2

from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import FrameParser, encode_frame
from relay.radio.session import ClientSession
from relay.radio.state import RadioState


@pytest.fixture
def radio() -> Iterator[EmulatedRadio]:
    r = EmulatedRadio(RadioState.create(0xA), telemetry_interval=None)
    yield r
    r.stop()


def _connect(radio: EmulatedRadio, name: str) -> tuple[ClientSession, socket.socket]:
    ours, theirs = socket.socketpair()
    theirs.settimeout(5)

    def close() -> None:
        ours.shutdown(socket.SHUT_RDWR)
        ours.close()

    session = ClientSession(radio, ours.sendall, name, close=close)
    radio.add_session(session)
    return session, theirs


def _handshake(session: ClientSession, client: socket.socket) -> list[mesh_pb2.FromRadio]:
    session.feed(encode_frame(mesh_pb2.ToRadio(want_config_id=7).SerializeToString()))
    parser = FrameParser()
    records: list[mesh_pb2.FromRadio] = []
    while not records or not records[-1].HasField("config_complete_id"):
        data = client.recv(65536)
        assert data, "connection closed during the handshake"
        records += [mesh_pb2.FromRadio.FromString(f) for f in parser.feed(data)]
    return records


def test_a_new_tcp_client_closes_the_previous_one(radio: EmulatedRadio) -> None:
    first, first_client = _connect(radio, "tcp:127.0.0.1:5000")
    assert _handshake(first, first_client)[-1].config_complete_id == 7
    second, second_client = _connect(radio, "tcp:127.0.0.1:5001")
    assert first.closed and not second.closed
    assert first_client.recv(100) == b""  # the firmware dropped the old connection
    assert radio.sessions() == [second]
    assert _handshake(second, second_client)[-1].config_complete_id == 7
    before = first.frames_out
    first.feed(encode_frame(mesh_pb2.ToRadio(want_config_id=8).SerializeToString()))
    assert first.frames_out == before  # a displaced session neither reads nor answers


def test_serial_clients_are_not_displaced_by_tcp(radio: EmulatedRadio) -> None:
    serial, serial_client = _connect(radio, "pty:/dev/pts/9")
    tcp, _ = _connect(radio, "tcp:127.0.0.1:5000")
    assert not serial.closed and set(radio.sessions()) == {serial, tcp}
    assert _handshake(serial, serial_client)[-1].config_complete_id == 7


def test_a_reboot_drops_a_tcp_client_and_tells_a_serial_one(radio: EmulatedRadio) -> None:
    tcp, tcp_client = _connect(radio, "tcp:127.0.0.1:5000")
    serial, serial_client = _connect(radio, "pty:/dev/pts/9")
    _handshake(serial, serial_client)
    radio.reboot()
    assert tcp.closed and tcp_client.recv(100) == b""  # the TCP server went down with it
    parser = FrameParser()
    records: list[mesh_pb2.FromRadio] = []
    while not any(r.rebooted for r in records):
        data = serial_client.recv(65536)
        assert data
        records += [mesh_pb2.FromRadio.FromString(f) for f in parser.feed(data)]
    assert radio.sessions() == [serial] and radio.state.reboot_count == 2
