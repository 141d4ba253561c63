"""The store-and-forward sync engine (sans-IO): what a Jarshy node transmits, and when.

Three mechanisms, all driven by ``receive(event, now)`` / ``tick(now)``:

1. **Originals** leave with ``origin_hop_limit`` (3): the firmware's managed flooding spreads them.
2. **Frontier relay**: a node that receives a new relayable bulletin whose firmware flood ends at it
   (hop limit 0 left, or a radio that does not relay) rebroadcasts it once with hop limit 0 after
   a short random, SNR-weighted delay — unless it overhears ``suppress_copies`` copies first.  So
   application relays never multiply with firmware floods, and reach beyond the hop limit.
3. **Anti-entropy** for nodes that were away: Trickle-timed 7-byte beacons (digest + count of the
   sync set); a mismatch triggers a summary page of newest ids, pulls of missing ids, pushes of
   what the neighbour lacks, and older pages until digests agree.  Answers are suppressed when a
   neighbour's identical answer is overheard.

Only bulletins the ``judge`` calls relayable (trusted, unexpired) are ever transmitted.

Under attack (docs/threat-model.md, "Robustness"): the bulletin id leaves out the signature, so a
copy judged forged says nothing about its id — only a *verified* refusal is remembered by id; a
forged or unverified copy is remembered by a hash of its bytes, and the genuine bulletin is still
judged, held and requested.  Fragments are reassembled per source radio with per-source and global
bounds (relay.wire.fragments).  The per-radio spam brake counts only frames proven bad on their
own; one global budget of wasted work on radios without trusted history (relay.sync.quarantine)
catches floods that rotate ``from``.
"""

from __future__ import annotations

import random
from collections import OrderedDict, deque
from dataclasses import replace
from hashlib import blake2b

from relay.sync import frames
from relay.sync.anti_entropy import AntiEntropy
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.meter import ChannelMeter
from relay.sync.quarantine import Quarantine, UntrustedBudget
from relay.sync.trickle import Trickle
from relay.sync.types import (
    Candidate,
    Judge,
    Judgement,
    Received,
    SyncConfig,
    SyncStats,
    _Item,
    _Pending,
)
from relay.wire.bulletin import PACKET_MAX, SIGNATURE_LEN, VERSION, bulletin_id
from relay.wire.errors import WireError
from relay.wire.fields import Kind
from relay.wire.fragments import FRAGMENT_BYTE, Fragment, Reassembler, split
from relay.wire.fragments import parse as parse_fragment

__all__ = [
    "Candidate",
    "Judge",
    "Judgement",
    "Received",
    "SyncConfig",
    "SyncEngine",
    "SyncStats",
]

URGENT_KINDS = frozenset((Kind.SAFETY, Kind.REVOCATION))  # what a trusted safety alert can be
MAX_REFUSED = 4096  # ids refused after a verified judgement
MAX_JUDGED_COPIES = 4096  # forged or unverified copies, by a hash of all their bytes
MAX_TRUSTED_AUTHORS = 1024
MAX_REQUESTED = 1024
REQUESTED_FOR = 120.0  # seconds an id we asked for is expected (answers, retries)


class SyncEngine(AntiEntropy):
    """One node's sync state; implements relay.sync.events.MeshEngine."""

    def __init__(self, config: SyncConfig | None = None, seed: int = 0, node: int = 0) -> None:
        self.node = node  # our radio's node number: requests addressed to it are ours to answer
        self.config = config or SyncConfig()
        self.rng = random.Random(seed)
        self.items: dict[bytes, _Item] = {}
        self.by_prefix: dict[bytes, bytes] = {}
        # ids judged not relayable after the signature was checked against a known key: every
        # copy with the id has the same signed bytes, so none needs judging again
        self.refused: OrderedDict[bytes, None] = OrderedDict()
        self.refused_prefixes: set[bytes] = set()
        # copies judged forged (None) or unverified, by a hash of all their bytes: (forged, epoch)
        self.judged_copies: OrderedDict[bytes, tuple[bool, int]] = OrderedDict()
        self.trust_epoch = 0  # bumped whenever we hold something new: trust may have changed
        self.trusted_authors: OrderedDict[bytes, None] = OrderedDict()
        # keys the node's trust state trusts for safety alerts or revocations (set by the host):
        # their alerts are judged even over the untrusted budget, from radios never heard before
        self.alert_authors: frozenset[bytes] = frozenset()
        self.requested: OrderedDict[bytes, float] = OrderedDict()  # id prefix -> expected until
        self.pending: dict[tuple[str, bytes], _Pending] = {}
        self.reassembler = Reassembler()
        self.trickle = Trickle(self.config.imin, self.config.imax, self.config.redundancy, self.rng)
        self.started = False
        self.seen_mismatch: OrderedDict[tuple[int, bytes, bytes], tuple[float, float]] = (
            OrderedDict()
        )
        self.next_expiry_sweep = 0.0
        self.urgent_settling: deque[float] = deque()  # when urgent items join the sync set
        self.clock = 0.0  # the latest ``now`` we were driven with
        self.inconsistent = False  # a neighbour's set differs: next Trickle firing is a summary
        self.meter = ChannelMeter(self.config.preset, self.config.busy_threshold)
        self.last_request = -1e18  # earliest time the next request may go
        self.relays_by_author: dict[bytes, deque[float]] = {}
        self.stats = SyncStats()
        cfg = self.config
        self.quarantine = Quarantine(
            cfg.quarantine_forged,
            cfg.quarantine_untrusted,
            cfg.quarantine_window,
            cfg.quarantine_for,
            node,
        )
        self.budget = UntrustedBudget(cfg.untrusted_budget, cfg.untrusted_window)

    # -- the node's own bulletins and its store ------------------------------------------------

    def add(self, raw: bytes, judgement: Judgement, now: float | None = None) -> None:
        """Hold a relayable bulletin (from the store at start, or after a verdict change)."""
        if not judgement.relayable or judgement.id in self.items:
            return
        self.items[judgement.id] = _Item(raw, judgement, 0.0 if now is None else now)
        self.trust_epoch += 1
        self.trusted_authors[judgement.author] = None
        self.trusted_authors.move_to_end(judgement.author)
        while len(self.trusted_authors) > MAX_TRUSTED_AUTHORS:
            self.trusted_authors.popitem(last=False)
        if now is not None and judgement.priority >= self.config.urgent_priority:
            self.urgent_settling.append(now + self.config.urgent_settle)
        self.by_prefix[judgement.id[: frames.PREFIX_LEN]] = judgement.id
        if self.refused.pop(judgement.id, 0) is None:
            self.refused_prefixes.discard(judgement.id[: frames.PREFIX_LEN])
        self._bound_items()

    def publish(self, raw: bytes, judgement: Judgement, now: float) -> list[SendPacket]:
        """Send one of our own bulletins now, with the originals' hop limit."""
        self.add(raw, judgement, now)
        packets = split(raw, repair=self.config.repair)
        return [SendPacket(p, self.config.origin_hop_limit, judgement.priority) for p in packets]

    def set_radio_role(self, role: str | None) -> None:
        """Our radio's device role: a CLIENT_MUTE radio never relays, so every flood ends here."""
        self.config = replace(self.config, firmware_relays=role != "CLIENT_MUTE")

    def holds(self, ident: bytes) -> bool:
        return ident in self.items

    # -- MeshEngine ---------------------------------------------------------------------------

    def receive(self, event: PacketReceived, now: float) -> Received:
        """A frame the radio heard: what to send now, and maybe a bulletin to judge.

        A ``candidate`` in the result waits for the host's verdict: answer with :meth:`judged`.
        """
        self.clock = now
        payload = event.payload
        self.meter.note(len(payload), now)
        candidate = None
        if payload:
            frame = payload[0]
            try:
                if frame >> 4 == VERSION and (frame & 0x0F) < 7:
                    if len(payload) > PACKET_MAX:  # protocol §5: longer ones travel as fragments
                        raise WireError("too-large", f"bulletin frame of {len(payload)} bytes")
                    candidate = self._on_bulletin(payload, event, now)
                elif frame == FRAGMENT_BYTE:
                    candidate = self._on_fragment(parse_fragment(payload), payload, event, now)
                elif frame in frames.SYNC_FRAMES:
                    self._on_sync(frames.parse(payload), event, now)
            except WireError:
                self.stats.malformed += 1
                self._judged_from(event, None, now)  # a frame that does not parse: proven bad
        return Received(self.tick(now), candidate)

    def judged(
        self, candidate: Candidate, judgement: Judgement | None, now: float
    ) -> list[SendPacket]:
        """The host's verdict on a :class:`Candidate` (None: forged or malformed)."""
        self.clock = now
        event = candidate.event
        self._judged_from(event, judgement, now, candidate.whole_frame)
        if judgement is None or not judgement.relayable:
            if judgement is not None and judgement.verified:
                self._refuse(judgement.id)
            else:  # forged, malformed or unverified: says nothing about the genuine bulletin
                self.stats.forged_copies += judgement is None
                self.judged_copies[candidate.copy] = (judgement is None, self.trust_epoch)
                while len(self.judged_copies) > MAX_JUDGED_COPIES:
                    self.judged_copies.popitem(last=False)
            return self.tick(now)
        ident = judgement.id
        fresh = ident not in self.items
        self.add(candidate.raw, judgement, now)
        self.pending.pop(("request", ident[: frames.PREFIX_LEN]), None)
        self.pending.pop(("retry", ident[: frames.PREFIX_LEN]), None)
        flood_ends_here = event.hop_limit is None or event.hop_limit <= 0
        urgent = judgement.priority >= self.config.urgent_priority  # more redundancy for these
        if (
            fresh
            and (flood_ends_here or not self.config.firmware_relays)
            and (urgent or not self._near(event))
            and self._author_allows(judgement, now)
        ):
            self.stats.relays += 1
            delay = self._relay_delay(event) * (2.0 if self.busy(now) else 1.0)
            self._schedule_push(ident, now, delay, self.config.relay_hop_limit)
        return self.tick(now)

    def tick(self, now: float) -> list[SendPacket]:
        self.clock = now
        if not self.started:
            self.started = True
            self.trickle.begin(now)
        out: list[SendPacket] = []
        if now >= self.next_expiry_sweep:
            self.next_expiry_sweep = now + 60.0
            self.expire(now)
        if self.urgent_settling and self.urgent_settling[0] <= now:
            while self.urgent_settling and self.urgent_settling[0] <= now:
                self.urgent_settling.popleft()
            self.trickle.reset(now)  # new urgent data (RFC 6206): neighbours compare soon
        if self.trickle.due(now):
            beacon = self._beacon()
            if self.inconsistent and beacon.count and not self.busy(now):
                out.append(SendPacket(self._page(frames.HEAD).encode(), 0, priority=-1))
                self.stats.sent["summary"] += 1
            else:
                out.append(SendPacket(beacon.encode(), 0, priority=-1))
                self.stats.sent["beacon"] += 1
            self.inconsistent = False
        for key in sorted(
            (k for k, p in self.pending.items() if p.due <= now), key=lambda k: self.pending[k].due
        ):
            job = self.pending.pop(key)
            if job.item is not None and not self._live(job.item, now):
                continue
            if key[0] == "retry" and not self._still_lacking(job.packets[0]):
                continue
            out.extend(SendPacket(p, job.hop_limit, job.priority) for p in job.packets)
            kind = {"push": "data", "retry": "request"}.get(key[0], key[0])
            self.stats.sent[kind] += 1
            if kind == "request":
                self.last_request = now + self.config.request_interval
                self._note_requested(job.packets[0], now)
                if job.tries < self.config.request_retries and self._still_lacking(job.packets[0]):
                    again = _Pending(now + self.config.retry_after, job.packets, 0, job.hop_limit)
                    again.tries = job.tries + 1
                    self.pending[("retry", key[1])] = again
        return out

    def next_deadline(self) -> float | None:
        if not self.started:
            return 0.0
        deadlines = [job.due for job in self.pending.values()]
        deadlines.append(self.trickle.deadline())
        if self.urgent_settling:
            deadlines.append(self.urgent_settling[0])
        return min(deadlines)

    # -- bulletins ----------------------------------------------------------------------------

    def _on_fragment(
        self, fragment: Fragment, payload: bytes, event: PacketReceived, now: float
    ) -> Candidate | None:
        ident = fragment.bulletin
        item = self.items.get(ident)
        if item is not None:
            if payload in item.packets():  # a real copy, not a fake with its id
                self._overheard(ident, self._near(event))
            return None
        if ident in self.refused:
            return None  # a verified refusal: every copy of this id is the same bulletin
        source = event.sender
        head = fragment.data if fragment.index == 0 else b""
        favoured = self._favoured(source, ident, head, now)
        if (
            self.budget.over(now)
            and not favoured
            and not self.reassembler.favoured(ident, fragment.count, source)
        ):
            self.stats.over_budget += 1
            return None
        done = self.reassembler.add_fragment(fragment, now, source, favoured)
        if done is None:
            return None
        return self._on_bulletin(done.raw, event, now, whole_frame=done.clean)

    def _on_bulletin(
        self, raw: bytes, event: PacketReceived, now: float, whole_frame: bool = True
    ) -> Candidate | None:
        """A bulletin heard whole (``whole_frame``) or reassembled from one radio's fragments
        (``whole_frame`` False if some fragment index came with two contents): the candidate to
        judge, or None when what we already know decides (a held copy, a refused id, the same
        junk again, the untrusted budget spent)."""
        if len(raw) <= SIGNATURE_LEN:
            return None
        ident = bulletin_id(raw[:-SIGNATURE_LEN])
        item = self.items.get(ident)
        if item is not None:
            if raw == item.raw:  # a copy with a junk signature is no copy
                self._overheard(ident, self._near(event))
            return None
        if ident in self.refused:
            self._overheard(ident, self._near(event))
            return None
        copy = blake2b(raw, digest_size=16).digest()
        seen = self.judged_copies.get(copy)
        if seen is not None and (seen[0] or seen[1] == self.trust_epoch):
            self.judged_copies.move_to_end(copy)  # the same junk again: not judged again,
            if whole_frame and event.sender != self.node:  # but its radio sent it again
                if seen[0]:
                    self.quarantine.forged(event.sender, now)
                else:
                    self.quarantine.untrusted(event.sender, now)
            return None
        if self.budget.over(now) and not self._favoured(event.sender, ident, raw, now):
            self.stats.over_budget += 1
            return None
        return Candidate(raw, event, whole_frame, copy)

    def _refuse(self, ident: bytes) -> None:
        self.refused[ident] = None
        self.refused_prefixes.add(ident[: frames.PREFIX_LEN])
        while len(self.refused) > MAX_REFUSED:
            gone, _ = self.refused.popitem(last=False)
            self.refused_prefixes.discard(gone[: frames.PREFIX_LEN])

    def _favoured(self, sender: int, ident: bytes, head: bytes, now: float) -> bool:
        """Worth judging or reassembling even over the untrusted budget, and kept first in the
        reassembler: a radio with trusted history, an id we asked for, or what could be a trusted
        safety alert (``head``, the bulletin's first bytes: an urgent kind by a trusted author)."""
        if self.quarantine.has_trusted_history(sender, now):
            return True
        expected = self.requested.get(ident[: frames.PREFIX_LEN])
        if expected is not None and expected > now:
            return True
        return (
            len(head) > 9
            and head[0] >> 4 == VERSION
            and head[0] & 0x0F in URGENT_KINDS
            and (bytes(head[1:9]) in self.trusted_authors or bytes(head[1:9]) in self.alert_authors)
        )

    def _note_requested(self, payload: bytes, now: float) -> None:
        request = frames.parse(payload)
        assert isinstance(request, frames.Request)
        for prefix in request.prefixes:
            self.requested[prefix] = now + REQUESTED_FOR
            self.requested.move_to_end(prefix)
        while len(self.requested) > MAX_REQUESTED:
            self.requested.popitem(last=False)

    def _judged_from(
        self,
        event: PacketReceived,
        judgement: Judgement | None,
        now: float,
        whole_frame: bool = True,
    ) -> None:
        """Feed the spam brake (per radio) and the untrusted budget (all radios) with what the
        originating radio sent (see relay.sync.quarantine).  ``judgement`` None: the frame was
        proven bad on its own (does not parse, or forged) — counted against its radio only if
        it came whole or as a clean set of that radio's own fragments."""
        sender = event.sender
        if sender == self.node:
            return  # our own radio: never a spam suspect
        untrusted_radio = not self.quarantine.has_trusted_history(sender, now)
        if judgement is None:
            if untrusted_radio:
                self.budget.spend(now)
            if whole_frame:
                self.quarantine.forged(sender, now)
        elif judgement.relayable:
            self.quarantine.trusted(sender, now)
        elif judgement.expires_at is None or now < judgement.expires_at:
            if untrusted_radio:
                self.budget.spend(now)
            self.quarantine.untrusted(sender, now)

    def drain_ignores(self) -> list[tuple[int, float]]:
        """Radios our radio should ignore now, with for how many seconds (host applies them)."""
        out, self.quarantine.requests = self.quarantine.requests, []
        self.stats.quarantined += len(out)
        return out

    def _relay_delay(self, event: PacketReceived) -> float:
        """Far (weak) receivers relay first, as the firmware's contention window does."""
        snr = -5.0 if event.snr is None else max(-20.0, min(10.0, event.snr))
        weight = (snr + 20.0) / 30.0
        jitter = self.config.relay_jitter
        share = (1.0 - jitter) * weight + jitter * self.rng.random()
        return self.config.push_delay * (0.1 + 0.9 * share)

    def _near(self, event: PacketReceived) -> bool:
        """A copy from a close sender: our relay would cover little it did not."""
        near = self.config.near_snr
        return near is not None and event.snr is not None and event.snr >= near

    def _author_allows(self, judgement: Judgement, now: float) -> bool:
        times = self.relays_by_author.setdefault(judgement.author, deque())
        while times and now - times[0] > 3600.0:
            times.popleft()
        if len(times) >= self.config.author_rate:
            return False
        times.append(now)
        return True

    def _schedule_push(self, ident: bytes, now: float, delay: float, hop_limit: int) -> None:
        key = ("push", ident)
        item = self.items.get(ident)
        if item is None:
            return
        existing = self.pending.get(key)
        if existing is not None:
            existing.hop_limit = max(existing.hop_limit, hop_limit)
            return
        packets = split(item.raw, repair=self.config.repair)
        self.pending[key] = _Pending(
            now + delay, packets, item.judgement.priority, hop_limit, ident
        )

    def _overheard(self, ident: bytes, near: bool = False) -> None:
        job = self.pending.get(("push", ident))
        if job is not None:
            job.heard += 1
            urgent = job.priority >= self.config.urgent_priority
            near_cancels = near and not urgent
            if near_cancels or job.heard >= self.config.suppress_copies + urgent:
                del self.pending[("push", ident)]
                self.stats.suppressed += 1
        self.pending.pop(("request", ident[: frames.PREFIX_LEN]), None)
        self.pending.pop(("retry", ident[: frames.PREFIX_LEN]), None)

    def _live(self, ident: bytes, now: float) -> bool:
        item = self.items.get(ident)
        if item is None:
            return False
        expires = item.judgement.expires_at
        return expires is None or now < expires

    def busy(self, now: float) -> bool:
        """Jarshy traffic heard fills more than ``busy_threshold`` of the channel (firmware
        modules hold back above 25 % as well)."""
        return self.meter.busy(now)

    def expire(self, now: float) -> int:
        """Forget bulletins that have expired; return how many."""
        gone = [i for i, item in self.items.items() if not self._live(i, now)]
        for ident in gone:
            del self.items[ident]
            self.by_prefix.pop(ident[: frames.PREFIX_LEN], None)
        return len(gone)

    def _bound_items(self) -> None:
        if len(self.items) <= self.config.max_items:
            return
        for item in sorted(self.items.values(), key=lambda i: (i.judgement.priority, i.key)):
            if len(self.items) <= self.config.max_items:
                break
            del self.items[item.judgement.id]
            self.by_prefix.pop(item.judgement.id[: frames.PREFIX_LEN], None)
