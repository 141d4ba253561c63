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

Its parts own their state: the held bulletins (relay.sync.held), refusals (relay.sync.refusals),
pending transmissions (relay.sync.outbox), the relay decision (relay.sync.frontier) and
anti-entropy (relay.sync.anti_entropy); the engine routes frames and verdicts between them.

Only bulletins the host judges relayable (trusted, unexpired) are ever transmitted.

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
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from hashlib import blake2b

from relay.sync import frames
from relay.sync.anti_entropy import AntiEntropy
from relay.sync.events import PacketReceived, SendPacket
from relay.sync.frontier import Frontier
from relay.sync.held import Held
from relay.sync.meter import ChannelMeter
from relay.sync.outbox import Outbox
from relay.sync.quarantine import Quarantine, UntrustedBudget
from relay.sync.refusals import Refusals
from relay.sync.types import Candidate, Judge, Judgement, Received, SyncConfig, SyncStats, _Item
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
MAX_TRUSTED_AUTHORS = 1024


@lru_cache(maxsize=1024)
def _id_of(raw: bytes) -> bytes:
    """The id of a bulletin frame (a pure function of its bytes: remembered for the copies that
    every neighbour relays, and that every simulated node hears)."""
    return bulletin_id(raw[:-SIGNATURE_LEN])


class SyncEngine:
    """One node's sync state; implements relay.sync.events.MeshEngine."""

    def __init__(self, config: SyncConfig | None = None, seed: int = 0, node: int = 0) -> None:
        cfg = self.config = config or SyncConfig()
        self.rng = random.Random(seed)
        self.stats = SyncStats()
        self.held = Held(cfg)
        self.refusals = Refusals()
        self.outbox = Outbox(cfg.urgent_priority, cfg.suppress_copies, cfg.repair)
        self.meter = ChannelMeter(cfg.preset, cfg.busy_threshold)
        self.frontier = Frontier(cfg, self.rng)
        self.anti_entropy = AntiEntropy(
            cfg, self.rng, self.held, self.refusals, self.outbox, self.meter, self.stats
        )
        self.reassembler = Reassembler()
        self.quarantine = Quarantine(
            cfg.quarantine_forged,
            cfg.quarantine_untrusted,
            cfg.quarantine_window,
            cfg.quarantine_for,
            node,
        )
        self.budget = UntrustedBudget(cfg.untrusted_budget, cfg.untrusted_window)
        self.trusted_authors: OrderedDict[bytes, None] = OrderedDict()
        # keys the node's trust state trusts for safety alerts or revocations (set by the host):
        # their alerts are judged even over the untrusted budget, from radios never heard before
        self.alert_authors: frozenset[bytes] = frozenset()
        self.clock = 0.0  # the latest ``now`` we were driven with
        self.node = node

    @property
    def node(self) -> int:
        """Our radio's node number: requests addressed to it are ours to answer."""
        return self.anti_entropy.node

    @node.setter
    def node(self, value: int) -> None:
        self.anti_entropy.node = value
        self.quarantine.own_node = value

    @property
    def items(self) -> dict[bytes, _Item]:
        """The held relayable bulletins by id (read only: change them through :meth:`add`)."""
        return self.held.items

    # -- the node's own bulletins and its store ------------------------------------------------

    def add(self, raw: bytes, judgement: Judgement, now: float | None = None) -> None:
        """Hold a relayable bulletin (from the store at start, or after a verdict change)."""
        if not judgement.relayable or judgement.id in self.held:
            return
        since = 0.0 if now is None else now
        if now is not None and self.anti_entropy.expects(judgement.id, now):
            since -= self.config.settle  # asked for: old news for the neighbours, settled at once
        self.held.add(raw, judgement, since)
        self.refusals.held(judgement.id)
        self.trusted_authors[judgement.author] = None
        self.trusted_authors.move_to_end(judgement.author)
        while len(self.trusted_authors) > MAX_TRUSTED_AUTHORS:
            self.trusted_authors.popitem(last=False)
        if now is not None:
            urgent = judgement.priority >= self.config.urgent_priority
            self.anti_entropy.held_new(judgement.id, urgent, now)

    def publish(self, raw: bytes, judgement: Judgement, now: float) -> list[SendPacket]:
        """Send one of our own bulletins now, with the originals' hop limit."""
        self.add(raw, judgement, now)
        packets = split(raw, repair=self.config.repair)
        return [SendPacket(p, self.config.origin_hop_limit, judgement.priority) for p in packets]

    def set_radio_role(self, role: str | None) -> None:
        """Our radio's device role: a CLIENT_MUTE radio never relays, so every flood ends here."""
        self.config = replace(self.config, firmware_relays=role != "CLIENT_MUTE")

    def holds(self, ident: bytes) -> bool:
        return ident in self.held

    # -- MeshEngine ---------------------------------------------------------------------------

    def receive(self, event: PacketReceived, now: float) -> Received:
        """A frame the radio heard: what to send now, and maybe a bulletin to judge.

        A ``candidate`` in the result waits for the host's verdict: answer with :meth:`judged`.
        """
        self.clock = now
        payload = event.payload
        self.meter.note(len(payload), now)
        self.frontier.heard(event, now)
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
                    self.anti_entropy.on_frame(frames.parse(payload), event, now)
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
                self.refusals.refuse(judgement.id)
            else:  # forged, malformed or unverified: says nothing about the genuine bulletin
                self.stats.forged_copies += judgement is None
                self.refusals.junk(candidate.copy, forged=judgement is None)
            return self.tick(now)
        ident = judgement.id
        fresh = ident not in self.held
        self.add(candidate.raw, judgement, now)
        self.anti_entropy.arrived(ident, now)
        self.outbox.arrived(ident)
        delay = (
            self.frontier.delay(event, judgement, self.config.firmware_relays, now)
            if fresh
            else None
        )
        if delay is not None:
            self.stats.relays += 1
            due = now + delay * (2.0 if self.busy(now) else 1.0)
            item = self.held.get(ident)
            if item is not None:
                self.outbox.push(
                    ident, item.raw, judgement.priority, due, self.config.relay_hop_limit
                )
        return self.tick(now)

    def tick(self, now: float) -> list[SendPacket]:
        self.clock = now
        self.held.sweep(now)
        out = self.anti_entropy.fire(now, self.frontier.spread(now))
        for key, job in self.outbox.due(now):
            if job.item is not None and not self.held.live(job.item, now):
                continue
            kind = {"push": "data", "retry": "request"}.get(key[0], key[0])
            if kind == "request" and not self.anti_entropy.sending(key, job, now):
                continue
            out.extend(SendPacket(p, job.hop_limit, job.priority) for p in job.packets)
            self.stats.sent[kind] += 1
        return out

    def next_deadline(self) -> float | None:
        deadline = self.outbox.deadline()
        timer = self.anti_entropy.deadline()
        return timer if deadline is None else min(deadline, timer)

    # -- bulletins ----------------------------------------------------------------------------

    def _on_fragment(
        self, fragment: Fragment, payload: bytes, event: PacketReceived, now: float
    ) -> Candidate | None:
        ident = fragment.bulletin
        item = self.held.get(ident)
        if item is not None:
            if payload in item.packets():  # a real copy, not a fake with its id
                self._overheard(ident, event)
            return None
        if ident in self.refusals:
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
        ident = _id_of(raw)
        item = self.held.get(ident)
        if item is not None:
            if raw == item.raw:  # a copy with a junk signature is no copy
                self._overheard(ident, event)
            return None
        if ident in self.refusals:
            self._overheard(ident, event)
            return None
        copy = blake2b(raw, digest_size=16).digest()
        forged = self.refusals.junk_again(copy)
        if forged is not None:  # the same junk again: not judged again,
            if whole_frame and event.sender != self.node:  # but its radio sent it again
                if forged:
                    self.quarantine.forged(event.sender, now)
                else:
                    self.quarantine.untrusted(event.sender, now)
            return None
        if self.budget.over(now) and not self._favoured(event.sender, ident, raw, now):
            self.stats.over_budget += 1
            return None
        return Candidate(raw, event, whole_frame, copy)

    def _favoured(self, sender: int, ident: bytes, head: bytes, now: float) -> bool:
        """Worth judging or reassembling even over the untrusted budget, and kept first in the
        reassembler: a radio with trusted history, an id we asked for, or what could be a trusted
        safety alert (``head``, the bulletin's first bytes: an urgent kind by a trusted author)."""
        if self.quarantine.has_trusted_history(sender, now):
            return True
        if self.anti_entropy.expects(ident, now):
            return True
        return (
            len(head) > 9
            and head[0] >> 4 == VERSION
            and head[0] & 0x0F in URGENT_KINDS
            and (bytes(head[1:9]) in self.trusted_authors or bytes(head[1:9]) in self.alert_authors)
        )

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

    def _overheard(self, ident: bytes, event: PacketReceived) -> None:
        if self.outbox.overheard(ident, self.frontier.near(event)):
            self.stats.suppressed += 1

    def busy(self, now: float) -> bool:
        """Jarshy traffic heard fills more than ``busy_threshold`` of the channel (firmware
        modules hold back above 25 % as well)."""
        return self.meter.busy(now)

    def expire(self, now: float) -> int:
        """Forget bulletins that have expired; return how many."""
        return self.held.expire(now)
