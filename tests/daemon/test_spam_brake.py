"""The spam brake end to end: a radio that floods forgeries gets ignored by the daemon's radio
(the daemon in process, on a real link to an emulated radio)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from meshtastic.protobuf import mesh_pb2

from relay.api_client import ApiError
from relay.crypto.keys import encode_share
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT, wrap
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from tests.conftest import make_identity
from tests.daemon.conftest import Node, running

SPAMMER = 0x5BAD5BAD
BROADCAST = 0xFFFFFFFF


def forged_packet(i: int) -> Any:
    """A Jarshy bulletin on Jarshy's port claiming a key it was not signed with."""
    claimed, signer = make_identity("newsroom"), make_identity("mallory")
    content = Content(Kind.NEWS, claimed.key_id, int(time.time()) - 60 + i, f"fake {i}", "en")
    unsigned = wire.encode_unsigned(content)
    packet = mesh_pb2.MeshPacket()
    setattr(packet, "from", SPAMMER)
    packet.to = BROADCAST
    packet.id = 0x1000 + i
    packet.hop_limit = packet.hop_start = 3
    packet.decoded.portnum = JARSHY_PORT  # type: ignore[assignment]
    packet.decoded.payload = wrap(unsigned + signer.sign(wire.SIGNING_DOMAIN + unsigned))
    return packet


async def link_up(node: Node) -> None:
    async def up() -> bool:
        return bool((await node.call("status"))["link"]["state"] == "up")

    await node.wait_for(up)


async def until(predicate: Callable[[], bool], node: Node, timeout: float = 30.0) -> None:
    async def check() -> bool:
        return predicate()

    await node.wait_for(check, timeout)


async def test_a_radio_flooding_forgeries_is_ignored_by_ours(tmp_path: Path) -> None:
    medium = InProcessMedium(time_scale=math.inf, seed=5)
    ours = EmulatedRadio(RadioState.create(0x1001, region="KZ_433"), medium=medium, seed=1)
    spammer = EmulatedRadio(RadioState.create(SPAMMER, region="KZ_433"), medium=medium, seed=2)
    ours.start()
    spammer.start()
    transport = TcpTransport(ours, port=0).start()
    try:
        async with running(tmp_path / "home", f"tcp:127.0.0.1:{transport.port}") as daemon:
            await link_up(daemon)
            newsroom = make_identity("newsroom")  # trusted: in its name is provably forged
            await daemon.call("trust.add", share=encode_share(newsroom.public_key, "Newsroom"))
            for i in range(3):
                medium.transmit(spammer, forged_packet(i))
            await until(lambda: SPAMMER in ours.state.ignored, daemon)
            listed = (await daemon.call("status"))["link"]["ignored_radios"]
            assert [r["node"] for r in listed] == [f"!{SPAMMER:08x}"]
            assert listed[0]["until"] > time.time() + 3000  # an hour
            before = ours.ignored_drops
            medium.transmit(spammer, forged_packet(3))
            await until(lambda: ours.ignored_drops > before, daemon, timeout=10)
    finally:
        transport.close()
        ours.stop()
        spammer.stop()
        medium.close()


async def test_the_simulated_mesh_shows_the_brake_on_its_forger(tmp_path: Path) -> None:
    async with running(tmp_path / "home", sim_interval=0.1) as daemon:

        async def ignored() -> Any:
            return (await daemon.call("status"))["link"]["ignored_radios"]

        listed = await daemon.wait_for(ignored, timeout=60)
        assert [r["node"] for r in listed] == ["!4a530005"]  # the visitor, not the newsroom
        shown = await daemon.cli("status")
        line = next(x for x in shown.stdout.splitlines() if x.startswith("ignored (spam brake)"))
        assert "!4a530005" in line and "more (until" in line  # human time, no epoch seconds


async def test_a_restarted_daemon_lifts_the_quarantines_it_started(tmp_path: Path) -> None:
    """The firmware keeps its ignore list in flash; the daemon keeps its own, and lifts late."""
    import json

    medium = InProcessMedium(time_scale=math.inf, seed=5)
    ours = EmulatedRadio(RadioState.create(0x1001, region="KZ_433"), medium=medium, seed=1)
    ours.state.ignored.update({SPAMMER, 0x600D})  # both set by an earlier run of the daemon
    ours.start()
    transport = TcpTransport(ours, port=0).start()
    home = tmp_path / "home"
    home.mkdir()
    kept = {str(SPAMMER): time.time() - 60, str(0x600D): time.time() + 1800}  # one expired
    (home / "jarshy.ignored.json").write_text(json.dumps(kept))
    try:
        async with running(home, f"tcp:127.0.0.1:{transport.port}") as daemon:
            await until(lambda: SPAMMER not in ours.state.ignored, daemon)
            assert 0x600D in ours.state.ignored  # still under quarantine
            listed = (await daemon.call("status"))["link"]["ignored_radios"]
            assert [r["node"] for r in listed] == ["!0000600d"]
            saved = json.loads((home / "jarshy.ignored.json").read_text())
            assert set(saved) == {str(0x600D)}
    finally:
        transport.close()
        ours.stop()
        medium.close()


NEWSROOM_RADIO = 0x600D


def radio_packet(sender: int, packet_id: int, payload: bytes) -> Any:
    packet = mesh_pb2.MeshPacket()
    setattr(packet, "from", sender)
    packet.to = BROADCAST
    packet.id = packet_id
    packet.hop_limit = packet.hop_start = 3
    packet.decoded.portnum = JARSHY_PORT  # type: ignore[assignment]
    packet.decoded.payload = wrap(payload)
    return packet


def long_alert(i: int) -> wire.Bulletin:
    """A trusted extreme alert long enough for several fragments."""
    from relay.wire.fields import SafetyInfo

    newsroom = make_identity("newsroom")
    info = SafetyInfo("flood", "met", "extreme", "immediate", "observed", "Medeu district")
    text = " ".join(f"{i}-{n * 7919 % 100003}" for n in range(120))
    content = Content(
        Kind.SAFETY, newsroom.key_id, int(time.time()) - 30 + i, text, "en", lifetime=7200,
        safety=info,
    )  # fmt: skip
    return wire.sign(content, newsroom)


async def test_a_fake_fragment_with_another_count_does_not_get_the_genuine_sender_ignored(
    tmp_path: Path,
) -> None:
    """Issue 9, attack 5: one fake fragment with the alert's id and another count, sent from the
    attacker's own radio (no spoofing), used to get the newsroom's radio ignored for an hour."""
    from relay.wire.fragments import split

    medium = InProcessMedium(time_scale=math.inf, seed=5)
    ours = EmulatedRadio(RadioState.create(0x1001, region="KZ_433"), medium=medium, seed=1)
    attacker = EmulatedRadio(RadioState.create(SPAMMER, region="KZ_433"), medium=medium, seed=2)
    newsroom_radio = EmulatedRadio(
        RadioState.create(NEWSROOM_RADIO, region="KZ_433"), medium=medium, seed=3
    )
    for radio in (ours, attacker, newsroom_radio):
        radio.start()
    transport = TcpTransport(ours, port=0).start()
    try:
        async with running(tmp_path / "home", f"tcp:127.0.0.1:{transport.port}") as daemon:
            await link_up(daemon)
            newsroom = make_identity("newsroom")
            await daemon.call("trust.add", share=encode_share(newsroom.public_key, "Newsroom"))
            alerts = [long_alert(i) for i in range(4)]
            packet_id = 0x2000
            for alert in alerts:
                packets = split(alert.raw)
                fake = packets[0][:9] + bytes([packets[0][9] + 1, 0]) + packets[0][11:]
                packet_id += 1
                medium.transmit(attacker, radio_packet(SPAMMER, packet_id, fake))
                for payload in packets:
                    packet_id += 1
                    sent = radio_packet(NEWSROOM_RADIO, packet_id, payload)
                    medium.transmit(newsroom_radio, sent)

            async def all_held() -> bool:
                try:
                    for alert in alerts:
                        await daemon.call("get", id=alert.id.hex())
                except ApiError:
                    return False
                return True

            await daemon.wait_for(all_held, timeout=30)
            assert NEWSROOM_RADIO not in ours.state.ignored
            assert (await daemon.call("status"))["link"]["ignored_radios"] == []
    finally:
        transport.close()
        for radio in (ours, attacker, newsroom_radio):
            radio.stop()
        medium.close()
