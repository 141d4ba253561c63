"""From the engine's SendPacket actions to the radio, through the transmit queue.

The packets of one bulletin (its fragments) travel as one :class:`~relay.schedule.Ticket`, so the
queue's bounds never keep half a bulletin, and the airtime budget is checked for the whole of it.
Sync frames (beacons, summaries, requests) are tickets of their own with no author and no expiry.

The radio's answers steer the queue: a full TX queue puts the rest of the unit back and waits
for room; a ``DUTY_CYCLE_LIMIT`` refusal (the firmware's own budget) puts it back and defers the
queue for a minute; a lost link puts it back until the link is up again.  Nothing here reads a
clock except through the ``clock`` callable, so tests may drive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from relay.lora import REGIONS, packet_airtime
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkState, SendStatus
from relay.schedule import Ticket, TransmitQueue
from relay.sync.events import SendPacket
from relay.wire.fragments import carried_id

log = logging.getLogger("jarshy.transmit")

Unit = tuple[SendPacket, ...]
DUTY_CYCLE_BACKOFF = 60.0  # seconds to hold back after the radio refused for its duty cycle


@dataclass(frozen=True, slots=True)
class About:
    """What the queue needs to know about the bulletin a unit carries."""

    created: float
    expires_at: float | None
    author: bytes


def group(sends: Iterable[SendPacket]) -> list[Unit]:
    """Consecutive packets of one bulletin (same id, priority, hop limit) form one unit."""
    units: list[list[SendPacket]] = []
    last: tuple[bytes, int, int] | None = None
    for send in sends:
        ident = carried_id(send.payload)
        key = None if ident is None else (ident, send.priority, send.hop_limit)
        if key is not None and key == last:
            units[-1].append(send)
        else:
            units.append([send])
        last = key
    return [tuple(unit) for unit in units]


class Transmitter:
    """Owns the transmit queue and feeds the radio from it."""

    def __init__(
        self,
        about: Callable[[bytes], About | None],
        on_sent: Callable[[bytes], None],
        clock: Callable[[], float],
        wall: Callable[[], float] | None = None,
    ) -> None:
        self.queue: TransmitQueue[Unit] = TransmitQueue()
        self.about = about  # bulletin id -> what ordering needs (None: not a stored bulletin)
        self.on_sent = on_sent  # bulletin id whose packet the radio accepted
        self.clock = clock  # monotonic: the airtime budget, back-offs, the queue's expiry
        self.wall = wall or clock  # what a bulletin's ``created`` and ``expires_at`` are on
        self.link: RadioLink | None = None
        self.wake = asyncio.Event()
        self._last_utilization: float | None = None

    @property
    def preset(self) -> str:
        info = self.link.info if self.link is not None else None
        return info.modem_preset if info is not None and info.modem_preset else "LONG_FAST"

    def airtime(self, unit: Unit) -> float:
        return sum(packet_airtime(len(send.payload), self.preset) for send in unit)

    def submit(self, sends: list[SendPacket]) -> None:
        """Queue the engine's sends (dropped by the queue's bounds are counted there)."""
        now, wall = self.clock(), self.wall()
        for unit in group(sends):
            ident = carried_id(unit[0].payload)
            about = self.about(ident) if ident is not None else None
            created = wall if about is None else min(about.created, wall)  # a future clock
            expires = None if about is None or about.expires_at is None else about.expires_at
            self.queue.enqueue(  # cannot jump the queue
                Ticket(
                    unit, unit[0].priority, created, self.airtime(unit),
                    None if expires is None else expires - (wall - now),  # on the queue's clock
                    None if about is None else about.author,
                ),
                now,
            )  # fmt: skip
        if sends:
            self.wake.set()

    def radio_changed(self) -> None:
        """Take the region's duty cycle and a new channel utilisation report from the link."""
        info = self.link.info if self.link is not None else None
        if info is None:
            return
        region = REGIONS.get(info.region or "")
        self.queue.duty_cycle = region.duty_cycle if region is not None else 1.0
        # The link keeps the last report; only a changed value is a new report (firmware sends
        # one about every minute), so a radio that stops reporting does not hold news forever.
        if info.channel_utilization != self._last_utilization:
            self._last_utilization = info.channel_utilization
            self.queue.update_channel(info.channel_utilization, self.clock())
            self.wake.set()

    async def run(self) -> None:
        """Send whatever the queue releases while the link is up; never raises but on cancel."""
        while True:
            now = self.clock()
            up = self.link is not None and self.link.state is LinkState.UP
            ticket = self.queue.next_ready(now) if up else None
            if ticket is None:
                deadline = self.queue.next_deadline(now) if up else None
                wait = 5.0 if deadline is None else min(5.0, max(0.05, deadline - now))
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):  # not wait_for: it may swallow cancellation
                        await self.wake.wait()
                continue
            try:
                await self._send(ticket)
            except Exception:  # one bad packet must never stop the node transmitting
                log.exception("transmitting failed")

    async def _send(self, ticket: Ticket[Unit]) -> None:
        assert self.link is not None
        for index, send in enumerate(ticket.item):
            try:
                result = await self.link.send(send.payload, hop_limit=send.hop_limit)
            except ValueError as exc:
                log.warning("radio refused a packet: %s", exc)
                continue
            except ConnectionError:
                self._put_back(ticket, index)
                return
            now = self.clock()
            if result.status is SendStatus.QUEUE_FULL:
                self._put_back(ticket, index)
                with contextlib.suppress(TimeoutError, ConnectionError):
                    await self.link.wait_queue_free(timeout=30)
                return
            if result.status is SendStatus.REJECTED:
                if result.error == "DUTY_CYCLE_LIMIT":
                    log.warning("radio at its duty-cycle limit: holding back")
                    self._put_back(ticket, index)
                    self.queue.defer(now + DUTY_CYCLE_BACKOFF)
                    return
                log.warning("radio rejected a packet: %s", result.error)
                continue
            self.queue.record_sent(packet_airtime(len(send.payload), self.preset), now)
            ident = carried_id(send.payload)
            if ident is not None:
                self.on_sent(ident)

    def _put_back(self, ticket: Ticket[Unit], index: int) -> None:
        rest = ticket.item[index:]
        t = ticket
        self.queue.requeue(Ticket(rest, t.priority, t.created, self.airtime(rest), t.expires_at,
                                  t.author))  # fmt: skip
