"""The mirror's decisions in virtual time: trusted only, firmware gaps, suppression, priority."""

from __future__ import annotations

import hashlib
import itertools

from relay.mirror_text import MirrorSource, mirror_code
from relay.node.mirror import (
    ALERT_GAP,
    HOLD_OFF,
    SLACK,
    TEXT_GAP,
    Mirror,
    MirrorOffer,
    MirrorPort,
    MirrorSend,
)
from relay.vocabulary import PRIORITY_NEWS


def ident(n: int) -> bytes:
    return hashlib.sha256(n.to_bytes(4, "big")).digest()


def offer(n: int, kind: str = "news", *, trusted: bool = True, severity: str | None = None,
          text: str = "Water back at 18:00", expires: float | None = None) -> MirrorOffer:  # fmt: skip
    return MirrorOffer(MirrorSource(ident(n), kind, "Newsroom", text, "en"), trusted, expires,
                       severity)  # fmt: skip


def run(mirror: Mirror, until: float, start: float = 0.0) -> list[tuple[float, MirrorSend]]:
    """Tick the mirror at each deadline until ``until``; the sends with their times."""
    sent = []
    now = start
    while True:
        deadline = mirror.next_deadline()
        if deadline is None or deadline > until:
            return sent
        now = max(now, deadline)
        sent += [(now, s) for s in mirror.tick(now)]


def test_untrusted_expired_and_other_kinds_are_never_mirrored() -> None:
    mirror = Mirror()
    assert not mirror.offer(offer(1, trusted=False), 0)
    assert not mirror.offer(offer(2, expires=0.0), 1)
    assert not mirror.offer(offer(3, "certificate"), 0)
    assert run(mirror, 1000) == [] and mirror.stats.refused == 3


def test_severe_alerts_are_alerts_and_news_text_safety_first() -> None:
    mirror = Mirror(seed=3)
    mirror.offer(offer(1), 0)
    mirror.offer(offer(2, "safety", severity="extreme"), 0)
    mirror.offer(offer(3, "safety", severity="moderate"), 0)
    sent = run(mirror, 1000)
    ports = {s.code: s.port for _, s in sent}
    assert ports[mirror_code(ident(2))] is MirrorPort.ALERT
    assert ports[mirror_code(ident(1))] is ports[mirror_code(ident(3))] is MirrorPort.TEXT
    assert sent[0][1].code == mirror_code(ident(2))  # the extreme alert's hold-off is shortest


def test_firmware_gaps_between_parts_and_between_alerts() -> None:
    mirror = Mirror()
    mirror.offer(offer(1, text="Вода будет завтра. " * 40), 0)
    for n in (2, 3):
        mirror.offer(offer(n, "safety", severity="severe"), 0)
    sent = run(mirror, 10_000)
    texts = [t for t, s in sent if s.port is MirrorPort.TEXT]
    alerts = [t for t, s in sent if s.port is MirrorPort.ALERT]
    assert len(texts) > 2 and len(alerts) == 2
    assert all(b - a >= TEXT_GAP + SLACK for a, b in itertools.pairwise(texts))
    assert alerts[1] - alerts[0] >= ALERT_GAP + SLACK
    parts = [s for _, s in sent if s.port is MirrorPort.TEXT]
    assert [s.part for s in parts] == list(range(1, len(parts) + 1))


def test_a_neighbours_mirror_heard_first_cancels_ours_and_later_offers() -> None:
    mirror = Mirror()
    mirror.offer(offer(1), 0)
    code = mirror_code(ident(1))
    assert mirror.heard(f"Newsroom: Water back at 18:00 #{code}", HOLD_OFF[0] / 2) == [code]
    assert run(mirror, 1000) == [] and mirror.stats.cancelled_heard == 1
    assert not mirror.offer(offer(1), 2000)  # mirrored in this neighbourhood already


def test_a_typed_code_in_another_text_cancels_nothing_before_or_after_the_offer() -> None:
    """Anyone can type a code: only our own first message, word for word, counts as a mirror."""
    mirror = Mirror()
    code1, code2 = mirror_code(ident(1)), mirror_code(ident(2))
    for n in range(20):  # typed before the bulletin arrives, in many texts
        mirror.heard(f"fake {n} #{code1}", 1.0)
    assert mirror.offer(offer(1), 2.0)  # still mirrored
    mirror.offer(offer(2), 2.0)
    assert mirror.heard(f"Newsroom: Water back at 19:00 #{code2}", 3.0) == []  # not our text
    assert {s.code for _, s in run(mirror, 1000, 3.0)} == {code1, code2}
    # heard word for word before the bulletin: this neighbourhood has it
    mirror.heard(f"Newsroom: Water back at 18:00 #{mirror_code(ident(3))}", 1001.0)
    assert not mirror.offer(offer(3), 1002.0) and mirror.waiting == 0


def test_a_revoked_or_expiring_bulletin_is_dropped_before_it_goes_out() -> None:
    mirror = Mirror()
    mirror.offer(offer(1), 0)
    mirror.offer(offer(2, expires=1.0), 0)
    assert mirror.withdraw(ident(1))
    assert run(mirror, 1000) == [] and mirror.stats.expired == 1


def test_news_waits_while_higher_priority_jarshy_packets_queue() -> None:
    mirror = Mirror()
    mirror.offer(offer(1), 0)
    assert mirror.tick(100, blocked_above=PRIORITY_NEWS + 10) == []
    assert len(mirror.tick(100, blocked_above=PRIORITY_NEWS)) == 1


def test_disabled_mirror_takes_nothing() -> None:
    mirror = Mirror(enabled=False)
    assert not mirror.offer(offer(1), 0) and mirror.next_deadline() is None
