"""RadioLink's transmit side: broadcasts and their confirmation, queue room, admin messages,
and the watchdog's probe.

Every frame goes out as ``MAGIC + frame`` on Jarshy's port and channel index
(:mod:`relay.radio.framing`). A broadcast the firmware floods (hop limit 1 or more) is sent with
``want_ack`` by default: the firmware then reports hearing a neighbour relay it (its implicit ACK,
ReliableRouter::shouldFilterReceived) or giving up after its retransmissions (MAX_RETRANSMIT,
NextHopRouter::doRetransmissions), which the link reports as :class:`PacketAcked`.

A mixin of :class:`relay.radio.link.RadioLink` (which owns the connection and the threads); every
blocking library call goes through the link's executor via ``_run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import admin_pb2, mesh_pb2, portnums_pb2

from relay.radio.framing import wrap
from relay.radio.linktypes import (
    MAX_HOP_LIMIT,
    LinkDown,
    LinkState,
    RadioAddress,
    SendResult,
    SendStatus,
)

TEXT_MAX = 233  # bytes of a text the library sends (DATA_PAYLOAD_LEN)
SEND_STUCK = 30  # seconds a send may wait inside the library for room before the link rebuilds
Outcome = tuple[str, Any]  # ("queue", (res, free, maxlen)) or ("nak", error name)


class LinkSending:
    """Sending through the connected interface; state lives on the RadioLink."""

    address: RadioAddress
    port_num: int
    channel_index: int
    ack_relayed: bool
    state: LinkState
    last_error: BaseException | None
    confirm_timeout: float
    _iface: Any
    _loop: asyncio.AbstractEventLoop | None
    _lost: asyncio.Event
    _send_lock: asyncio.Lock
    _outcomes: OrderedDict[int, Outcome]
    _waiting: dict[int, asyncio.Future[Outcome]]
    _queue: tuple[int, int] | None
    _last_probe: float
    _queue_room: asyncio.Event
    _info: dict[str, Any]

    async def _run(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError  # RadioLink runs it in its executor

    def _on_response(self, packet: Any) -> None:
        raise NotImplementedError  # RadioLink hands library callbacks to the loop

    def _expect_ack(self, packet_id: int, frame: bytes) -> None:
        raise NotImplementedError  # LinkReceiving matches the radio's later report

    async def send(
        self, payload: bytes, hop_limit: int | None = None, want_ack: bool | None = None
    ) -> SendResult:
        """Broadcast the Jarshy frame ``payload``; report what the radio said about it.

        ``want_ack`` None: the link's default (``ack_relayed``); never with hop limit 0. Raises
        ValueError for an empty frame, one over 229 bytes or a bad hop limit, LinkDown when no
        radio is connected. A full TX queue returns ``QUEUE_FULL`` without sending (retry later).
        """
        frame = bytes(payload)
        data = wrap(frame)
        if hop_limit is not None and not 0 <= hop_limit <= MAX_HOP_LIMIT:
            raise ValueError(f"hop_limit must be 0..{MAX_HOP_LIMIT}, not {hop_limit}")
        # Never with hop limit 0: the firmware would raise it to its default so that someone can
        # relay it (Router::sendLocal), flooding a frame meant for one hop.
        want_ack = (self.ack_relayed if want_ack is None else want_ack) and hop_limit != 0
        async with self._send_lock:
            iface = self._iface
            if iface is None or self.state is not LinkState.UP:
                raise LinkDown(f"radio {self.address} is {self.state.value}")
            library_full = (
                getattr(iface, "queueStatus", None) is not None
                and not getattr(iface, "_queueHasFreeSpace", lambda: True)()
            )
            if library_full or (self._queue is not None and self._queue[0] == 0):
                # The library would block its thread until the radio reports room: never let it.
                await self._probe_queue(iface)
                maxlen = self._queue[1] if self._queue else None
                return SendResult(SendStatus.QUEUE_FULL, queue_free=0, queue_max=maxlen)
            try:
                pending = asyncio.ensure_future(
                    self._run(
                        iface.sendData,
                        data,
                        destinationId="^all",
                        portNum=self.port_num,
                        wantAck=want_ack,
                        onResponse=self._on_response,
                        channelIndex=self.channel_index,
                        hopLimit=hop_limit,
                    )
                )
                for _ in range(SEND_STUCK):
                    if (await asyncio.wait({pending}, timeout=1.0))[0]:
                        break
                    # Still inside the library: it waits for a queue status with room (it saw the
                    # queue full in the meantime). Ask for one, so it resumes once there is room.
                    self._last_probe = 0.0
                    await self._probe_queue(iface)
                else:  # the radio never reported room: rebuilding the link frees that thread
                    raise TimeoutError(f"the radio reported no room for {SEND_STUCK} s")
                sent = pending.result()
            except Exception as exc:
                self.last_error = exc
                if iface is self._iface:
                    self._lost.set()
                raise LinkDown(f"radio {self.address}: send failed: {exc}") from exc
            result = await self._confirm(iface, int(sent.id))
            if want_ack and result.ok:
                self._expect_ack(result.packet_id, frame)
            return result

    async def send_text(self, text: str, alert: bool = False) -> SendResult:
        """Broadcast ``text`` on the primary channel (index 0) as the phone apps read it:
        TEXT_MESSAGE_APP, or ALERT_APP with ``alert``. Raises ValueError over
        :data:`TEXT_MAX` bytes of UTF-8, LinkDown without a radio. The firmware refuses a
        client's second text within 2 s and second alert within 10 s (PhoneAPI.cpp): the
        caller spaces them (relay.node.mirror)."""
        data = text.encode("utf-8")
        if not data or len(data) > TEXT_MAX:
            raise ValueError(f"a text must be 1..{TEXT_MAX} bytes of UTF-8, not {len(data)}")
        port = portnums_pb2.PortNum.ALERT_APP if alert else portnums_pb2.PortNum.TEXT_MESSAGE_APP
        async with self._send_lock:
            iface = self._iface
            if iface is None or self.state is not LinkState.UP:
                raise LinkDown(f"radio {self.address} is {self.state.value}")
            if self._queue is not None and self._queue[0] == 0:
                await self._probe_queue(iface)
                return SendResult(SendStatus.QUEUE_FULL, queue_free=0, queue_max=self._queue[1])
            try:
                sent = await asyncio.wait_for(
                    self._run(
                        iface.sendData, data, destinationId="^all", portNum=int(port),
                        wantAck=False, onResponse=self._on_response, channelIndex=0,
                    ),
                    SEND_STUCK,
                )  # fmt: skip
            except Exception as exc:
                self.last_error = exc
                if iface is self._iface:
                    self._lost.set()
                raise LinkDown(f"radio {self.address}: send failed: {exc}") from exc
            return await self._confirm(iface, int(sent.id))

    async def _confirm(self, iface: Any, packet_id: int) -> SendResult:
        assert self._loop is not None
        outcome = self._outcomes.pop(packet_id, None)
        fut: asyncio.Future[Outcome] = self._loop.create_future()
        self._waiting[packet_id] = fut
        try:
            if outcome is None:
                try:
                    outcome = await asyncio.wait_for(fut, self.confirm_timeout)
                except TimeoutError:
                    return SendResult(SendStatus.UNCONFIRMED, packet_id)
            if outcome[0] == "queue" and outcome[1][0] != 0:  # refused: wait briefly for the NAK
                res, free, maxlen = outcome[1]
                fut = self._loop.create_future()
                self._waiting[packet_id] = fut
                early = self._outcomes.pop(packet_id, None)  # the NAK may already be here
                if early is not None:
                    outcome = early
                else:
                    with contextlib.suppress(TimeoutError):
                        outcome = await asyncio.wait_for(fut, min(self.confirm_timeout, 0.5))
                if outcome[0] == "queue":
                    status = SendStatus.QUEUE_FULL if free == 0 else SendStatus.REJECTED
                    return SendResult(status, packet_id, _errno_name(res), free, maxlen)
            if outcome[0] == "nak":
                free, maxlen = self._queue if self._queue else (None, None)
                return SendResult(SendStatus.REJECTED, packet_id, str(outcome[1]), free, maxlen)
            _, free, maxlen = outcome[1]
            return SendResult(SendStatus.QUEUED, packet_id, None, free, maxlen)
        finally:
            self._waiting.pop(packet_id, None)
            handlers = getattr(iface, "responseHandlers", None)
            if handlers is not None:  # broadcasts get no ACK: drop the handler the library keeps
                handlers.pop(packet_id, None)

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

    async def set_ignored(self, node_num: int, ignored: bool = True) -> None:
        """Tell the radio to drop (or again accept) everything from ``node_num``: the firmware's
        ``set_ignored_node`` / ``remove_ignored_node``. Raises LinkDown without a radio."""
        iface = self._iface
        own = self._info.get("node_num")
        if iface is None or own is None or self.state is not LinkState.UP:
            raise LinkDown(f"radio {self.address} is {self.state.value}")
        admin = admin_pb2.AdminMessage()
        if ignored:
            admin.set_ignored_node = node_num
        else:
            admin.remove_ignored_node = node_num
        to_radio = mesh_pb2.ToRadio()
        packet = to_radio.packet
        packet.to = int(own)
        packet.id = int(iface._generatePacketId())
        packet.decoded.portnum = portnums_pb2.PortNum.ADMIN_APP
        packet.decoded.payload = admin.SerializeToString()
        try:
            # Straight to the wire: the firmware handles admin for itself at once, and the
            # library's own send path would wait (forever) for room in a full transmit queue.
            await asyncio.wait_for(self._run(iface._sendToRadioImpl, to_radio), 10.0)
        except Exception as exc:
            raise LinkDown(f"radio {self.address}: admin message failed: {exc}") from exc

    async def _probe_alive(self, iface: Any) -> None:
        """The watchdog's question with an expected answer: an admin request for the radio's
        metadata, which a configured firmware answers with a packet (AdminModule)."""
        own = self._info.get("node_num")
        if own is None:
            return
        admin = admin_pb2.AdminMessage(get_device_metadata_request=True)
        to_radio = mesh_pb2.ToRadio()
        packet = to_radio.packet
        packet.to = int(own)
        packet.decoded.portnum = portnums_pb2.PortNum.ADMIN_APP
        packet.decoded.payload = admin.SerializeToString()
        packet.decoded.want_response = True
        with contextlib.suppress(Exception):  # no answer is what the watchdog looks for
            packet.id = int(iface._generatePacketId())
            await asyncio.wait_for(self._run(iface._sendToRadioImpl, to_radio), 5.0)

    async def wait_queue_free(self, timeout: float) -> None:
        """After ``QUEUE_FULL``: wait until the radio reports room, asking it twice a second.

        Raises TimeoutError after ``timeout`` seconds, LinkDown if the radio goes away.
        """
        if self._queue is None or self._queue[0] > 0:
            return

        async def poll() -> None:
            while not self._queue_room.is_set():
                iface = self._iface
                if iface is None:
                    raise LinkDown(f"radio {self.address} is {self.state.value}")
                self._last_probe = 0.0
                await self._probe_queue(iface)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):  # not wait_for: it may swallow cancellation
                        await self._queue_room.wait()

        await asyncio.wait_for(poll(), timeout)

    async def _probe_queue(self, iface: Any) -> None:
        """Ask for a fresh queue status (a heartbeat), at most twice a second."""
        now = time.monotonic()
        if now - self._last_probe < 0.5:
            return
        self._last_probe = now
        heartbeat = mesh_pb2.ToRadio()
        heartbeat.heartbeat.SetInParent()
        with contextlib.suppress(Exception):
            # Straight to the wire: sendHeartbeat() would wait for queue space we know is absent.
            await self._run(iface._sendToRadioImpl, heartbeat)


def _errno_name(res: int) -> str:
    """Name a refusal code: the firmware reports routing errors (below 32) as the result."""
    if 0 < res < 32:
        with contextlib.suppress(ValueError):
            return str(mesh_pb2.Routing.Error.Name(res))
    return f"ERRNO_{res}"
