"""RadioLink's receive side: what the radio reports, filtered down to Jarshy's frames.

A mixin of :class:`relay.radio.link.RadioLink`; everything here runs on the event loop (the link
hands library callbacks over with ``call_soon_threadsafe``). Every packet from the radio updates
the nodes heard; only packets on Jarshy's port, on Jarshy's channel index and carrying Jarshy's
magic reach ``on_packet``, with the magic stripped. Other applications' data on the same port is
counted (``not_jarshy``) and otherwise ignored: it never reaches the engine, so it is never judged
and never counted against its radio by the spam brake. The radio's own routing reports about a
``want_ack`` broadcast become :class:`PacketAcked` events. Broadcast texts and alerts on the
primary channel go to ``on_text`` (the phone-app mirror listens for its neighbours' copies) and
nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import portnums_pb2

from relay.radio.framing import unwrap
from relay.radio.linktypes import NodeHeard, PacketAcked, RadioAddress, RadioInfo, TextHeard
from relay.sync.events import PacketReceived

log = logging.getLogger("relay.radio.link")

OnPacket = Callable[[PacketReceived], None]
OnAcked = Callable[[PacketAcked], None]
OnText = Callable[[TextHeard], None]
PRIMARY = 0  # the public primary channel, where the phone apps read texts
TEXT_PORTS = {
    portnums_pb2.PortNum.TEXT_MESSAGE_APP: False,
    portnums_pb2.PortNum.ALERT_APP: True,
}  # port -> is an alert
BROADCAST = 0xFFFFFFFF
MAX_TEXT = 240  # bytes of a heard text looked at (a packet carries at most 233)
MAX_ACKS = 256  # want_ack broadcasts awaiting the radio's word (oldest forgotten first)


class LinkReceiving:
    """Receiving through the connected interface; state lives on the RadioLink."""

    address: RadioAddress
    port_num: int
    channel_name: str
    channel_index: int
    on_packet: OnPacket | None
    on_acked: OnAcked | None
    on_text: OnText | None
    stats: dict[str, int]
    _iface: Any
    _info: dict[str, Any]
    _nodes: dict[int, NodeHeard]
    _metrics: dict[str, float]
    _queue: tuple[int, int] | None
    _status_event: asyncio.Event
    _acks: OrderedDict[int, bytes]
    _early_acks: OrderedDict[int, tuple[bool, str | None]]
    _channel_warned = False

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
            self._own_report(port, raw, packet)
            return
        old = self._nodes.get(sender)
        self._nodes[sender] = NodeHeard(
            sender, snr, hops, time.time(), old.long_name if old else None
        )
        self._status_changed()
        if port in TEXT_PORTS:
            self._text_heard(raw, sender, hops, TEXT_PORTS[port])
            return
        if port != self.port_num:
            return
        if int(raw.channel) != self.channel_index:
            self.stats["other_channel"] += 1
            return
        frame = unwrap(bytes(raw.decoded.payload))
        if frame is None:  # another application's data on our port: not ours to judge
            self.stats["not_jarshy"] += 1
            return
        if self.on_packet is None:
            return
        event = PacketReceived(
            payload=frame,
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

    def _text_heard(self, raw: Any, sender: int, hops: int | None, alert: bool) -> None:
        """A broadcast text or alert on the primary channel: for the mirror only (never judged,
        never stored); its bytes decoded leniently and bounded."""
        if self.on_text is None or int(raw.channel) != PRIMARY or raw.to != BROADCAST:
            return
        text = bytes(raw.decoded.payload)[:MAX_TEXT].decode("utf-8", errors="replace")
        try:
            self.on_text(TextHeard(sender, text, alert, hops))
        except Exception:
            log.exception("on_text callback failed")

    def _own_report(self, port: int, raw: Any, packet: dict[str, Any]) -> None:
        """A packet from our own radio to us: telemetry, or a routing report on a broadcast."""
        decoded = packet.get("decoded") or {}
        if port == portnums_pb2.PortNum.TELEMETRY_APP:
            metrics = (decoded.get("telemetry") or {}).get("deviceMetrics") or {}
            for key, name in (
                ("channelUtilization", "channel_utilization"),
                ("airUtilTx", "air_util_tx"),
            ):
                if key in metrics:
                    self._metrics[name] = float(metrics[key])
            self._status_changed()
        elif port == portnums_pb2.PortNum.ROUTING_APP and raw.decoded.request_id:
            reason = str((decoded.get("routing") or {}).get("errorReason", "NONE"))[:40]
            self._acked(int(raw.decoded.request_id), reason == "NONE", reason)

    def _acked(self, packet_id: int, heard: bool, reason: str) -> None:
        frame = self._acks.pop(packet_id, None)
        if frame is None:  # not (yet) known as a want_ack broadcast: keep it a moment
            self._early_acks[packet_id] = (heard, None if heard else reason)
            while len(self._early_acks) > 64:
                self._early_acks.popitem(last=False)
            return
        self._report_ack(PacketAcked(packet_id, frame, heard, None if heard else reason))

    def _expect_ack(self, packet_id: int, frame: bytes) -> None:
        """A want_ack broadcast the radio took: report what it says about it later."""
        early = self._early_acks.pop(packet_id, None)
        if early is not None:
            self._report_ack(PacketAcked(packet_id, frame, early[0], early[1]))
            return
        self._acks[packet_id] = frame
        while len(self._acks) > MAX_ACKS:
            self._acks.popitem(last=False)

    def _report_ack(self, event: PacketAcked) -> None:
        if self.on_acked is None:
            return
        try:
            self.on_acked(event)
        except Exception:
            log.exception("on_acked callback failed")

    def _absorb_snapshot(self, snapshot: dict[str, Any]) -> None:
        self._info = {k: v for k, v in snapshot.items() if k not in ("nodes", "channels")}
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
        self._choose_channel(snapshot.get("channels", []))

    def _choose_channel(self, channels: list[tuple[int, str, str]]) -> None:
        """Send on and listen to the channel named ``channel_name`` (lowest index if several);
        without one, the primary, with a warning (once, until a Jarshy channel is found)."""
        named = sorted(index for index, _, name in channels if name == self.channel_name)
        primary = next(((i, n) for i, role, n in channels if role == "PRIMARY"), (0, ""))
        if named:
            self.channel_index, name, found = named[0], self.channel_name, True
        else:
            (self.channel_index, name), found = primary, False
            if not self._channel_warned:
                log.warning(
                    "radio %s has no channel named %r: Jarshy uses its primary channel %d "
                    "(provision the radio: jarshy radio provision)",
                    self.address, self.channel_name, self.channel_index,
                )  # fmt: skip
        self._channel_warned = not found
        self._info.update(channel_index=self.channel_index, channel_name=name, channel_found=found)

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
