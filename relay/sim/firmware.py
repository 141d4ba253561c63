"""What a simulated Meshtastic node keeps and decides: roles, duplicate cache, transmit queue,
contention delays, duty-cycle and channel-utilisation accounting.

The rules follow the firmware (RadioInterface.cpp, FloodingRouter.cpp, Router.cpp, AirTime.cpp):
relays wait an SNR-weighted contention window (far nodes first), clients cancel a queued relay
when they overhear it, ROUTER and ROUTER_LATE never cancel and ROUTER_LATE moves its copy behind
every client's window, CLIENT_MUTE never relays, and a node above its region's hourly duty cycle
refuses to send.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass, field

from relay.lora import Preset
from relay.sim.meshrules import Mode
from relay.sync.events import MeshEngine

CW_MIN = 3
CW_MAX = 8
SNR_MIN_DB = -20
SNR_MAX_DB = 10
DUP_CACHE_SIZE = 300
TX_QUEUE_SIZE = 16
DEFAULT_HOP_LIMIT = 3
MAX_HOP_LIMIT = 7
UTIL_PERIOD = 10.0  # seconds per channel-utilisation bucket
UTIL_PERIODS = 6  # the firmware reports the last 60 s
DUTY_WINDOW = 3600.0  # the firmware's hourly transmit-utilisation window


class Role(enum.Enum):
    """Device roles that change how a node relays (others behave like CLIENT)."""

    CLIENT = "CLIENT"
    CLIENT_MUTE = "CLIENT_MUTE"
    CLIENT_BASE = "CLIENT_BASE"
    CLIENT_HIDDEN = "CLIENT_HIDDEN"
    ROUTER = "ROUTER"
    ROUTER_LATE = "ROUTER_LATE"
    TRACKER = "TRACKER"
    SENSOR = "SENSOR"

    @classmethod
    def parse(cls, name: str) -> Role:
        """Firmware role by name; REPEATER and ROUTER_CLIENT are coerced to CLIENT as 2.7 does."""
        key = name.strip().upper()
        if key in ("REPEATER", "ROUTER_CLIENT"):
            return cls.CLIENT
        try:
            return cls(key)
        except ValueError:
            known = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown role {name!r}; known: {known}") from None

    @property
    def relays(self) -> bool:
        """False only for CLIENT_MUTE."""
        return self is not Role.CLIENT_MUTE

    @property
    def cancels_on_overhear(self) -> bool:
        """Clients drop a queued relay when they hear someone else send it first."""
        return self not in (Role.ROUTER, Role.ROUTER_LATE)


RebroadcastMode = Mode
"""``config.device.rebroadcast_mode`` (:class:`relay.sim.meshrules.Mode`, all six of them)."""


def arduino_map(x: float, in_min: int, in_max: int, out_min: int, out_max: int) -> int:
    """Arduino ``map`` on longs: the input is truncated and the division truncates toward zero."""
    delta = int(x) - in_min
    num = delta * (out_max - out_min)
    run = in_max - in_min
    q = abs(num) // run
    return (q if num >= 0 else -q) + out_min


def cw_size_for_snr(snr: float) -> int:
    """Contention window exponent from the SNR a packet arrived with, kept within CW_MIN..CW_MAX."""
    return max(CW_MIN, min(CW_MAX, arduino_map(snr, SNR_MIN_DB, SNR_MAX_DB, CW_MIN, CW_MAX)))


def relay_delay(role: Role, snr: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsecWeighted``: how long a node waits before relaying a packet it heard."""
    cw = cw_size_for_snr(snr)
    if role is Role.ROUTER:
        return rng.randrange(0, 2 * cw) * slot
    return (2 * CW_MAX * slot) + rng.randrange(0, 1 << cw) * slot


def late_window_delay(snr: float, slot: float) -> float:
    """``getTxDelayMsecWeightedWorst``: where ROUTER_LATE moves a queued relay on overhearing it
    (``clampToLateRebroadcastWindow``, RadioLibInterface.cpp): behind every client's window."""
    return 2 * CW_MAX * slot + (1 << cw_size_for_snr(snr)) * slot


def origin_delay(channel_util_percent: float, slot: float, rng: random.Random) -> float:
    """``getTxDelayMsec``: the wait before sending our own packet, widened by a busy channel."""
    cw = arduino_map(channel_util_percent, 0, 100, CW_MIN, CW_MAX)
    return rng.randrange(0, 1 << cw) * slot


@dataclass(slots=True)
class Packet:
    """One Meshtastic packet as it travels: the header fields the simulation needs and a payload."""

    origin: int  # node index of the originating radio
    pkt_id: int
    hop_limit: int
    hop_start: int
    payload: bytes
    jarshy: bool  # on the Jarshy private port
    airtime: float
    item: bytes | None = None  # the item this packet carries, when the engine says


@dataclass(slots=True)
class Queued:
    """A packet waiting in a node's transmit queue."""

    packet: Packet
    ready_at: float
    priority: int
    seq: int
    relay: bool
    rx_snr: float = 0.0
    late: bool = False  # ROUTER_LATE already moved it to the late window (done once)


@dataclass(eq=False, slots=True)
class Node:
    """The state of one simulated radio (and its attached engine, if any)."""

    index: int
    num: int
    name: str
    role: Role
    mode: RebroadcastMode
    engine: MeshEngine | None = None
    slot: int = 0  # frequency slot: only nodes on the same one hear each other
    has_key: bool = True  # holds the key of the channel Jarshy's packets are on
    awake: bool = True
    awake_since: float = 0.0
    dup: dict[tuple[int, int], None] = field(default_factory=dict)
    queue: list[Queued] = field(default_factory=list)
    timer_gen: int = 0
    timer_at: float | None = None
    engine_gen: int = 0
    engine_at: float | None = None
    tx_end: float = -1.0
    tx_intervals: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=4))
    duty_log: deque[tuple[float, float]] = field(default_factory=deque)
    duty_sum: float = 0.0
    sensing: int = 0  # ongoing decodable signals (carrier sense)
    heard: list[tuple[float, float, float, int]] = field(default_factory=list)
    ignored: dict[int, float] = field(default_factory=dict)  # origin index -> ignored until
    busy: dict[int, float] = field(default_factory=dict)  # utilisation bucket -> seconds
    busy_until: float = 0.0
    tx_time: float = 0.0
    max_duty_fraction: float = 0.0

    def remember(self, key: tuple[int, int]) -> bool:
        """Record a (from, id) pair; True when it was already in the duplicate cache."""
        if key in self.dup:
            return True
        self.dup[key] = None
        if len(self.dup) > DUP_CACHE_SIZE:
            del self.dup[next(iter(self.dup))]
        return False

    def find_queued(self, origin: int, pkt_id: int) -> Queued | None:
        """The queued entry for packet (origin, id), if still waiting."""
        for q in self.queue:
            if q.packet.origin == origin and q.packet.pkt_id == pkt_id:
                return q
        return None

    def enqueue(self, entry: Queued) -> bool:
        """Add to the bounded queue; when full, a higher-priority entry evicts the back
        (``replaceLowerPriorityPacket``), else it is refused."""
        if len(self.queue) >= TX_QUEUE_SIZE:
            # the queue's back (MeshPacketQueue.cpp): lowest priority, our own after relays, newest
            worst = max(self.queue, key=lambda q: (-q.priority, not q.relay, q.seq))
            if worst.priority >= entry.priority:
                return False
            self.queue.remove(worst)
        self.queue.append(entry)
        return True

    def add_busy(self, start: float, duration: float) -> None:
        """Count channel activity [start, start + duration); overlaps are counted once.

        Calls come in order of ``start`` (the simulator's clock), so keeping the end of the busy
        span seen so far makes this the length of the union of intervals.
        """
        t, end = max(start, self.busy_until), start + duration
        if end <= t:
            return
        self.busy_until = end
        while t < end:
            bucket = int(t // UTIL_PERIOD)
            upto = min(end, (bucket + 1) * UTIL_PERIOD)
            self.busy[bucket] = self.busy.get(bucket, 0.0) + (upto - t)
            t = upto

    def channel_util_percent(self, now: float) -> float:
        """Channel utilisation as the firmware reports it: % busy over the last 60 s."""
        b = int(now // UTIL_PERIOD)
        total = sum(self.busy.get(k, 0.0) for k in range(b - UTIL_PERIODS + 1, b + 1))
        return 100.0 * total / (UTIL_PERIODS * UTIL_PERIOD)

    def hourly_tx_fraction(self, now: float) -> float:
        """Share of the last hour this node spent transmitting (the firmware's air_util_tx)."""
        log = self.duty_log
        while log and log[0][0] + log[0][1] <= now - DUTY_WINDOW:
            self.duty_sum -= log.popleft()[1]
        return max(self.duty_sum, 0.0) / DUTY_WINDOW

    def log_tx(self, start: float, airtime: float) -> None:
        """Account one transmission for duty cycle, air_util_tx and channel utilisation."""
        self.duty_log.append((start, airtime))
        self.duty_sum += airtime
        self.tx_time += airtime
        self.tx_end = start + airtime
        self.tx_intervals.append((start, start + airtime))
        self.add_busy(start, airtime)
        frac = self.hourly_tx_fraction(start + airtime)
        self.max_duty_fraction = max(self.max_duty_fraction, frac)

    def transmitted_during(self, start: float, end: float) -> bool:
        """Half duplex: was this node sending at any moment of [start, end]?"""
        return any(s < end and e > start for s, e in self.tx_intervals)

    def power_cut(self) -> None:
        """The radio loses power: RAM (queue, duplicate cache, timers) is gone."""
        self.awake = False
        self.queue.clear()
        self.dup.clear()
        self.timer_gen += 1
        self.timer_at = None


def slot_time(preset: Preset) -> float:
    """Contention slot length for ``preset`` in seconds."""
    return preset.slot_time
