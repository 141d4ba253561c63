"""Airtime bookkeeping of an emulated radio: what its telemetry and duty cycle report.

``air_util_tx`` is the share of the last hour spent transmitting and ``channel_utilization`` the
share of the last minute the channel was busy (heard or sent), as AirTime.cpp keeps them; the
duty-cycle check in ``Router::send`` compares ``air_util_tx`` with the region's limit.
"""

from __future__ import annotations

import threading
from collections import deque

HOUR = 3600.0
MINUTE = 60.0


class AirUtil:
    """Transmissions and channel activity, timestamped on the medium's clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tx: deque[tuple[float, float]] = deque()  # (end time, airtime) of our sends
        self._busy: deque[tuple[float, float]] = deque()  # everything heard or sent

    def sent(self, now: float, airtime: float) -> None:
        """Our transmission of ``airtime`` seconds ended at ``now``."""
        with self._lock:
            self._tx.append((now, airtime))
            self._busy.append((now, airtime))

    def busy(self, now: float, airtime: float) -> None:
        """A transmission in range occupied the channel."""
        with self._lock:
            self._busy.append((now, airtime))

    def air_util_tx(self, now: float) -> float:
        """Percent of the last hour spent transmitting."""
        with self._lock:
            while self._tx and self._tx[0][0] < now - HOUR:
                self._tx.popleft()
            return 100.0 * sum(a for _, a in self._tx) / HOUR

    def channel_utilization(self, now: float) -> float:
        """Percent of the last minute the channel was busy."""
        with self._lock:
            while self._busy and self._busy[0][0] < now - MINUTE:
                self._busy.popleft()
            return min(100.0, 100.0 * sum(a for _, a in self._busy) / MINUTE)
