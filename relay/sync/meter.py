"""How busy the channel is with the Jarshy traffic a node hears (sans-IO)."""

from __future__ import annotations

from collections import deque
from functools import cache

from relay.lora import packet_airtime

WINDOW = 60.0  # seconds, as the firmware's channel utilisation
MAX_PAYLOAD = 231


@cache
def _airtimes(preset: str) -> tuple[float, ...]:
    """Airtime of a broadcast of each payload size (the simulator hears ~10^5 frames a run)."""
    return tuple(packet_airtime(size, preset) for size in range(MAX_PAYLOAD + 1))


class ChannelMeter:
    """Airtime of frames heard over the last minute, estimated from their sizes."""

    def __init__(self, preset: str, threshold: float) -> None:
        self.preset = preset
        self.threshold = threshold  # fraction of the channel above which we call it busy
        self.heard: deque[tuple[float, float]] = deque()  # (time, airtime)
        self.airtime = 0.0
        self.by_size = _airtimes(preset)

    def note(self, size: int, now: float) -> None:
        """A frame of ``size`` payload bytes was heard at ``now``."""
        self.heard.append((now, self.by_size[min(max(size, 0), MAX_PAYLOAD)]))
        self.airtime += self.heard[-1][1]

    def busy(self, now: float) -> bool:
        """True when what was heard in the last minute fills more than ``threshold``."""
        while self.heard and now - self.heard[0][0] > WINDOW:
            self.airtime -= self.heard.popleft()[1]
        return self.airtime / WINDOW > self.threshold
