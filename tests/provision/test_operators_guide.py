"""docs/operators.md followed as a test (its §12): from a newsroom's new key to a relay that
forwards the newsroom's bulletins, with emulated radios on an in-process mesh, the real meshtastic
library, the real CLI and a real daemon.

The mesh is a line: the newsroom's radio — the relay's radio — a resident's radio. The resident
is out of the newsroom's range, and the newsroom transmits with hop limit 0, so the firmware
relays nothing: only the relay's daemon can carry the bulletin on (its frontier relay), and it
does so only for a key it was told to trust.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from meshtastic.protobuf import mesh_pb2

from relay.api_client import ApiError
from relay.cli import main
from relay.crypto.keystore import Keystore
from relay.provision.channel import make_url
from relay.radio.emulator import EmulatedRadio
from relay.radio.framing import JARSHY_PORT, wrap
from relay.radio.medium import InProcessMedium, LinkQuality
from relay.radio.state import RadioState
from relay.radio.transports import TcpTransport
from relay.wire import bulletin as wire
from relay.wire.fields import Content, Kind
from relay.wire.fragments import split
from tests.conftest import make_identity
from tests.daemon.conftest import Node, running

NEWSROOM, RELAY, RESIDENT = 0x4A0A0001, 0x4A0A0002, 0x4A0A0003
PASSPHRASE = "tea river lamp otrar 1987"
URL = make_url("Jarshy", bytes(range(1, 33)), region="KZ_863", tx_power=14, add=True)
FAR = LinkQuality(snr=-12.0, rssi=-120)  # at the edge of range: a relay is worth it
STRANGER = make_identity("stranger")


class Phone:
    """The far side of a radio's phone API, for packets a test sends through it."""

    def send_queue_status(self, *args: Any, **kwargs: Any) -> None:
        return None


class Mesh:
    """Three emulated radios on one in-process medium, each served over TCP."""

    def __init__(self) -> None:
        self.medium = InProcessMedium(time_scale=50.0, seed=5, full_mesh=False)
        self.radios: dict[int, EmulatedRadio] = {}
        self.transports: dict[int, TcpTransport] = {}
        for num in (NEWSROOM, RELAY, RESIDENT):
            state = RadioState.create(num, region="UNSET", role="CLIENT")
            radio = EmulatedRadio(state, medium=self.medium, seed=num, telemetry_interval=None)
            radio.admin.on_commit = lambda: None  # type: ignore[attr-defined]  # no reboot
            radio.start()
            self.radios[num] = radio
            self.transports[num] = TcpTransport(radio, port=0).start()
        self.medium.link(NEWSROOM, RELAY, FAR)
        self.medium.link(RELAY, RESIDENT, FAR)

    def address(self, num: int) -> str:
        return f"tcp:127.0.0.1:{self.transports[num].port}"

    def transmit(self, num: int, raw: bytes) -> None:
        """A bulletin from ``num``'s Jarshy channel with hop limit 0 (no firmware relay)."""
        radio = self.radios[num]
        index = next(c.index for c in radio.channels() if c.name == "Jarshy")
        for frame in split(raw):
            packet = mesh_pb2.MeshPacket()
            packet.to = 0xFFFFFFFF
            packet.channel = index
            packet.hop_limit = 0
            packet.decoded.portnum = JARSHY_PORT  # type: ignore[assignment]
            packet.decoded.payload = wrap(frame)
            radio.handle_phone_packet(Phone(), packet)  # type: ignore[arg-type]

    def close(self) -> None:
        for transport in self.transports.values():
            transport.close()
        for radio in self.radios.values():
            radio.stop()
        self.medium.close()


@pytest.fixture
def mesh() -> Iterator[Mesh]:
    made = Mesh()
    yield made
    made.close()


def jarshy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], home: Path, *argv: str
) -> str:
    """`jarshy ARGV` as the guide types it, in ``home``; its output (it must succeed)."""
    monkeypatch.setenv("JARSHY_HOME", str(home))
    monkeypatch.setenv("JARSHY_KDF", "fast")
    monkeypatch.setenv("JARSHY_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("JARSHY_SOCKET", raising=False)
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


async def status_of(node: Node, ident: bytes) -> str | None:
    try:
        got = await node.call("get", id=ident.hex())
    except ApiError:
        return None
    return str(got["bulletin"]["status"])


async def test_the_guide_gives_a_relay_that_forwards_the_newsrooms_bulletins(
    mesh: Mesh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    newsroom_home, relay_home = tmp_path / "newsroom", tmp_path / "relay"
    # §9: the newsroom makes its key and gives out the share string
    made = await asyncio.to_thread(
        jarshy, monkeypatch, capsys, newsroom_home, "keys", "new", "Almaty desk"
    )
    assert "next:" in made and "jarshy keys share" in made and "--trust" in made
    share = (
        await asyncio.to_thread(jarshy, monkeypatch, capsys, newsroom_home, "keys", "share")
    ).strip()
    fingerprint = made.split("fingerprint ", 1)[1].split()[0]
    # §2: every node's radio is provisioned; the relay's with the newsroom's key to trust
    common = ["--region", "KZ_863", "--channel-url", URL, "--reboot-wait", "0"]
    provision = ["radio", "provision", "--radio", mesh.address(RELAY), *common]
    out = await asyncio.to_thread(
        jarshy, monkeypatch, capsys, relay_home, *provision, "--profile", "rooftop-relay",
        "--trust", share,
    )  # fmt: skip
    assert f"trusting Almaty desk ({fingerprint}) from --trust" in out and "WARNING" not in out
    for num, profile in ((NEWSROOM, "journalist-handheld"), (RESIDENT, "resident-receiver")):
        home = tmp_path / f"node-{num:x}"
        argv = ["radio", "provision", "--profile", profile, "--radio", mesh.address(num)]
        await asyncio.to_thread(jarshy, monkeypatch, capsys, home, *argv, *common)
    # §5: the relay's daemon on its radio; `jarshy status` shows the newsroom trusted
    async with running(relay_home, mesh.address(RELAY)) as node:

        async def up() -> bool:
            return bool((await node.call("status"))["link"]["state"] == "up")

        await node.wait_for(up)
        shown = await node.cli("status")
        assert shown.returncode == 0 and "trusted roots: 1" in shown.stdout, shown.stdout
        listed = await node.cli("trust", "list")
        assert "Almaty desk" in listed.stdout and fingerprint in listed.stdout
        # the newsroom transmits; so does a stranger, through the same radio
        identity = Keystore(newsroom_home / "keys").unlock("Almaty desk", PASSPHRASE)
        now = int(time.time())
        news = wire.sign(Content(Kind.NEWS, identity.key_id, now - 5,
                                 "Су ертең 10:00-де беріледі.", "kk", 3600), identity)  # fmt: skip
        rumour = wire.sign(Content(Kind.NEWS, STRANGER.key_id, now - 4,
                                   "Завтра воды не будет. Передайте всем!", "ru", 3600),
                           STRANGER)  # fmt: skip
        mesh.transmit(NEWSROOM, rumour.raw)
        mesh.transmit(NEWSROOM, news.raw)

        async def judged() -> bool:
            return await status_of(node, news.id) == "trusted" and (
                await status_of(node, rumour.id) in ("unknown_key", "pending_key")
            )

        await node.wait_for(judged, timeout=60)
        # the relay carries the trusted bulletin on to the resident, out of the newsroom's range
        frame = wrap(split(news.raw)[0])
        resident = mesh.radios[RESIDENT]

        def forwarded(packet: Any) -> bool:
            return getattr(packet, "from") == RELAY and packet.decoded.payload == frame

        heard = await asyncio.to_thread(resident.wait_heard, forwarded, 60.0)
        assert heard is not None, "the relay did not forward the newsroom's bulletin"
        assert heard.decoded.portnum == JARSHY_PORT


def test_a_relay_provisioned_without_trust_is_told_it_forwards_no_news(
    mesh: Mesh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    out = jarshy(monkeypatch, capsys, tmp_path / "relay", "radio", "provision", "--profile",
                 "rooftop-relay", "--radio", mesh.address(RELAY), "--region", "KZ_863",
                 "--channel-url", URL, "--reboot-wait", "0")  # fmt: skip
    assert "WARNING: this relay trusts no newsroom key, so it stores and forwards no news" in out
