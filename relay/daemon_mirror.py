"""The daemon's side of the phone-app mirror: offers from the store, sends through the link.

The decisions are relay.node.mirror's (sans-IO); this module only moves things: a bulletin the
core stored or re-judged becomes a :class:`~relay.node.mirror.MirrorOffer` (trusted or not, its
certified name, its expiry on the monotonic clock), and :func:`run_mirror` sends what the mirror
releases through :meth:`relay.radio.link.RadioLink.send_text` while the link is up and the airtime
budget allows, counting every message in the transmit queue's budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from relay.lora import packet_airtime
from relay.mirror_text import MirrorSource
from relay.node.mirror import Mirror, MirrorOffer, MirrorPort, MirrorSend
from relay.radio.link import RadioLink
from relay.radio.linktypes import LinkState
from relay.schedule import TransmitQueue
from relay.store import Store
from relay.trust import Status
from relay.vocabulary import KIND_NAMES

log = logging.getLogger("jarshy.mirror")

TEXT_PORT = {MirrorPort.TEXT: 1, MirrorPort.ALERT: 11}  # portnums.proto
IDLE = 5.0  # seconds between looks when nothing waits


def mirror_offer(mirror: Mirror, store: Store, ident: bytes, mono: float, wall: float) -> None:
    """Offer the stored bulletin ``ident`` to the mirror, or withdraw it if no longer trusted."""
    if not mirror.enabled:
        return
    row = store.get(ident)
    if row is None:
        return
    if row.status is not Status.TRUSTED:
        mirror.withdraw(ident)
        return
    kind = KIND_NAMES[int(row.kind)]
    source = MirrorSource(row.id, kind, row.signer_name or "", row.text, row.lang, row.ref)
    expires = None if row.expires_at is None else row.expires_at - wall + mono
    mirror.offer(MirrorOffer(source, True, expires, row.severity), mono)


def mirror_status(mirror: Mirror) -> dict[str, Any]:
    """For the status API: on or off, waiting mirrors and what became of the others."""
    stats = mirror.stats
    return {
        "enabled": mirror.enabled, "waiting": mirror.waiting, "bulletins": stats.bulletins,
        "messages": stats.messages, "cancelled_heard": stats.cancelled_heard,
        "cancelled_verdict": stats.cancelled_verdict, "expired": stats.expired,
    }  # fmt: skip


def blocked_above(queue: TransmitQueue[Any]) -> int | None:
    """The highest priority of the Jarshy packets waiting to go (None: none wait)."""
    depths = queue.depth_by_priority()
    return max(depths) if depths else None


async def run_mirror(
    mirror: Mirror,
    link: RadioLink,
    queue: TransmitQueue[Any],
    clock: Callable[[], float],
    preset: Callable[[], str],
    wake: asyncio.Event,
) -> None:
    """Send what the mirror releases; never raises but on cancel."""
    while True:
        now = clock()
        sends: list[MirrorSend] = []
        if link.state is LinkState.UP and queue.budget_left(now) > _airtime(231, preset()):
            sends = mirror.tick(now, blocked_above(queue))
        for send in sends:
            await _send(link, queue, clock, preset, send)
        deadline = mirror.next_deadline()
        wait = IDLE if deadline is None else min(IDLE, max(0.05, deadline - clock()))
        if sends:
            continue
        wake.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):  # not wait_for: it may swallow cancellation
                await wake.wait()


async def _send(
    link: RadioLink,
    queue: TransmitQueue[Any],
    clock: Callable[[], float],
    preset: Callable[[], str],
    send: MirrorSend,
) -> None:
    try:
        result = await link.send_text(send.text, alert=send.port is MirrorPort.ALERT)
    except (ConnectionError, ValueError) as exc:  # a lost part is not retried: the next goes on
        log.warning("mirror #%s part %d/%d not sent: %s", send.code, send.part, send.parts, exc)
        return
    if result.ok:
        size = len(send.text.encode())
        queue.record_sent(_airtime(size, preset(), TEXT_PORT[send.port]), clock())
        log.info("mirrored #%s part %d/%d as %s", send.code, send.part, send.parts,
                 send.port.value)  # fmt: skip
    else:
        log.warning("mirror #%s part %d/%d refused: %s", send.code, send.part, send.parts,
                    result.error or result.status.value)  # fmt: skip


def _airtime(size: int, preset: str, port: int = 1) -> float:
    with contextlib.suppress(ValueError, KeyError):
        return packet_airtime(size, preset, port)
    return 2.5  # an unknown preset: about one full LongFast frame
