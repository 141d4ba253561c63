"""Issue 9's trust attacks through the path the attacker uses: a radio on the emulated mesh.

A visiting radio (any firmware, any key) transmits to the daemon's emulated radio; the daemon's
verdicts are read back through its local API, as a UI would.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from meshtastic.protobuf import mesh_pb2

from relay.api_client import ApiError
from relay.crypto.keys import encode_share
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT, wrap
from relay.radio.medium import InProcessMedium
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.wire import bulletin as wire
from relay.wire.fields import CERTIFY_BIT, Content, Kind
from tests.conftest import make_identity
from tests.daemon.conftest import Node, running

VISITOR = 0x0BADC0DE
ROOT = make_identity("newsroom")
ALICE = make_identity("alice")
STRANGER = make_identity("stranger")


class Air:
    """The daemon on an emulated radio and a visitor radio that transmits what a test builds."""

    def __init__(self, daemon: Node, medium: InProcessMedium, visitor: EmulatedRadio):
        self.daemon, self.medium, self.visitor = daemon, medium, visitor
        self.packet_id = 0x2000

    def send(self, raw: bytes) -> None:
        packet = mesh_pb2.MeshPacket()
        setattr(packet, "from", VISITOR)
        packet.to = 0xFFFFFFFF
        self.packet_id += 1
        packet.id = self.packet_id
        packet.hop_limit = packet.hop_start = 3
        packet.decoded.portnum = JARSHY_PORT  # type: ignore[assignment]
        packet.decoded.payload = wrap(raw)
        self.medium.transmit(self.visitor, packet)

    async def status(self, ident: bytes) -> str | None:
        try:
            got = await self.daemon.call("get", id=ident.hex())
        except ApiError:
            return None
        return str(got["bulletin"]["status"])

    async def until(self, ident: bytes, *wanted: str | None, timeout: float = 30.0) -> None:
        """Until the bulletin's status is one of ``wanted`` (any, if none is named)."""

        async def reached() -> bool:
            status = await self.status(ident)
            return status in wanted if wanted else status is not None

        await self.daemon.wait_for(reached, timeout)


@pytest_asyncio.fixture
async def air(tmp_path: Path) -> AsyncIterator[Air]:
    medium = InProcessMedium(time_scale=math.inf, seed=7)
    ours = EmulatedRadio(RadioState.create(0x1001, region="KZ_433"), medium=medium, seed=1)
    visitor = EmulatedRadio(RadioState.create(VISITOR, region="KZ_433"), medium=medium, seed=2)
    ours.start()
    visitor.start()
    transport = TcpTransport(ours, port=0).start()
    try:
        async with running(tmp_path / "home", f"tcp:127.0.0.1:{transport.port}") as daemon:

            async def up() -> bool:
                return bool((await daemon.call("status"))["link"]["state"] == "up")

            await daemon.wait_for(up)
            await daemon.call("trust.add", share=encode_share(ROOT.public_key, "Newsroom"))
            yield Air(daemon, medium, visitor)
    finally:
        transport.close()
        ours.stop()
        visitor.stop()
        medium.close()


def signed(content: Content, who: Any) -> bytes:
    return wire.sign(content, who).raw


async def test_three_packets_from_a_stranger_do_not_revoke_the_root(air: Air) -> None:
    now = int(time.time())
    before = wire.sign(Content(Kind.NEWS, ROOT.key_id, now - 30, "Су бар.", "kk"), ROOT)
    air.send(before.raw)
    await air.until(before.id, "trusted")
    attack = [
        Content(Kind.ANNOUNCEMENT, STRANGER.key_id, now - 20, subject_key=STRANGER.public_key,
                name="Stranger"),
        Content(Kind.CERTIFICATE, STRANGER.key_id, now - 19, subject_key=ROOT.public_key,
                name="Newsroom", kinds=0b1111 | CERTIFY_BIT, lifetime=86400),
        Content(Kind.REVOCATION, STRANGER.key_id, now - 18, revoked=ROOT.key_id,
                reason="compromised"),
    ]  # fmt: skip
    idents = []
    for content in attack:
        bulletin = wire.sign(content, STRANGER)
        idents.append(bulletin.id)
        air.send(bulletin.raw)
    await air.until(idents[-1])
    after = wire.sign(Content(Kind.NEWS, ROOT.key_id, now - 10, "Свет дали.", "ru"), ROOT)
    air.send(after.raw)
    await air.until(after.id)
    assert await air.status(after.id) == "trusted"
    assert await air.status(before.id) == "trusted"


async def test_junk_signature_heard_first_does_not_block_the_genuine_alert(air: Air) -> None:
    now = int(time.time())
    genuine = wire.sign(
        Content(Kind.NEWS, ALICE.key_id, now - 30, "Мост закрыт, объезд по Абая.", "ru"), ALICE
    )
    junk = genuine.raw[:-64] + bytes(64)
    air.send(junk)  # Alice's key is not known yet: held as a candidate, the id stays free
    await air.until(genuine.id, "pending_key")
    air.send(genuine.raw)
    cert = Content(Kind.CERTIFICATE, ROOT.key_id, now - 40, subject_key=ALICE.public_key,
                   name="Alice (Newsroom)", kinds=0b1111, lifetime=86400)  # fmt: skip
    air.send(signed(cert, ROOT))
    await air.until(genuine.id, "trusted")
    got = await air.daemon.call("get", id=genuine.id.hex())
    assert got["raw"] == genuine.raw.hex()  # the verified copy is the one kept
