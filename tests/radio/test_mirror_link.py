"""The mirror's radio side with real parts: RadioLink sends texts and alerts on channel 0 of an
emulated radio, a stock radio's phone app (the meshtastic library) shows them, the firmware's
per-client throttle holds, and texts heard on channel 0 reach ``on_text`` and nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from meshtastic.protobuf import portnums_pb2

from relay.radio.emu_app import AppClient
from relay.radio.link import RadioLink
from relay.radio.linktypes import SendStatus, TextHeard
from relay.radio.medium import InProcessMedium
from relay.sync.events import PacketReceived
from tests.radio.conftest import Emu


async def test_texts_and_alerts_reach_the_phone_app_on_a_stock_radio(
    radios: Callable[..., Emu],
) -> None:
    a, b = radios(0xA), radios(0xB, transport="tcp")
    clock = [100.0]
    a.radio.phone_clock = lambda: clock[0]
    with AppClient(b.address) as app:
        async with RadioLink(a.address) as link:
            text = await link.send_text("Newsroom: Вода будет завтра #K7Q2MX")
            clock[0] += 2.5
            alert = await link.send_text("Newsroom: Evacuate #AAAAAA", alert=True)
            assert text.status is alert.status is SendStatus.QUEUED
        got = await asyncio.to_thread(app.wait, 2)
    assert [(m.kind, m.text) for m in got] == [
        ("text", "Newsroom: Вода будет завтра #K7Q2MX"),
        ("alert", "Newsroom: Evacuate #AAAAAA"),
    ]
    assert {m.channel for m in got} == {0} and {m.sender for m in got} == {0xA}


async def test_the_firmware_throttle_drops_a_text_within_2_s_and_an_alert_within_10_s(
    radios: Callable[..., Emu], medium: InProcessMedium
) -> None:
    a, b = radios(0xA), radios(0xB)
    clock = [100.0]
    a.radio.phone_clock = lambda: clock[0]
    async with RadioLink(a.address) as link:
        await link.send_text("one")
        await link.send_text("two")  # 0 s later: dropped (queue status says taken)
        await link.send_text("alert one", alert=True)  # another port: its own clock
        clock[0] += 9.0
        await link.send_text("three")
        await link.send_text("alert two", alert=True)  # 9 s after the first alert: dropped
        clock[0] += 1.0
        await link.send_text("alert three", alert=True)
    assert await asyncio.to_thread(medium.wait_idle)
    on_air = [
        bytes(p.decoded.payload).decode()
        for p in b.radio.heard
        if p.decoded.portnum in (portnums_pb2.TEXT_MESSAGE_APP, portnums_pb2.ALERT_APP)
    ]
    assert on_air == ["one", "alert one", "three", "alert three"]
    assert a.radio.rate_limited == 2  # "two" and "alert two"


async def test_texts_heard_on_channel_0_go_to_on_text_only(radios: Callable[..., Emu]) -> None:
    a, b = radios(0xA), radios(0xB, transport="tcp")
    texts: list[TextHeard] = []
    frames: list[PacketReceived] = []
    got = asyncio.Event()

    def on_text(heard: TextHeard) -> None:
        texts.append(heard)
        got.set()

    async with RadioLink(a.address, on_text=on_text, on_packet=frames.append):
        with AppClient(b.address) as app:
            await asyncio.to_thread(app.iface.sendText, "Newsroom: x #K7Q2MX")
            await asyncio.wait_for(got.wait(), 10)
    assert texts[0].text == "Newsroom: x #K7Q2MX" and texts[0].sender == 0xB
    assert not texts[0].alert and frames == []
