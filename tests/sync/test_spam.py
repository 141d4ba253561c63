"""Issue 9, attack 5 and the engine half of attack 2: the spam brake and reassembly under attack.

Each test stands for one sub-attack (docs/threat-model.md, "Robustness"):

* junk fragments from many rotating radios must not keep a genuine alert from reassembling;
* a fake fragment with a genuine bulletin's id must not get the genuine sender quarantined;
* a flood from rotating ``from`` numbers hits one global budget, and a trusted alert still passes;
* a forged copy of a bulletin (the id leaves out the signature) heard first must not make the
  engine refuse, or stop requesting, the genuine one.
"""

from __future__ import annotations

import random
from dataclasses import replace

from relay.sync import frames
from relay.sync.engine import Judgement, SyncConfig, SyncEngine
from relay.sync.events import PacketReceived
from relay.sync.judge import MemoryJudge
from relay.trust import TrustState
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import Content, Kind, SafetyInfo
from relay.wire.fragments import FRAGMENT_BYTE, split
from tests.conftest import make_identity
from tests.helpers import T0, news
from tests.sync.judging import JudgingEngine

ROOT = make_identity("newsroom")
MALLORY = make_identity("mallory")
OWN, NEWSROOM_RADIO, MALLORY_RADIO = 0x1, 0x600D, 0x5BAD
INFO = SafetyInfo("flood", "met", "extreme", "immediate", "observed", "Алматы, Медеу ауданы")


def long_alert(seed: int = 1, created: int = T0) -> wire.Bulletin:
    """An extreme safety alert by the trusted newsroom, long enough for several fragments."""
    rng = random.Random(seed)
    text = " ".join(str(rng.randrange(10**6)) for _ in range(120))
    content = Content(Kind.SAFETY, ROOT.key_id, created, text, "en", lifetime=7200, safety=INFO)
    return wire.sign(content, ROOT)


class CountingJudge:
    """MemoryJudge that counts its calls and says whether the author's key was known."""

    def __init__(self) -> None:
        state = TrustState()
        state.add_root(ROOT.key_id, ROOT.public_key, "root")
        self.state = state
        self.inner = MemoryJudge(state)
        self.calls = 0

    def __call__(self, raw: bytes, now: float, event: PacketReceived | None) -> Judgement | None:
        self.calls += 1
        try:
            known = self.state.public_key(wire.decode(raw)) is not None
        except WireError:  # the inner judge rejects it below
            known = True
        judgement = self.inner(raw, now, event)
        return None if judgement is None else replace(judgement, verified=known)


def engine(config: SyncConfig | None = None) -> tuple[SyncEngine, CountingJudge]:
    judge = CountingJudge()
    return JudgingEngine(judge, config or SyncConfig(), node=OWN), judge


def heard(payload: bytes, sender: int, hop_limit: int = 0) -> PacketReceived:
    return PacketReceived(payload, sender, hops=0, snr=-12.0, hop_limit=hop_limit)


def junk_fragment(rng: random.Random) -> bytes:
    """A plausible-looking data fragment of a bulletin that does not exist."""
    return bytes([FRAGMENT_BYTE]) + rng.randbytes(8) + bytes([2, 0]) + rng.randbytes(200)


def test_junk_fragments_from_rotating_radios_do_not_keep_an_alert_from_reassembling() -> None:
    sync, _ = engine()
    earlier = news(ROOT, "earlier news", created=T0 - 100)
    sync.hear(heard(earlier.raw, NEWSROOM_RADIO), float(T0))  # the newsroom's key is known
    alert = long_alert()
    packets = split(alert.raw)
    assert len(packets) >= 3
    rng = random.Random(5)
    now, radio = float(T0), 0x7000
    for packet in packets:
        for _ in range(40):  # more junk sets than the reassembler may hold, each from a new radio
            radio += 1
            sync.hear(heard(junk_fragment(rng), radio), now)
            now += 0.01
        sync.hear(heard(packet, 0x4242), now)
    assert sync.holds(alert.id)
    assert sync.drain_ignores() == []  # nobody is blamed for fragments that never completed
    bound = sync.reassembler
    assert len(bound._pending) <= bound.max_pending and bound.pending_bytes <= bound.max_bytes


def test_junk_fragments_cannot_evict_an_untrusted_radios_set_that_makes_progress() -> None:
    sync, _ = engine()
    alert = long_alert(seed=2)
    packets = split(alert.raw)
    rng = random.Random(6)
    now = float(T0)
    sync.hear(heard(packets[0], 0x4343), now)
    sync.hear(heard(packets[1], 0x4343), now + 1)  # two fragments: a set in progress
    for radio in range(200):  # then a flood of new sets, one fragment each
        sync.hear(heard(junk_fragment(rng), 0x8000 + radio), now + 2 + radio * 0.01)
    for packet in packets[2:]:
        sync.hear(heard(packet, 0x4343), now + 10)
    assert sync.holds(alert.id)


def test_a_fake_fragment_with_another_count_does_not_get_the_genuine_sender_quarantined() -> None:
    sync, _ = engine()
    now = float(T0)
    for i in range(4):  # quarantine_forged is 3: four rounds would have been enough
        alert = long_alert(seed=10 + i, created=T0 + i)
        packets = split(alert.raw)
        fake = packets[0][:9] + bytes([packets[0][9] + 1, 0]) + packets[0][11:]  # another count
        sync.hear(heard(fake, MALLORY_RADIO), now)
        for packet in packets:
            now += 2.0
            sync.hear(heard(packet, NEWSROOM_RADIO), now)
        assert sync.holds(alert.id)
    assert NEWSROOM_RADIO not in [radio for radio, _ in sync.drain_ignores()]
    assert not sync.quarantine.ignored(NEWSROOM_RADIO, now)


def test_a_fake_fragment_with_the_same_count_from_another_radio_conflicts_with_nobody() -> None:
    sync, _ = engine()
    alert = long_alert(seed=3)
    packets = split(alert.raw)
    now = float(T0)
    for i in range(3):
        bad = bytearray(packets[i])
        bad[40] ^= 0xFF
        sync.hear(heard(bytes(bad), MALLORY_RADIO), now + i)  # Mallory's own set never checks
    for packet in packets:
        now += 2.0
        sync.hear(heard(packet, NEWSROOM_RADIO), now)
    assert sync.holds(alert.id)
    assert sync.drain_ignores() == []


def forged_news(i: int) -> bytes:
    unsigned = wire.encode_unsigned(Content(Kind.NEWS, ROOT.key_id, T0 + i, f"fake {i}", "en"))
    return unsigned + MALLORY.sign(wire.SIGNING_DOMAIN + unsigned)


def test_a_rotating_from_flood_hits_the_global_budget_and_a_trusted_alert_still_passes() -> None:
    config = SyncConfig()
    sync, judge = engine(config)
    trusted = news(ROOT, "earlier news", created=T0 - 100)
    sync.hear(heard(trusted.raw, NEWSROOM_RADIO), float(T0))  # the engine knows the author now
    judge.calls = 0
    now = float(T0)
    flood = 1000
    alert = long_alert(seed=4, created=T0 + 30)
    alert_packets = split(alert.raw)
    for i in range(flood):
        now += 0.05  # 20 frames a second, each from a radio never heard before
        payload = forged_news(i) if i % 2 else news(MALLORY, f"spam {i}", created=T0 + i).raw
        sync.hear(heard(payload, 0x10000 + i), now)
        if i >= 500 and i - 500 < len(alert_packets):  # mid-flood, from a radio with no history
            sync.hear(heard(alert_packets[i - 500], 0x4444), now)
    assert sync.holds(alert.id)
    assert sync.stats.over_budget > flood / 2  # most of the flood never reached the judge
    window_count = (now - T0) / config.untrusted_window + 1
    assert judge.calls <= config.untrusted_budget * window_count + 1
    assert sync.drain_ignores() == []  # one forgery per radio: no radio crossed its own limit


def test_the_newsrooms_radio_is_still_judged_while_the_budget_is_spent() -> None:
    sync, _ = engine()
    now = float(T0)
    sync.hear(heard(news(ROOT, "first", created=T0).raw, NEWSROOM_RADIO), now)
    for i in range(300):
        sync.hear(heard(forged_news(i), 0x20000 + i), now + i * 0.1)
    assert sync.stats.over_budget > 0
    later = news(ROOT, "second", created=T0 + 60)
    sync.hear(heard(later.raw, NEWSROOM_RADIO), now + 31)
    assert sync.holds(later.id)


def corrupt_signature(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x01])


def test_a_junk_signature_copy_first_does_not_stop_the_genuine_copy() -> None:
    sync, _ = engine()
    item = news(ROOT, "water tomorrow", created=T0)
    now = float(T0)
    sync.hear(heard(corrupt_signature(item.raw), MALLORY_RADIO), now)
    assert not sync.holds(item.id)
    sends = sync.hear(heard(item.raw, NEWSROOM_RADIO, hop_limit=0), now + 1)
    assert sync.holds(item.id)
    assert ("push", item.id) in sync.outbox  # and relayed on: the flood ended here
    out = sends + sync.tick(now + 60)
    assert item.raw in [s.payload for s in out]


def test_a_junk_signature_fragmented_copy_first_does_not_stop_the_genuine_copy() -> None:
    sync, _ = engine()
    alert = long_alert(seed=7)
    forged = split(corrupt_signature(alert.raw))
    now = float(T0)
    for packet in forged:  # the same id, complete, but its signature fails
        sync.hear(heard(packet, MALLORY_RADIO), now)
    assert not sync.holds(alert.id)
    for packet in split(alert.raw):
        now += 2.0
        sync.hear(heard(packet, NEWSROOM_RADIO), now)
    assert sync.holds(alert.id) and ("push", alert.id) in sync.outbox


def test_a_forged_copy_seen_first_is_still_requested_in_anti_entropy() -> None:
    sync, _ = engine()
    item = news(ROOT, "the genuine one", created=T0)
    now = float(T0)
    sync.hear(heard(corrupt_signature(item.raw), MALLORY_RADIO), now)
    page = frames.Summary(b"\x01" * 4, 1, frames.HEAD, 0, (item.id[: frames.PREFIX_LEN],))
    sent = [s.payload for s in sync.hear(heard(page.encode(), NEWSROOM_RADIO), now + 5)]
    sent += [s.payload for s in sync.tick(now + 15)]
    requests = [frames.parse(p) for p in sent if p[0] == frames.REQUEST]
    assert any(
        isinstance(r, frames.Request) and item.id[: frames.PREFIX_LEN] in r.prefixes
        for r in requests
    )


def test_an_unknown_key_copy_does_not_make_the_id_refused() -> None:
    """A bulletin whose key is not known yet (verified=False) is judged again once it is."""
    sync, judge = engine()
    reporter = make_identity("reporter")
    item = news(reporter, "from a reporter", created=T0)
    now = float(T0)
    sync.hear(heard(item.raw, MALLORY_RADIO), now)
    assert not sync.holds(item.id) and item.id not in sync.refusals
    page = frames.Summary(b"\x01" * 4, 1, frames.HEAD, 0, (item.id[: frames.PREFIX_LEN],))
    sent = [s.payload for s in sync.hear(heard(page.encode(), NEWSROOM_RADIO), now + 5)]
    sent += [s.payload for s in sync.tick(now + 15)]
    assert any(p[0] == frames.REQUEST for p in sent)  # still wanted
    certificate = wire.sign(
        Content(
            Kind.CERTIFICATE,
            ROOT.key_id,
            T0,
            subject_key=reporter.public_key,
            name="Reporter",
            kinds=0b1111,
            lifetime=90 * 86400,
        ),
        ROOT,
    )
    sync.hear(heard(certificate.raw, NEWSROOM_RADIO), now + 20)
    sync.hear(heard(item.raw, NEWSROOM_RADIO), now + 30)
    assert sync.holds(item.id), judge.calls


def test_a_verified_refusal_is_remembered_by_id() -> None:
    sync, judge = engine()
    old = news(ROOT, "expired", created=T0, lifetime=60)
    now = float(T0 + 8 * 86400)  # past the clock-skew allowance: expired on arrival
    sync.hear(heard(old.raw, NEWSROOM_RADIO), now)
    calls = judge.calls
    sync.hear(heard(old.raw, 0x777), now + 1)
    assert old.id in sync.refusals and judge.calls == calls  # not judged twice


def test_fragmented_forgeries_from_one_radio_still_trip_its_brake() -> None:
    """Reassembly failures blame no one, but a clean set of one radio's own fragments that
    completes into a forgery is that radio's forgery."""
    sync, _ = engine()
    now = float(T0)
    for i in range(3):
        forged = corrupt_signature(long_alert(seed=20 + i, created=T0 + i).raw)
        for packet in split(forged):
            now += 1.0
            sync.hear(heard(packet, MALLORY_RADIO), now)
    assert sync.drain_ignores() == [(MALLORY_RADIO, SyncConfig().quarantine_for)]


def test_a_fake_fragment_from_anyone_does_not_cancel_our_relay() -> None:
    """Only a byte-for-byte copy of what we hold counts as overheard."""
    sync, _ = engine()
    alert = long_alert(seed=30)
    now = float(T0)
    for packet in split(alert.raw):
        now += 2.0
        sync.hear(heard(packet, NEWSROOM_RADIO), now)
    assert ("push", alert.id) in sync.outbox
    fake = split(alert.raw)[0][:11] + bytes(100)
    for radio in range(5):
        sync.hear(heard(fake, 0x9000 + radio), now + 0.1)
    assert ("push", alert.id) in sync.outbox


def test_an_alert_by_a_key_the_node_trusts_passes_the_budget_from_a_radio_never_heard() -> None:
    """The host shares whose safety alerts its trust state accepts (``alert_authors``): a first
    alert from a newsroom whose bulletins the engine never held, on a radio never heard, is
    judged while strangers have spent the budget."""
    sync, _ = engine()
    now = float(T0)
    for i in range(300):
        sync.hear(heard(forged_news(i), 0x30000 + i), now + i * 0.1)
    alert = long_alert(seed=7, created=T0 + 30)
    packets = split(alert.raw)
    for packet in packets:
        sync.hear(heard(packet, 0x4545), now + 30)
    assert not sync.holds(alert.id)  # without the host's word: dropped over the budget
    sync.alert_authors = frozenset({ROOT.key_id})
    for i, packet in enumerate(packets):
        sync.hear(heard(packet, 0x4546), now + 31 + i * 0.01)
    assert sync.holds(alert.id)


def test_a_whole_bulletin_over_one_packet_is_malformed() -> None:
    """docs/protocol.md §5: a bulletin frame over 229 bytes in one radio packet is malformed (a
    modified radio could send one); it is counted against its radio, never judged or held."""
    sync, judge = engine()
    raw = long_alert(seed=8).raw
    assert len(raw) > wire.PACKET_MAX
    judge.calls = 0
    sync.hear(heard(raw, MALLORY_RADIO), float(T0))
    assert judge.calls == 0 and not sync.holds(wire.decode(raw).id)
    assert sync.stats.malformed == 1
