"""Between the node and its bridge: which stored bulletins cross, and judging what arrives.

Only trusted, unexpired bulletins that did not come over the bridge are offered to it (a bulletin
from mesh A reaches mesh B's gateway over MQTT and is relayed on B's radio, never published back).
What arrives goes through the node core's ingest (:meth:`relay.node.core.NodeCore.bridged`), the
same parse -> verify -> trust -> store as a radio frame, with its publisher as the origin that
untrusted quotas count against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from relay.bridge.core import Take
from relay.ingest import Outcome
from relay.lifetime import is_expired
from relay.node.core import NodeCore, Output
from relay.store import Store, StoredBulletin
from relay.sync.judge import priority_of
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.errors import WireError

if TYPE_CHECKING:  # the link (and its MQTT client) is imported only when a bridge is set
    from relay.bridge.link import BridgeLink

SOURCE = "bridge"  # the store's ``source`` of a bulletin that came over the bridge


def crossing(row: StoredBulletin | None, wall: float) -> int | None:
    """The priority of a stored bulletin that may cross (see the module docstring), else None."""
    if row is None or row.status is not Status.TRUSTED or row.source == SOURCE:
        return None
    if is_expired(row.expires_at, wall):
        return None
    try:
        return priority_of(wire.parse(row.raw).textless().content)
    except WireError:  # stored, so valid; a damaged row stays home
        return None


def offer_row(link: BridgeLink, row: StoredBulletin | None, wall: float) -> None:
    """Offer one stored bulletin to the bridge if it may cross."""
    priority = crossing(row, wall)
    if row is not None and priority is not None:
        link.offer(row.raw, row.id, priority, row.expires_at)


def offer_held(link: BridgeLink, store: Store, wall: float) -> None:
    """At start: the trusted bulletins held that may cross, highest priority first, as many as
    the outbox holds (the broker may never have had them; one it has is replaced by the same
    bytes, and subscribers drop it by id)."""
    ranked = []
    for row in store.by_status((Status.TRUSTED,)):
        priority = crossing(row, wall)
        if priority is not None:
            ranked.append((priority, row))
    ranked.sort(key=lambda pair: -pair[0])  # stable: the store's order within a priority
    for priority, row in ranked[: link.core.limits.outbox]:
        link.offer(row.raw, row.id, priority, row.expires_at)


def take_in(core: NodeCore, take: Take, now: float, wall: float) -> tuple[str, bool, Output]:
    """Judge a bulletin from the bridge: (outcome, trusted, what the node core decided)."""
    result, out = core.bridged(take.raw, f"{SOURCE}:{take.publisher}", now, wall)
    trusted = False
    if result.outcome is not Outcome.REJECTED:
        row = core.store.get(take.ident)
        trusted = row is not None and row.status is Status.TRUSTED
    return str(result.outcome), trusted, out
