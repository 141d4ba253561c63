"""Messages the app sends itself when the daemon reports something.

Events can arrive in bursts (a bundle import, a busy mesh); each of these messages replaces a
pending one of the same sort, so a burst costs one repaint, not one per event (toolong's pattern).
"""

from __future__ import annotations

import dataclasses

from textual.dom import DOMNode
from textual.message import Message

from tui.i18n import t


class FeedChanged(Message):
    """The feed model changed (bulletins, verdicts, deliveries or filters)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedChanged)


class StatusChanged(Message):
    """New mesh status or link state."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, StatusChanged)


class DeliveryChanged(Message):
    """The delivery state of one of our own bulletins moved on."""

    def __init__(self, bulletin_id: str, delivery: str | None, held_by: int | None) -> None:
        super().__init__()
        self.bulletin_id = bulletin_id
        self.delivery = delivery
        self.held_by = held_by

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DeliveryChanged) and message.bulletin_id == self.bulletin_id


class ConnectionChanged(Message):
    """Connected to the daemon, or lost it (then: next attempt in ``retry_in`` s)."""

    def __init__(self, connected: bool, retry_in: float = 0.0, attempt: int = 0) -> None:
        super().__init__()
        self.connected = connected
        self.retry_in = retry_in
        self.attempt = attempt

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ConnectionChanged)


def relabel_bindings(node: DOMNode, lang: str) -> None:
    """Translate the footer labels of ``node``'s bindings: each binding's id is a catalogue key."""
    for key, bindings in node._bindings.key_to_bindings.items():
        node._bindings.key_to_bindings[key] = [
            dataclasses.replace(b, description=t(b.id, lang)) if b.id else b for b in bindings
        ]
    node.refresh_bindings()
