"""The phone-app mirror's decisions (sans-IO): which trusted bulletins to re-broadcast as plain
text on the public primary channel, when, and which to leave to a neighbour.

The host offers bulletins (:meth:`Mirror.offer`, with the verdict and expiry the core judged),
withdraws those whose verdict turns (:meth:`Mirror.withdraw`), reports the texts its radio hears on
channel 0 (:meth:`Mirror.heard`), and calls :meth:`Mirror.tick` with the time; it carries out the
returned :class:`MirrorSend` actions and asks :meth:`Mirror.next_deadline` when to call again.
Nothing here reads a clock or touches a radio.

Rules (docs/radio.md, "The phone-app mirror"):

* only TRUSTED bulletins of kind news, correction, retraction and safety, not expired; a verdict
  that turns (revoked, untrusted) or an expiry that passes cancels a mirror not yet sent;
* a bulletin waits a hold-off (random in a window, shorter for severe and extreme alerts) before its
  first message; another radio's text on channel 0 that is that first message word for word
  (heard before or during the hold-off) cancels it, as the frontier relay cancels a relay it
  overhears: one mirror per neighbourhood. A code typed into any other text cancels nothing:
  anyone can type a code;
* severe and extreme safety alerts go out as ALERT_APP, everything else as TEXT_MESSAGE_APP; the
  firmware refuses a client's second text within 2 s and its second alert within 10 s
  (PhoneAPI::handleToRadioPacket in meshtastic/firmware src/mesh/PhoneAPI.cpp: TWO_SECONDS_MS for
  TEXT_MESSAGE_APP, TEN_SECONDS_MS for POSITION/WAYPOINT/ALERT_APP), so the mirror spaces its own
  sends by those gaps (a little more, :data:`SLACK`);
* the most urgent waiting mirror goes first (safety by severity, then corrections, then news), and
  none goes while the host's transmit queue holds Jarshy packets of a higher priority
  (``blocked_above``): mirrors share the node's airtime, the host counts what they use.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum

from relay.mirror_text import MirrorSource, codes_in, mirror_code, mirror_texts
from relay.vocabulary import PRIORITY_CORRECTION, PRIORITY_NEWS, SEVERITIES, safety_priority

TEXT_GAP = 2.0  # PhoneAPI.cpp: TWO_SECONDS_MS between a client's TEXT_MESSAGE_APP packets
ALERT_GAP = 10.0  # PhoneAPI.cpp: TEN_SECONDS_MS between a client's ALERT_APP packets
SLACK = 0.5  # seconds added to each gap: the serial/TCP write and the firmware's millis()
HOLD_OFF = (4.0, 20.0)  # seconds a mirror waits for a neighbour's copy (news, corrections)
URGENT_HOLD_OFF = (1.0, 5.0)  # severe and extreme alerts
MIRRORED_KINDS = ("news", "safety", "correction", "retraction")
FORGET_AFTER = 24 * 3600.0  # seconds a code heard or sent is remembered
MAX_REMEMBERED = 4096
HEARD_PER_CODE = 4  # texts remembered per code heard before its bulletin (anyone can type one)


class MirrorPort(Enum):
    """How the apps show a mirrored message."""

    TEXT = "TEXT_MESSAGE_APP"
    ALERT = "ALERT_APP"  # the Android app raises a critical notification


@dataclass(frozen=True, slots=True)
class MirrorOffer:
    """A bulletin the core judged, as the mirror needs it."""

    source: MirrorSource
    trusted: bool
    expires_at: float | None  # monotonic; None: does not expire
    severity: str | None = None  # safety alerts: CAP severity


@dataclass(frozen=True, slots=True)
class MirrorSend:
    """One plain-text message to broadcast on channel 0."""

    port: MirrorPort
    text: str
    code: str
    part: int  # 1-based
    parts: int
    priority: int


@dataclass
class _Pending:
    offer: MirrorOffer
    code: str
    port: MirrorPort
    priority: int
    due: float
    texts: list[str] = field(default_factory=list)
    sent: int = 0


@dataclass
class MirrorStats:
    offered: int = 0
    refused: int = 0  # not trusted, wrong kind, expired
    cancelled_heard: int = 0  # a neighbour mirrored it first
    cancelled_verdict: int = 0
    expired: int = 0
    messages: int = 0
    bulletins: int = 0


class Mirror:
    """Pending mirrors of one node and the firmware's per-port gaps (see module docstring)."""

    def __init__(self, seed: int = 0, enabled: bool = True) -> None:
        self.enabled = enabled
        self.stats = MirrorStats()
        self._rng = random.Random(seed)
        self._pending: dict[str, _Pending] = {}
        self._done: dict[str, float] = {}  # code -> when sent or heard: never mirrored again
        # code -> hashes of texts heard carrying it (a few each): a mirror heard before its
        # bulletin arrives here counts only if it is the very first message we would send
        self._heard: dict[str, set[int]] = {}
        self._last: dict[MirrorPort, float] = {}

    # -- inputs --------------------------------------------------------------------------------

    def offer(self, offer: MirrorOffer, now: float) -> bool:
        """A bulletin to mirror if the rules allow; returns whether it now waits its turn."""
        if not self.enabled:
            return False
        self.stats.offered += 1
        source = offer.source
        code = mirror_code(source.id)
        if code in self._pending or code in self._done:
            return code in self._pending
        if not offer.trusted or source.kind not in MIRRORED_KINDS or _expired(offer, now):
            self.stats.refused += 1
            return False
        texts = mirror_texts(source)
        if hash(texts[0]) in self._heard.pop(code, ()):
            self.stats.cancelled_heard += 1  # a neighbour mirrored it, word for word, already
            self._remember(code, now)
            return False
        urgent = source.kind == "safety" and offer.severity in ("severe", "extreme")
        port = MirrorPort.ALERT if urgent else MirrorPort.TEXT
        low, high = URGENT_HOLD_OFF if urgent else HOLD_OFF
        self._pending[code] = _Pending(
            offer, code, port, _priority(source.kind, offer.severity),
            now + self._rng.uniform(low, high), texts,
        )  # fmt: skip
        return True

    def withdraw(self, ident: bytes) -> bool:
        """The bulletin's verdict turned (revoked, untrusted): its mirror, if waiting, is dropped
        (parts already sent cannot be unsent)."""
        code = mirror_code(ident)
        pending = self._pending.get(code)
        if pending is None or pending.offer.source.id != ident:
            return False
        del self._pending[code]
        self.stats.cancelled_verdict += 1
        return True

    def heard(self, text: str, now: float) -> list[str]:
        """A text another radio sent on channel 0. Anyone can type a code, so it cancels our
        mirror only if it is our own first message, word for word (the phone apps around saw
        the right text); a code heard in any other text changes nothing. Returns the codes whose
        mirror this cancelled (before its first part went out)."""
        cancelled = []
        for code in codes_in(text)[:4]:
            pending = self._pending.get(code)
            if pending is not None and pending.sent == 0 and text == pending.texts[0]:
                del self._pending[code]
                self.stats.cancelled_heard += 1
                cancelled.append(code)
                self._remember(code, now)
            elif pending is None and code not in self._done:
                seen = self._heard.setdefault(code, set())
                if len(seen) < HEARD_PER_CODE:
                    seen.add(hash(text))
                while len(self._heard) > MAX_REMEMBERED:
                    del self._heard[next(iter(self._heard))]
        return cancelled

    def tick(self, now: float, blocked_above: int | None = None) -> list[MirrorSend]:
        """The messages to send now (at most one per port: the firmware's gaps)."""
        sends: list[MirrorSend] = []
        for code, pending in list(self._pending.items()):
            if _expired(pending.offer, now):
                del self._pending[code]
                self.stats.expired += 1
        for pending in sorted(self._pending.values(), key=lambda p: (-p.priority, p.due)):
            if pending.due > now or now < self._ready(pending.port):
                continue
            if any(s.port is pending.port for s in sends):
                continue
            if blocked_above is not None and blocked_above > pending.priority:
                continue
            sends.append(self._next_part(pending, now))
        return sends

    def next_deadline(self) -> float | None:
        """When :meth:`tick` may have something to send (None: nothing waits)."""
        times = [max(p.due, self._ready(p.port)) for p in self._pending.values()]
        return min(times) if times else None

    @property
    def waiting(self) -> int:
        return len(self._pending)

    # -- internals -----------------------------------------------------------------------------

    def _ready(self, port: MirrorPort) -> float:
        last = self._last.get(port)
        gap = ALERT_GAP if port is MirrorPort.ALERT else TEXT_GAP
        return float("-inf") if last is None else last + gap + SLACK

    def _next_part(self, pending: _Pending, now: float) -> MirrorSend:
        index = pending.sent
        pending.sent += 1
        self._last[pending.port] = now
        self.stats.messages += 1
        send = MirrorSend(
            pending.port, pending.texts[index], pending.code, index + 1, len(pending.texts),
            pending.priority,
        )  # fmt: skip
        if pending.sent >= len(pending.texts):
            del self._pending[pending.code]
            self._remember(pending.code, now)
            self.stats.bulletins += 1
        return send

    def _remember(self, code: str, now: float) -> None:
        self._done[code] = now
        if len(self._done) > MAX_REMEMBERED:
            for old in [c for c, t in self._done.items() if now - t > FORGET_AFTER]:
                del self._done[old]
            while len(self._done) > MAX_REMEMBERED:
                del self._done[next(iter(self._done))]


def _expired(offer: MirrorOffer, now: float) -> bool:
    return offer.expires_at is not None and offer.expires_at <= now


def _priority(kind: str, severity: str | None) -> int:
    if kind == "safety":
        return safety_priority(severity if severity in SEVERITIES else "unknown")
    if kind in ("correction", "retraction"):
        return PRIORITY_CORRECTION
    return PRIORITY_NEWS
