"""The transmit queue runs on the monotonic clock; a bulletin's wall-clock expiry enters it as the
same distance from now, so a wall clock days off neither drops nor keeps what it should not."""

from __future__ import annotations

from relay.sync.events import SendPacket
from relay.transmit import About, Transmitter
from tests.conftest import make_identity
from tests.helpers import T0, safety

EDITOR = make_identity("editor")


def test_a_bulletins_expiry_moves_onto_the_queues_clock() -> None:
    alert = safety(EDITOR, created=T0, lifetime=3600)
    wall_now = float(T0 + 60)  # the wall clock: one minute after the alert was written
    mono_now = 500.0  # the monotonic clock: seconds since boot
    about = About(created=T0, expires_at=T0 + 3600.0, author=EDITOR.key_id)
    sender = Transmitter(lambda _id: about, lambda _id: None, lambda: mono_now, lambda: wall_now)
    sender.submit([SendPacket(alert.raw, 1, priority=90)])
    ticket = sender.queue.next_ready(mono_now)
    assert ticket is not None and ticket.expires_at is not None
    assert ticket.expires_at == mono_now + (T0 + 3600.0 - wall_now)  # 59 minutes from now
    assert not ticket.expired(mono_now + 3000) and ticket.expired(mono_now + 3600)


def test_without_a_wall_clock_the_queue_clock_is_both() -> None:
    alert = safety(EDITOR, created=T0, lifetime=3600)
    about = About(created=T0, expires_at=T0 + 3600.0, author=EDITOR.key_id)
    sender = Transmitter(lambda _id: about, lambda _id: None, lambda: float(T0))
    sender.submit([SendPacket(alert.raw, 1, priority=90)])
    ticket = sender.queue.next_ready(float(T0))
    assert ticket is not None and ticket.expires_at == T0 + 3600.0
