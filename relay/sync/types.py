"""Values the sync engine works with: judgements, configuration, held items, pending sends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from relay.sync import frames
from relay.sync.events import PacketReceived, SendPacket
from relay.wire.fragments import split


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the node's ingest pipeline decided about a bulletin."""

    id: bytes
    relayable: bool  # trusted and not expired
    priority: int  # higher first (revocation > safety by severity > correction > news)
    created: int
    expires_at: float | None
    author: bytes
    # The signature was checked against the author's known key.  False: the key is unknown and
    # the bulletin is held as a candidate.  Only a verified refusal says anything about the id
    # (every copy with this id has the same signed bytes); a forged copy, whose signature failed,
    # is judged None and says nothing about the genuine one.
    verified: bool = True


Judge = Callable[[bytes, float, PacketReceived | None], Judgement | None]
"""A host-side judge (tests, benchmarks): what :func:`relay.sync.judge.receive_judged` calls."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A whole bulletin the engine heard and will not decide on alone: it asks for a verdict.

    The host judges ``raw`` (decode, verify, trust, store) and answers with
    :meth:`SyncEngine.judged`; the engine is never re-entered while it waits.
    """

    raw: bytes
    event: PacketReceived
    whole_frame: bool  # heard whole, or from a clean set of one radio's own fragments
    copy: bytes  # a hash of all its bytes: forged or unverified copies are remembered by it


@dataclass(slots=True)
class Received:
    """What a received frame makes the engine do: ``sends`` now, maybe a ``candidate`` to judge."""

    sends: list[SendPacket]
    candidate: Candidate | None = None


@dataclass
class SyncConfig:
    origin_hop_limit: int = 1  # bench/hop_limits.py: 0.78-1.0x the airtime of 3, same delivery
    relay_hop_limit: int = 0
    firmware_relays: bool = True  # the radio's role rebroadcasts (not CLIENT_MUTE)
    imin: float = 30.0
    imax: float = 600.0
    redundancy: int = 1  # Trickle k
    push_delay: float = 20.0
    relay_jitter: float = 0.5  # random share of the relay delay (the rest follows the SNR)
    answer_delay: float = 3.0
    suppress_copies: int = 1
    near_snr: float | None = -7.0  # a copy heard at least this strong (dB): no relay from us
    summary_size: int = 24
    author_rate: int = 30  # eager relays per author per hour
    max_items: int = 20_000
    repair: bool = True
    busy_threshold: float = 0.25  # above this heard channel load, control traffic holds back
    preset: str = "LONG_FAST"  # for estimating the airtime of what we hear
    settle: float = 90.0  # seconds a new bulletin spreads by relays before anti-entropy counts it
    request_interval: float = 10.0  # at most one request per this many seconds
    request_retries: int = 2  # a request whose bulletins did not come is sent again, this often,
    retry_after: float = 20.0  # this many seconds after the last try (answers take ~3 s + airtime)
    urgent_priority: int = 80  # severe or extreme safety alerts, revocations: when one of these
    # joins the sync set, Trickle restarts at imin so that nodes the relays missed catch up soon
    urgent_settle: float = 30.0  # they join the sync set this soon (relays finish in ~20 s)
    # Quarantine: a radio that originates this many forged or invalid bulletins (or this many
    # untrusted ones and nothing trusted) within ``quarantine_window`` seconds is ignored by our
    # radio for ``quarantine_for`` seconds: the firmware then neither relays nor delivers it.
    quarantine_forged: int = 3  # 0 disables quarantine
    quarantine_untrusted: int = 20
    quarantine_window: float = 600.0
    quarantine_for: float = 3600.0
    # Global budget for untrusted traffic: at most this many frames from radios without trusted
    # history may come to nothing (forged, invalid, malformed, untrusted) per window, all radios
    # together; beyond it such frames are dropped before signature checks and reassembly unless
    # they could be a trusted safety alert (0 disables it).  About a LongFast channel's capacity
    # in full packets per minute: honest untrusted traffic stays well below it.
    untrusted_budget: int = 30
    untrusted_window: float = 60.0


@dataclass
class _Item:
    raw: bytes
    judgement: Judgement
    held_since: float = 0.0
    _packets: frozenset[bytes] | None = None

    @property
    def key(self) -> int:
        return frames.sort_key(self.judgement.created, self.judgement.id)

    def packets(self) -> frozenset[bytes]:
        """The fragment packets of this bulletin (to tell a real copy from a fake with its id)."""
        if self._packets is None:
            self._packets = frozenset(split(self.raw, repair=True))
        return self._packets


@dataclass
class _Pending:
    due: float
    packets: list[bytes]
    priority: int
    hop_limit: int
    item: bytes | None = None  # bulletin id this answer carries (for suppression)
    heard: int = 0
    tries: int = 0  # requests: how many times this one was sent already


@dataclass
class SyncStats:
    sent: dict[str, int] = field(
        default_factory=lambda: {"beacon": 0, "summary": 0, "request": 0, "sketch": 0, "data": 0}
    )
    suppressed: int = 0
    malformed: int = 0
    relays: int = 0  # frontier relays scheduled
    quarantined: int = 0  # radios we asked our radio to ignore
    answers: int = 0  # bulletins scheduled in answer to a request
    over_budget: int = 0  # frames of untrusted radios dropped unjudged: the budget was spent
    forged_copies: int = 0  # copies judged forged or malformed (never a verdict on their id)
