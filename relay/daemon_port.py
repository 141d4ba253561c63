"""What the local API's methods need from the daemon, as a typed port.

The handlers (relay.daemon_api) depend on this protocol, never on relay.daemon itself; the daemon
satisfies it and hands itself to ``handlers()``.  So the import runs one way, daemon -> API
methods, and a test can serve the methods from any object with these members.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from relay.crypto.keys import Identity
from relay.crypto.keystore import Keystore
from relay.ingest import Changes, Ingest, IngestResult
from relay.node.core import Delivery
from relay.store import Store


class DaemonPort(Protocol):
    """The running node as its API methods see it."""

    @property
    def simulate(self) -> bool:
        """Running on the simulated mesh (``hello`` and ``status`` say so)."""

    @property
    def store(self) -> Store: ...

    @property
    def stop(self) -> asyncio.Event:
        """Set it to shut the daemon down (the ``shutdown`` method, a duress unlock)."""

    @property
    def keystore(self) -> Keystore: ...

    @property
    def ingest(self) -> Ingest:
        """The node core's ingest pipeline: the one writer of trust while the daemon runs."""

    @property
    def unlocked(self) -> dict[str, Identity]:
        """Identities unlocked through the API, by name, for the daemon's life."""

    @property
    def deliveries(self) -> Mapping[bytes, Delivery]: ...

    @property
    def forgeries(self) -> Sequence[dict[str, Any]]:
        """Recent forgeries heard on the radio, as API bulletins (never stored)."""

    def wall(self) -> float:
        """The wall clock: signed timestamps, receive times, trust changes."""

    def status(self) -> dict[str, Any]:
        """The ``status`` method's answer (also the ``mesh`` event's data)."""

    def radio_preset(self) -> str: ...

    def publish_local(self, raw: bytes) -> tuple[bytes, int]:
        """Ingest and transmit one of our own bulletins: (id, packets).  Raises
        ``relay.node.core.Rejected`` if our own pipeline refuses it."""

    def after_import(self, result: IngestResult) -> None:
        """A bulletin taken in from a bundle: relay it if trusted, tell subscribers."""

    def verdicts_changed(self, changed: Changes) -> None:
        """Verdicts changed by an operator action (trust add/remove): carry them out."""
