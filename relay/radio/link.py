"""RadioLink: the one place where meshtastic's threads meet asyncio.

Shaped after aiomqtt: ``async with RadioLink(address) as link`` connects, ``await link.send(...)``
broadcasts, received packets on our port arrive through ``on_packet`` as
:class:`relay.sync.events.PacketReceived`, and ``on_state`` reports :class:`LinkState` changes.

Rules that keep the threads apart:
- the library's blocking calls (constructor, sendData, close) run in the link's own executor;
- callbacks coming from library threads (pubsub listeners, ``onResponse``, interface hooks) only
  call ``loop.call_soon_threadsafe``; everything else happens on the event loop;
- pubsub listeners are bound methods of the link, which holds itself alive while open (pypubsub
  keeps weak references and silently drops lambdas).

Failures handled: serial unplug (the library never reconnects: the link rebuilds the interface
with exponential back-off), TCP's silent reconnects (seen as a new handshake), radio reboots (the
library's leaked heartbeat timer is stopped), failing I/O during send, and clean close.
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

from meshtastic.protobuf import portnums_pb2
from pubsub import pub

from relay.radio._iface import HookedSerial, HookedTCP
from relay.radio.link_send import LinkSending, Outcome
from relay.radio.linktypes import (
    PRIVATE_PORTS,
    LinkDown,
    LinkState,
    NodeHeard,
    RadioAddress,
    RadioInfo,
    parse_address,
)
from relay.sync.events import PacketReceived

log = logging.getLogger(__name__)

OnPacket = Callable[[PacketReceived], None]
OnState = Callable[[LinkState], None]


class RadioLink(LinkSending):
    """An asyncio connection to one Meshtastic radio (serial or TCP)."""

    def __init__(
        self,
        address: str,
        *,
        port_num: int = 256,
        on_packet: OnPacket | None = None,
        on_state: OnState | None = None,
        require_up: bool = True,
        handshake_timeout: int = 30,
        confirm_timeout: float = 2.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
    ) -> None:
        self.address: RadioAddress = parse_address(address)
        if port_num not in PRIVATE_PORTS:
            raise ValueError(f"port_num must be a private port 256..511, not {port_num}")
        self.port_num = port_num
        self.on_packet = on_packet
        self.on_state = on_state
        self.require_up = require_up
        self.handshake_timeout = handshake_timeout
        self.confirm_timeout = confirm_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.state = LinkState.DOWN
        self.last_error: BaseException | None = None
        self.connects = 0  # successful interface constructions (1 + reconnects)
        self._iface: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._closing = False
        self._state_waiters: list[tuple[LinkState, asyncio.Future[None]]] = []
        self._send_lock = asyncio.Lock()
        self._outcomes: OrderedDict[int, Outcome] = OrderedDict()
        self._waiting: dict[int, asyncio.Future[Outcome]] = {}
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
            await self._run(_dispose, iface)
        for fut in self._waiting.values():
            if not fut.done():
                fut.cancel()
        self._set_state(LinkState.DOWN)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, lambda: func(*args, **kwargs))

    async def _supervise(self, first: asyncio.Future[BaseException | None]) -> None:
        delay = self.backoff_initial
        while not self._closing:
            self._set_state(LinkState.CONNECTING)
            try:
                iface = await self._run(self._open)
            except Exception as exc:  # port missing, refused, handshake timeout, ...
                self.last_error = exc
                log.info("radio %s: connect failed: %s", self.address, exc)
                self._set_state(LinkState.DOWN)
                if not first.done():
                    first.set_result(exc)
                    if self.require_up:
                        return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            self.connects += 1
            self._lost.clear()
            self._iface = iface
            self._absorb_snapshot(iface._jarshy_snapshot or {})
            self._set_state(LinkState.UP)
            if not first.done():
                first.set_result(None)
            await self._lost.wait()
            self._iface = None
            self._set_state(LinkState.DOWN)
            await self._run(_dispose, iface)

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
    def _set_state(self, state: LinkState) -> None:
        if state is self.state:
            return
        self.state = state
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
            self._lost.set()
        elif event == "handshake":  # TCP silent reconnect or radio reboot
            self._set_state(LinkState.CONNECTING)
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

    def _handle_response(self, packet: dict[str, Any]) -> None:
        decoded = packet.get("decoded") or {}
        request_id = decoded.get("requestId")
        reason = (decoded.get("routing") or {}).get("errorReason", "NONE")
        if request_id is not None and reason != "NONE":
            self._outcome(int(request_id), ("nak", reason))

    def _outcome(self, packet_id: int, outcome: Outcome) -> None:
        fut = self._waiting.get(packet_id)
        if fut is not None and not fut.done():
            fut.set_result(outcome)
            return
        self._outcomes[packet_id] = outcome  # arrived before sendData returned
        while len(self._outcomes) > 64:
            self._outcomes.popitem(last=False)

    def _handle_packet(self, interface: Any, packet: dict[str, Any]) -> None:
        if interface is not self._iface or self._iface is None:
            return
        raw = packet.get("raw")
        if raw is None or not raw.HasField("decoded"):
            return
        sender = int(packet.get("from", 0))
        port = int(raw.decoded.portnum)
        hops = raw.hop_start - raw.hop_limit if raw.hop_start else None
        snr = packet.get("rxSnr")
        rssi = packet.get("rxRssi")
        if sender == self._info.get("node_num"):
            if port == portnums_pb2.PortNum.TELEMETRY_APP:
                metrics = (packet["decoded"].get("telemetry") or {}).get("deviceMetrics") or {}
                for key, name in (
                    ("channelUtilization", "channel_utilization"),
                    ("airUtilTx", "air_util_tx"),
                ):
                    if key in metrics:
                        self._metrics[name] = float(metrics[key])
                self._status_changed()
            return
        old = self._nodes.get(sender)
        self._nodes[sender] = NodeHeard(
            sender, snr, hops, time.time(), old.long_name if old else None
        )
        self._status_changed()
        if port != self.port_num or self.on_packet is None:
            return
        event = PacketReceived(
            payload=bytes(raw.decoded.payload),
            sender=sender,
            hops=hops,
            snr=float(snr) if snr is not None else None,
            rssi=int(rssi) if rssi is not None else None,
            hop_limit=int(raw.hop_limit) if raw.hop_start else None,
        )
        try:
            self.on_packet(event)
        except Exception:
            log.exception("on_packet callback failed")

    def _absorb_snapshot(self, snapshot: dict[str, Any]) -> None:
        self._info = {k: v for k, v in snapshot.items() if k != "nodes"}
        for node in snapshot.get("nodes", []):
            num = node["num"]
            if num not in self._nodes:
                self._nodes[num] = NodeHeard(
                    num,
                    node.get("snr"),
                    node.get("hops"),
                    node.get("last_heard"),
                    node.get("long_name"),
                )

    def _status_changed(self) -> None:
        self._status_event.set()
        self._status_event = asyncio.Event()

    async def wait_info(self, predicate: Callable[[RadioInfo], bool], timeout: float) -> RadioInfo:
        """Wait until :attr:`info` satisfies ``predicate``; TimeoutError after ``timeout`` s."""

        async def watch() -> RadioInfo:
            while True:
                info = self.info
                if info is not None and predicate(info):
                    return info
                await self._status_event.wait()

        return await asyncio.wait_for(watch(), timeout)

    @property
    def info(self) -> RadioInfo | None:
        """What the radio told us at the last handshake plus what we heard since."""
        if "node_num" not in self._info:
            return None
        free, maxlen = self._queue if self._queue else (None, None)
        fields = {k: v for k, v in self._info.items() if k in RadioInfo.__dataclass_fields__}
        return RadioInfo(
            **fields,
            channel_utilization=self._metrics.get("channel_utilization"),
            air_util_tx=self._metrics.get("air_util_tx"),
            queue_free=free,
            queue_max=maxlen,
            nodes=tuple(sorted(self._nodes.values(), key=lambda n: n.num)),
        )


def _dispose(iface: Any) -> None:
    """Close an interface whatever state its port is in (executor thread)."""
    iface._jarshy_notify = None
    iface._wantExit = True
    # close() sends a disconnect through the library's queue loop, which sleeps until the radio
    # reports room for the packets still queued: forget them, we are leaving anyway.
    with contextlib.suppress(Exception):
        iface.queue.clear()
        iface.queueStatus = None
    try:
        iface.close()
    except Exception as exc:  # writing the disconnect to a dead port fails; clean up by hand
        log.debug("close after failure: %s", exc)
        stream = getattr(iface, "stream", None)
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.close()
    timer = getattr(iface, "heartbeatTimer", None)
    if timer is not None:
        timer.cancel()
