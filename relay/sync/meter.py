"""How busy the channel is with the Jarshy traffic a node hears (sans-IO)."""

from __future__ import annotations

from collections import deque

from relay.lora import packet_airtime

WINDOW = 60.0  # seconds, as the firmware's channel utilisation


class ChannelMeter:
    """Airtime of frames heard over the last minute, estimated from their sizes."""

    def __init__(self, preset: str, threshold: float) -> None:
        self.preset = preset
        self.threshold = threshold  # fraction of the channel above which we call it busy
        self.heard: deque[tuple[float, float]] = deque()  # (time, airtime)
        self.airtime = 0.0

    def note(self, size: int, now: float) -> None:
        """A frame of ``size`` payload bytes was heard at ``now``."""
        self.heard.append((now, packet_airtime(min(size, 231), self.preset)))
        self.airtime += self.heard[-1][1]

    def busy(self, now: float) -> bool:
        """True when what was heard in the last minute fills more than ``threshold``."""
        while self.heard and now - self.heard[0][0] > WINDOW:
            self.airtime -= self.heard.popleft()[1]
        return self.airtime / WINDOW > self.threshold
