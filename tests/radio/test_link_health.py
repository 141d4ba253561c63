"""The link notices what happens to it (issue 10 item 5): displaced by another TCP client, a
silent radio, a radio that returns, and closing without a traceback.

Real meshtastic library against the emulator over TCP and a pty. The emulator serves one TCP
client at a time as the firmware does (src/mesh/api/ServerAPI.cpp, APIServerPort::runOnce:
"Force close previous TCP connection").
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

from relay.radio._iface import close_interface, open_interface
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkState
from tests.helpers import until

Emu = Any  # tests/radio/conftest.py:Emu
WAIT = 15.0


async def test_a_displaced_tcp_link_backs_off_and_says_so(
    radios: Callable[..., Emu], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="relay.radio")
    a = radios(0xA, transport="tcp")
    states: list[LinkState] = []
    async with RadioLink(a.address, on_state=states.append, displaced_backoff=60.0) as link:
        phone = await asyncio.to_thread(open_interface, a.address, 10)  # a phone app connects
        try:
            await link.wait_state(LinkState.DISPLACED, WAIT)
            health = link.health
            assert health.state is LinkState.DISPLACED and health.displaced == 1
            assert health.reason == "displaced by another TCP client (or the radio restarted)"
            assert health.retry_in is not None and health.retry_in > 30  # it waits: no fight
            assert health.summary().startswith(f"displaced: {health.reason}; retrying in")
            assert health.as_dict()["displaced"] == 1
            assert "another client" in caplog.text and "USB serial" in caplog.text
            # The other client keeps the radio meanwhile: what it sends reaches the radio.
            sent = await asyncio.to_thread(phone.sendData, b"mine now", portNum=1)
            await until(lambda: any(p.id == sent.id for p in a.radio.from_phone))
            assert link.state is LinkState.DISPLACED
        finally:
            await asyncio.to_thread(close_interface, phone)
        link.reconnect_now()  # the operator closed the app and asks the daemon to come back
        await link.wait_state(LinkState.UP, WAIT)
        assert link.connects == 2 and "link is back" in caplog.text
        assert (await link.send(b"\x19back", hop_limit=0)).ok
    assert states[:5] == [
        LinkState.CONNECTING,
        LinkState.UP,
        LinkState.DISPLACED,
        LinkState.CONNECTING,
        LinkState.UP,
    ]


async def test_in_a_fight_with_a_reconnecting_client_the_link_yields_longer_each_time(
    radios: Callable[..., Emu], caplog: pytest.LogCaptureFixture
) -> None:
    """`meshtastic --listen` on the same radio reconnects a second after being displaced: the
    link waits longer after each displacement instead of fighting once a second."""
    from meshtastic.tcp_interface import TCPInterface

    a = radios(0xA, transport="tcp")
    async with RadioLink(a.address, displaced_backoff=0.2, displaced_max=0.8) as link:
        port = int(a.address.rsplit(":", 1)[1])
        listener = await asyncio.to_thread(TCPInterface, "127.0.0.1", portNumber=port, timeout=10)
        try:
            await until(lambda: link.stats["displaced"] >= 4, timeout=60.0)
        finally:
            await asyncio.to_thread(close_interface, listener)
    waits = [float(w) for w in re.findall(r"Retrying in (\d+\.\d) s", caplog.text)]
    assert waits[:4] == [0.2, 0.4, 0.8, 0.8]


async def test_a_silent_radio_is_noticed_and_the_link_rebuilt(
    radios: Callable[..., Emu], caplog: pytest.LogCaptureFixture
) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(a.address, watchdog_interval=0.1, silence_limit=2.0) as link:
        await until(lambda: link.stats["probes"] >= 8)  # a quiet radio answers the probes
        assert link.connects == 1 and link.health.silent == 0
        first = link._iface
        a.transport.freeze()  # half-open: the connection stays, nothing comes back
        await until(lambda: link.connects == 2 and link.state is LinkState.UP)
        assert link._iface is not first and link.health.silent == 1
        assert "silent for" in caplog.text
        assert (await link.send(b"\x19alive again", hop_limit=0)).ok


async def test_a_handshake_that_never_completes_rebuilds_the_link(
    radios: Callable[..., Emu], caplog: pytest.LogCaptureFixture
) -> None:
    a = radios(0xA, transport="tcp")
    async with RadioLink(a.address, handshake_timeout=1, silence_limit=600.0) as link:
        a.transport.freeze(deaf_only=True)  # the radio no longer hears its client
        for session in a.radio.sessions():
            session.send_rebooted()  # the library re-handshakes; no answer ever comes
        await link.wait_state(LinkState.CONNECTING, WAIT)
        await until(lambda: link.connects == 2 and link.state is LinkState.UP)
        assert "handshake not completed" in caplog.text and link.health.silent == 0
        assert (await link.send(b"\x19after reboot", hop_limit=0)).ok


async def test_a_returning_radio_is_used_within_the_back_off_cap(
    radios: Callable[..., Emu], caplog: pytest.LogCaptureFixture
) -> None:
    assert RadioLink("serial:auto").backoff_max <= 5.0  # the default: used within seconds
    a = radios(0xA)
    async with RadioLink(a.address, backoff_initial=0.02, backoff_max=0.3) as link:
        a.transport.unplug()
        await until(lambda: link.stats["connect_failures"] >= 8)  # 0.02 doubled past the cap
        retry = link.health.retry_in
        assert link.state is LinkState.DOWN and retry is not None and retry <= 0.3
        assert link.health.reason is not None and "connect failed" in link.health.reason
        a.transport.plug()
        await link.wait_state(LinkState.UP, WAIT)
        assert "link is back after" in caplog.text
        assert (await link.send(b"\x19back", hop_limit=0)).ok


@pytest.mark.parametrize("transport", ["tcp", "pty"])
def test_a_quick_command_closes_without_a_traceback(
    radios: Callable[..., Emu], capfd: pytest.CaptureFixture[str], transport: str
) -> None:
    """`jarshy radio info` opens, reads and closes at once: the library used to send its first
    heartbeat after close had begun (BrokenPipeError traceback on stderr)."""
    a = radios(0xA, transport=transport)
    for _ in range(5):
        iface = open_interface(a.address, 10)
        assert iface.getMyNodeInfo()["num"] == 0xA
        close_interface(iface)
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Broken pipe" not in err, err
