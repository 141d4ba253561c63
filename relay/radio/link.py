"""RadioLink: the one place where meshtastic's threads meet asyncio.

Shaped after aiomqtt: ``async with RadioLink(address) as link`` connects, ``await link.send(...)``
broadcasts a Jarshy frame on Jarshy's port and channel, received Jarshy frames arrive through
``on_packet`` as :class:`relay.sync.events.PacketReceived`, ``on_state`` reports
:class:`LinkState` changes and ``on_acked`` what the radio later said about a ``want_ack``
broadcast (:class:`PacketAcked`: a neighbour was heard relaying it, or not). For the phone-app
mirror, ``await link.send_text(...)`` broadcasts a plain text or alert on the primary channel and
``on_text`` reports the texts other radios send there (:class:`TextHeard`).

Rules that keep the threads apart:
- the library's blocking calls (constructor, sendData, close) run in the link's own executor;
- callbacks coming from library threads (pubsub listeners, ``onResponse``, interface hooks) only
  call ``loop.call_soon_threadsafe``; everything else happens on the event loop;
- pubsub listeners are bound methods of the link, which holds itself alive while open (pypubsub
  keeps weak references and silently drops lambdas).

Failures handled: serial unplug (the library never reconnects: the link rebuilds the interface
with a back-off capped at a few seconds), a TCP connection the radio closes (the firmware serves
one TCP client: the link says it was displaced and waits longer before taking the radio back),
a radio that goes silent (half-open TCP, a reboot that never re-handshakes: a watchdog probes it
and rebuilds the link), radio reboots (the library's leaked heartbeat timer is stopped), failing
I/O during send, and clean close.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pubsub import pub

from relay.radio._iface import (
    CLOSED_BY_RADIO,
    HookedSerial,
    HookedTCP,
    RadioClosed,
    close_interface,
)
from relay.radio.framing import JARSHY_PORT
from relay.radio.link_receive import LinkReceiving, OnAcked, OnPacket, OnText
from relay.radio.link_send import LinkSending, Outcome
from relay.radio.linktypes import (
    JARSHY_CHANNEL,
    PRIVATE_PORTS,
    LinkDown,
    LinkHealth,
    LinkState,
    NodeHeard,
    RadioAddress,
    parse_address,
)

log = logging.getLogger(__name__)

OnState = Callable[[LinkState], None]
DISPLACED = "displaced by another TCP client (or the radio restarted)"
STABLE_AFTER = 60.0  # seconds up after which a displacement no longer counts as the same fight


class RadioLink(LinkReceiving, LinkSending):
    """An asyncio connection to one Meshtastic radio (serial or TCP)."""

    def __init__(
        self,
        address: str,
        *,
        port_num: int = JARSHY_PORT,
        channel_name: str = JARSHY_CHANNEL,
        on_packet: OnPacket | None = None,
        on_state: OnState | None = None,
        on_acked: OnAcked | None = None,
        on_text: OnText | None = None,
        require_up: bool = True,
        handshake_timeout: int = 30,
        confirm_timeout: float = 2.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 5.0,
        displaced_backoff: float = 5.0,
        displaced_max: float = 300.0,
        watchdog_interval: float = 15.0,
        silence_limit: float = 60.0,
        ack_relayed: bool | None = None,
    ) -> None:
        self.address: RadioAddress = parse_address(address)
        if port_num not in PRIVATE_PORTS:
            raise ValueError(f"port_num must be a private port 256..511, not {port_num}")
        self.port_num = port_num
        self.channel_name = channel_name
        self.on_packet = on_packet
        self.on_state = on_state
        self.on_acked = on_acked
        self.on_text = on_text  # texts and alerts heard on the primary channel (the mirror's)
        self.require_up = require_up
        self.handshake_timeout = handshake_timeout
        self.confirm_timeout = confirm_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max  # a radio that returns is used within this many seconds
        self.displaced_backoff = displaced_backoff
        self.displaced_max = displaced_max
        self._displaced_wait = displaced_backoff
        self.watchdog_interval = watchdog_interval  # probe a radio silent this long
        self.silence_limit = silence_limit  # rebuild the link after this long without a packet
        # want_ack on broadcasts the firmware floods (hop >= 1); by default when someone listens
        self.ack_relayed = on_acked is not None if ack_relayed is None else ack_relayed
        self.state = LinkState.DOWN
        self.last_error: BaseException | None = None
        self.connects = 0  # successful interface constructions (1 + reconnects)
        self.channel_index = 0
        self.stats: dict[str, int] = dict.fromkeys(
            ("displaced", "silent", "probes", "connect_failures", "not_jarshy", "other_channel"), 0
        )
        self._iface: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._lost_reason: str | None = None
        self._retry_now = asyncio.Event()
        self._closing = False
        self._state_since: float | None = None
        self._reason: str | None = None
        self._retry_at: float | None = None
        self._state_waiters: list[tuple[LinkState, asyncio.Future[None]]] = []
        self._send_lock = asyncio.Lock()
        self._outcomes: OrderedDict[int, Outcome] = OrderedDict()
        self._waiting: dict[int, asyncio.Future[Outcome]] = {}
        self._acks: OrderedDict[int, bytes] = OrderedDict()  # want_ack packet id -> frame
        self._early_acks: OrderedDict[int, tuple[bool, str | None]] = OrderedDict()
        self._queue: tuple[int, int] | None = None  # (free, maxlen) from the last queue status
        self._last_probe = 0.0
        self._queue_room = asyncio.Event()
        self._status_event = asyncio.Event()
        self._info: dict[str, Any] = {}
        self._nodes: dict[int, NodeHeard] = {}
        self._metrics: dict[str, float] = {}

    # Lifecycle.
    async def __aenter__(self) -> RadioLink:
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="radiolink")
        pub.subscribe(self._on_receive, "meshtastic.receive")
        first: asyncio.Future[BaseException | None] = self._loop.create_future()
        self._supervisor = asyncio.create_task(
            self._supervise(first), name=f"radiolink {self.address}"
        )
        if self.require_up:
            error = await first
            if error is not None:
                await self.aclose()
                raise error
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the radio connection and stop reconnecting (idempotent)."""
        if self._closing:
            return
        self._closing = True
        with contextlib.suppress(Exception):
            pub.unsubscribe(self._on_receive, "meshtastic.receive")
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        iface, self._iface = self._iface, None
        if iface is not None:
            await self._dispose(iface)
        for fut in self._waiting.values():
            if not fut.done():
                fut.cancel()
        self._set_state(LinkState.DOWN, "closed")
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def reconnect_now(self) -> None:
        """Cut a back-off short (an operator knows the radio is back, or free again)."""
        self._retry_now.set()

    async def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, lambda: func(*args, **kwargs))

    async def _dispose(self, iface: Any) -> None:
        with contextlib.suppress(Exception):  # a stuck close must not stop reconnecting
            await asyncio.wait_for(self._run(close_interface, iface), 10.0)

    async def _wait_retry(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less if :meth:`reconnect_now` is called."""
        self._retry_at = time.monotonic() + delay
        self._retry_now.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._retry_now.wait()
        self._retry_at = None

    async def _supervise(self, first: asyncio.Future[BaseException | None]) -> None:
        delay = self.backoff_initial
        down_since: float | None = None
        up_at = 0.0
        while not self._closing:
            self._set_state(LinkState.CONNECTING, self._reason)
            try:
                iface = await self._run(self._open)
            except Exception as exc:  # port missing, refused, handshake timeout, ...
                self.last_error = exc
                self.stats["connect_failures"] += 1
                down_since = down_since or time.monotonic()
                if not first.done():
                    first.set_result(exc)
                    if self.require_up:
                        self._set_state(LinkState.DOWN, f"connect failed: {_inert(exc)}")
                        return
                if isinstance(exc, RadioClosed):  # another client came in during our handshake
                    await self._displaced(up_at)
                    continue
                log.info("radio %s: connect failed: %s (next try in %.1f s)", self.address, exc,
                         delay)  # fmt: skip
                self._set_state(LinkState.DOWN, f"connect failed: {_inert(exc)}")
                await self._wait_retry(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            self.connects += 1
            self._lost.clear()
            self._lost_reason = None
            self._iface = iface
            self._absorb_snapshot(iface._jarshy_snapshot or {})
            up_at = time.monotonic()
            if down_since is not None and self.connects > 1:  # back, not a first connection
                log.warning("radio %s: link is back after %.1f s (%s)", self.address,
                            up_at - down_since, self._reason or "down")  # fmt: skip
            down_since = None
            self._set_state(LinkState.UP)
            if not first.done():
                first.set_result(None)
            reason = await self._watch(iface)
            self._iface = None
            down_since = time.monotonic()
            await self._dispose(iface)
            if self._closing:
                return
            if reason == CLOSED_BY_RADIO and self.address.kind == "tcp":
                await self._displaced(up_at)
            else:
                log.warning("radio %s: link lost (%s); reconnecting", self.address, reason)
                self._set_state(LinkState.DOWN, reason)

    async def _displaced(self, up_at: float) -> None:
        """The radio closed our TCP connection for another client: say so, then yield to it,
        longer each time while the fight goes on (reset once we stayed up STABLE_AFTER)."""
        if time.monotonic() - up_at > STABLE_AFTER + self._displaced_wait:
            self._displaced_wait = self.displaced_backoff
        wait = self._displaced_wait
        self.stats["displaced"] += 1
        log.warning(
            "radio %s: the radio closed our connection: another client (a phone app, the "
            "meshtastic CLI) took its one TCP connection, or the radio restarted. Retrying in "
            "%.1f s; run the daemon on USB serial to avoid this", self.address, wait
        )  # fmt: skip
        self._set_state(LinkState.DISPLACED, DISPLACED)
        self._displaced_wait = min(wait * 2, self.displaced_max)
        await self._wait_retry(wait)

    async def _watch(self, iface: Any) -> str:
        """Wait until the interface is lost or silent past the bound; return why."""
        bounds = (self.watchdog_interval, self.silence_limit / 2, self.handshake_timeout / 2)
        interval = max(0.05, min(bounds))
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._lost.wait()
            if self._lost.is_set():
                return self._lost_reason or "lost"
            now = time.monotonic()
            since = self._state_since or now
            if self.state is LinkState.CONNECTING and now - since > self.handshake_timeout:
                log.warning("radio %s: handshake not completed in %d s: rebuilding the link",
                            self.address, self.handshake_timeout)  # fmt: skip
                return "handshake timed out"
            silent = now - max(iface._jarshy_last_packet, since)
            if silent >= self.silence_limit:
                self.stats["silent"] += 1
                log.warning("radio %s: silent for %.0f s (probes unanswered): rebuilding the "
                            "link", self.address, silent)  # fmt: skip
                return "silent"
            if silent >= self.watchdog_interval:
                self.stats["probes"] += 1
                await self._probe_alive(iface)

    def _open(self) -> Any:
        """Build a connected interface (executor thread)."""
        if self.address.kind == "tcp":
            assert self.address.host is not None
            return HookedTCP(
                self._notify, self.address.host, self.address.port, self.handshake_timeout
            )
        path = self.address.path
        if path is None:
            from meshtastic.util import findPorts

            ports = findPorts(True)
            if len(ports) != 1:
                found = ", ".join(ports) if ports else "none"
                raise LinkDown(
                    f"serial:auto needs exactly one Meshtastic serial port (found: {found})"
                )
            path = ports[0]
        return HookedSerial(self._notify, path, self.handshake_timeout)

    # State.
    def _set_state(self, state: LinkState, reason: str | None = None) -> None:
        self._reason = None if state is LinkState.UP else reason
        if state is self.state:
            return
        self.state = state
        self._state_since = time.monotonic()
        for want, fut in list(self._state_waiters):
            if want is state and not fut.done():
                fut.set_result(None)
        self._state_waiters = [(w, f) for w, f in self._state_waiters if not f.done()]
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:
                log.exception("on_state callback failed")

    async def wait_state(self, state: LinkState, timeout: float) -> None:
        """Wait until the link is in ``state``; raises TimeoutError after ``timeout`` seconds."""
        if self.state is state:
            return
        assert self._loop is not None
        fut: asyncio.Future[None] = self._loop.create_future()
        self._state_waiters.append((state, fut))
        await asyncio.wait_for(fut, timeout)

    @property
    def health(self) -> LinkHealth:
        """How the link fares: state, why it is not up, when it retries, and its counters."""
        retry = None if self._retry_at is None else max(0.0, self._retry_at - time.monotonic())
        return LinkHealth(
            self.state, self._state_since, self._reason, retry, self.connects,
            self.stats["displaced"], self.stats["silent"], self.stats["not_jarshy"],
            self.stats["other_channel"],
        )  # fmt: skip

    # Callbacks from library threads: hand over to the loop, nothing else.
    def _notify(self, iface: Any, event: str, value: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_iface_event, iface, event, value)

    def _on_receive(self, packet: Any, interface: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._handle_packet, interface, packet)

    def _on_response(self, packet: Any) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._handle_response, packet)

    # Event handling on the loop.
    def _on_iface_event(self, iface: Any, event: str, value: Any) -> None:
        if iface is not self._iface:
            return  # an interface being built or already replaced
        if event == "lost":
            self._lost_reason = str(value)
            self._lost.set()
        elif event == "handshake":  # radio reboot
            self._set_state(LinkState.CONNECTING, "radio rebooted")
        elif event == "config_complete":
            self._absorb_snapshot(value)
            self._set_state(LinkState.UP)
            self._status_changed()
        elif event == "queue_status":
            res, free, maxlen, packet_id = value
            self._queue = (free, maxlen)
            if free > 0:
                self._queue_room.set()
            else:
                self._queue_room.clear()
            self._status_changed()
            if packet_id:
                self._outcome(packet_id, ("queue", (res, free, maxlen)))


def _inert(exc: BaseException) -> str:
    """An exception's text for status and logs: one line, printable, bounded."""
    text = "".join(c if c.isprintable() else "?" for c in str(exc))
    return text[:160]
