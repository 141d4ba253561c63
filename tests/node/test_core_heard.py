"""NodeCore.heard: the radio's implicit ACK moves one of our deliveries to "heard"."""

from __future__ import annotations

from pathlib import Path

from relay.node.core import DeliveryChanged
from tests.helpers import news
from tests.node.test_core import NEWSROOM, NOW, A, node


def test_heard_moves_a_sent_delivery_to_heard_once(tmp_path: Path) -> None:
    a = node(tmp_path, "a", A)
    ident, _ = a.publish(news(NEWSROOM).raw, NOW)
    a.sent(ident)
    out = a.heard(ident)
    assert a.deliveries[ident].state == "heard"
    assert next(n for n in out.notices if isinstance(n, DeliveryChanged)).id == ident
    assert a.heard(ident).notices == []  # already heard: nothing new


def test_heard_never_moves_held_back_nor_knows_strangers(tmp_path: Path) -> None:
    a = node(tmp_path, "a", A)
    ident, _ = a.publish(news(NEWSROOM).raw, NOW)
    a.deliveries[ident].state = "held"
    assert a.heard(ident).notices == [] and a.deliveries[ident].state == "held"
    assert a.heard(b"\x01" * 32).notices == []
