"""Stock Meshtastic radios on the bridge: their uplinks in, trusted bulletins down to other islands.

A radio with Wi-Fi and MQTT uplink on the Jarshy channel publishes every packet it hears as a
``ServiceEnvelope`` under its island's root (docs/meshtastic-mqtt.md). The gateway subscribes to
that root's uplink filter; relay.bridge.meshtastic_mqtt decodes and decrypts each envelope with the
channel key, and one copy per (sender, packet id) is handed to the node as a packet its own radio
heard: the same reassembly, spam brake, verification and trust as on air. With downlink roots set,
each trusted bulletin the gateway offers to the bridge is also published, fragment by fragment,
as envelopes under its own node id into those roots, for the stock radios there to put on air.
Pure state; the MQTT I/O is relay.bridge.link's.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from relay.bridge.channel_crypto import ChannelKey
from relay.bridge.meshtastic_mqtt import (
    DEFAULT_ROOT,
    Downlink,
    Refused,
    SeenPackets,
    decode_uplink,
    encode_downlink,
    uplink_filter,
)
from relay.sync.events import PacketReceived
from relay.wire.fragments import split

DOWNLINK_QUEUE = 256  # envelopes waiting for the broker; the oldest go first when full


@dataclass(frozen=True)
class MeshtasticSettings:
    channel: ChannelKey  # the Jarshy channel: name and key, as the radios hold it
    root: str = DEFAULT_ROOT  # this island's root: where its radios uplink
    downlink_roots: tuple[str, ...] = ()  # other islands' roots to downlink trusted bulletins to
    node: int = 0x4A0000FE  # the gateway's node number in downlinks (no radio's)
    seed: int | None = field(default=None, compare=False)


class MeshtasticBridge:
    """Uplinks to the node, downlinks from trusted bulletins (see the module docstring)."""

    def __init__(self, settings: MeshtasticSettings, deliver: Callable[[PacketReceived], None]):
        self.settings = settings
        self.deliver = deliver
        self.seen = SeenPackets()
        self.taken = 0
        self.copies = 0
        self.refused: Counter[str] = Counter()
        self.outgoing: deque[Downlink] = deque(maxlen=DOWNLINK_QUEUE)
        # Packet ids count up from a random start (as Router.cpp's generatePacketId rolls its
        # counter): with our node number they are the AES-CTR nonce, which must never repeat.
        self._next_id = random.Random(settings.seed).randint(1, 0xFFFFFFFF)

    @property
    def filter(self) -> str:
        return uplink_filter(self.settings.channel.name, self.settings.root)

    def uplinked(self, topic: str, payload: bytes) -> None:
        """One message under this island's root."""
        got = decode_uplink(topic, payload, self.settings.channel, root=self.settings.root)
        if isinstance(got, Refused):
            self.refused[str(got.reason)] += 1
            return
        if not self.seen.first(got):
            self.copies += 1
            return
        self.taken += 1
        self.deliver(got.as_packet())

    def downlink(self, raw: bytes) -> int:
        """Queue one trusted bulletin's fragments for every downlink root; how many envelopes."""
        settings = self.settings
        count = 0
        for root in settings.downlink_roots:
            for frame in split(raw):
                packet_id = self._next_id
                self._next_id = self._next_id % 0xFFFFFFFF + 1  # 1..2**32-1, then round again
                self.outgoing.append(
                    encode_downlink(
                        frame, settings.channel, sender=settings.node, packet_id=packet_id,
                        root=root,
                    )
                )  # fmt: skip
                count += 1
        return count

    def status(self) -> dict[str, object]:
        return {"taken": self.taken, "copies": self.copies, "refused": dict(self.refused),
                "downlink_queued": len(self.outgoing)}  # fmt: skip
