"""The channel plan on the emulated air: two radios provisioned by `jarshy radio provision` with a
stock radio between them (A - S - B, A and B out of each other's range). Which stock radios carry
Jarshy's packets follows the firmware as the emulator applies it (src/mesh/Router.cpp,
NextHopRouter.cpp ``relayOpaquePacket``, RoutingModule.cpp; relay/sim/meshrules.py)."""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from relay.cli import main
from relay.provision.apply import open_radio
from relay.provision.channel import make_url
from relay.provision.plan import jarshy_index, radio_channels
from relay.radio.admin import ProvisioningAdminHandler
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT
from relay.radio.linktypes import JARSHY_CHANNEL
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import PtyTransport

KEY = bytes(range(100, 132))
URL = make_url("Jarshy", KEY, region="KZ_863", tx_power=14, add=True)
PAYLOAD = b"\xfe\x4a-a bulletin frame"
A, S, B = 0x4A00000A, 0x5700000F, 0x4A00000B


@dataclass
class Node:
    """An emulated radio on the shared air, served on a pty."""

    radio: EmulatedRadio
    transport: PtyTransport

    @property
    def address(self) -> str:
        return f"serial:{self.transport.path}"


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Callable[..., tuple[Node, Node, Node, InProcessMedium]]]:
    """``chain(stock_role=, stock_firmware=)``: A - S - B on one zero-airtime medium in KZ_863."""
    medium = InProcessMedium(time_scale=math.inf, seed=1, full_mesh=False)
    made: list[Node] = []

    def radio(node_num: int, **state_kw: Any) -> Node:
        state = RadioState.create(node_num, region="KZ_863", tx_power=14, **state_kw)
        emulated = EmulatedRadio(state, medium=medium, telemetry_interval=None, seed=node_num)
        transport = PtyTransport(emulated, link=tmp_path / f"tty{node_num:08x}").start()
        emulated.start()
        made.append(Node(emulated, transport))
        admin = emulated.admin
        assert isinstance(admin, ProvisioningAdminHandler)
        admin.on_commit = lambda: None  # no reboot: the air is what this test is about
        return made[-1]

    def make(**stock_kw: Any) -> tuple[Node, Node, Node, InProcessMedium]:
        a, s, b = radio(A), radio(S, **stock_kw), radio(B)
        medium.link(A, S)
        medium.link(S, B)
        return a, s, b, medium

    yield make
    for r in made:
        r.transport.close()
        r.radio.stop()
    medium.close()


def provision(r: Node, *extra: str) -> None:
    args = ["--region", "KZ_863", "--channel-url", URL, "--reboot-wait", "0", *extra]
    assert main(["radio", "provision", "--profile", "portable-relay", "--radio", r.address, *args]) == 0  # fmt: skip


def send_on_jarshy(r: Node) -> None:
    """What the daemon's link does: broadcast on the channel named Jarshy, hop limit 1."""
    with open_radio(r.address) as iface:
        index = jarshy_index(radio_channels(iface), JARSHY_CHANNEL)
        assert index is not None
        iface.sendData(PAYLOAD, portNum=JARSHY_PORT, channelIndex=index, hopLimit=1)


def got(r: Node) -> bool:
    return any(p.HasField("decoded") and p.decoded.payload == PAYLOAD for p in list(r.radio.heard))


@pytest.mark.parametrize(
    ("role", "firmware", "relayed"),
    [
        ("CLIENT", "2.7.26.54e0d8d", True),
        ("CLIENT", "2.8.0.d6b12ea", True),
        ("ROUTER", "2.7.26.54e0d8d", True),  # CORE_PORTNUMS_ONLY filters decoded packets only
        ("ROUTER", "2.8.0.d6b12ea", False),  # relayOpaquePacket: ALL / ALL_SKIP_DECODING only
    ],
)
def test_a_stock_radio_on_the_public_slot_relays_the_secondary_channel_it_cannot_decrypt(
    chain: Callable[..., Any], role: str, firmware: str, relayed: bool
) -> None:
    a, s, b, medium = chain(role=role, firmware_version=firmware)
    provision(a)
    provision(b)
    send_on_jarshy(a)
    if relayed:
        assert b.radio.wait_heard(lambda p: got(b), timeout=10) is not None
    assert medium.wait_idle(timeout=10)
    assert got(b) == relayed and (s.radio.opaque_relays > 0) == relayed
    assert not got(s)  # the stock radio never decrypted it


def test_an_isolated_pair_is_not_heard_by_the_stock_radio_between_them(
    chain: Callable[..., Any],
) -> None:
    a, s, b, medium = chain()
    provision(a, "--isolated")
    provision(b, "--isolated")
    send_on_jarshy(a)
    assert medium.wait_idle(timeout=10)
    assert not got(b) and s.radio.opaque_relays == 0 and not got(s)


def test_a_stock_router_that_holds_the_key_is_a_black_hole(chain: Callable[..., Any]) -> None:
    a, s, b, medium = chain(role="ROUTER", firmware_version="2.7.26.54e0d8d")
    provision(a)
    provision(b)
    assert main(["channel", "join", URL, "--radio", s.address]) == 2  # Jarshy refuses to
    result = subprocess.run(  # but its owner adds the channel with the official CLI
        [sys.executable, "-m", "meshtastic", "--port", s.transport.path, "--ch-add-url", URL],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    send_on_jarshy(a)
    assert medium.wait_idle(timeout=10)
    assert not got(b) and not got(s)  # decoded, private port, CORE_PORTNUMS_ONLY: dropped


def test_radio_info_names_the_routers_it_has_heard(
    chain: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    a, s, _, medium = chain(role="ROUTER")
    s.radio.state.owner.role = 2  # ROUTER: the firmware announces its role (NodeDB.cpp owner.role)
    s.radio.announce()
    assert medium.wait_idle(timeout=10)
    main(["radio", "info", "--radio", a.address])
    out = capsys.readouterr().out
    assert f"note: routers heard: !{S:08x} (0 hops)" in out and "rebroadcast_mode ALL" in out
