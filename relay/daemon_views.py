"""The daemon's answers as JSON objects (docs/api.md): a bulletin, a forgery, the node's status.

Views over what the daemon holds, used both by the daemon (its events) and by its API methods
(their answers), so they live apart from either.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from typing import Any

from relay.ingest import Ingest
from relay.lifetime import is_expired
from relay.node.core import Delivery
from relay.radio.linktypes import RadioInfo
from relay.store import Query, Store, StoredBulletin
from relay.transmit import Transmitter
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import KIND_NAMES, Kind

PRIORITY_NAMES = {100: "revocation", 90: "safety extreme", 80: "safety severe",
                  70: "safety moderate", 60: "safety minor", 50: "safety", 40: "correction",
                  30: "keys", 20: "news", 0: "sync", -1: "beacon"}  # fmt: skip


def bulletin_json(
    row: StoredBulletin, delivery: Delivery | None = None, wall: float | None = None
) -> dict[str, Any]:
    """A stored bulletin as the API's Bulletin object (``expired`` judged at ``wall``, else now)."""
    event = area = None
    if row.kind is Kind.SAFETY:
        try:
            safety = wire.decode(row.raw).content.safety
        except WireError:
            safety = None
        if safety is not None:
            event, area = safety.event, safety.area
    return {
        "id": row.id.hex(),
        "kind": KIND_NAMES[row.kind],
        "author": row.author.hex(),
        "created": row.created,
        "received_at": row.received_at,
        "expires_at": row.expires_at,
        "expired": is_expired(row.expires_at, time.time() if wall is None else wall),
        "lang": row.lang,
        "text": row.text,
        "text_error": row.text_error,
        "severity": row.severity,
        "event": event,
        "area": area,
        "ref": row.ref.hex() if row.ref else None,
        "status": str(row.status),
        "reason": row.reason,
        "signer_name": row.signer_name,
        "claimed_name": row.claimed_name,
        "chain": row.chain,
        "source": row.source,
        "hops": row.hops,
        "snr": row.snr,
        "delivery": None if delivery is None else delivery.state,
        "held_by": None if delivery is None else len(delivery.held_by),
    }


def forgery_json(
    bulletin: wire.Bulletin, reason: str, now: float, hops: int | None, snr: float | None
) -> dict[str, Any]:
    """A rejected bulletin as the API shows it: status ``invalid`` with the reason.  Its id is
    the hash of all its bytes, so it can never shadow the genuine bulletin it imitates."""
    c = bulletin.content
    safety = c.safety
    return {
        "id": hashlib.blake2b(bulletin.raw, digest_size=8).hexdigest(),
        "kind": KIND_NAMES[c.kind], "author": c.author.hex(), "created": c.created,
        "received_at": now, "expires_at": None, "expired": False, "lang": c.lang,
        "text": c.text, "text_error": None, "severity": safety.severity if safety else None,
        "event": safety.event if safety else None, "area": safety.area if safety else None,
        "ref": c.ref.hex() if c.ref else None, "status": "invalid", "reason": reason,
        "signer_name": None, "claimed_name": None, "chain": None, "source": "radio",
        "hops": hops, "snr": snr, "delivery": None, "held_by": None,
    }  # fmt: skip


def status_view(
    *,
    simulated: bool,
    link: dict[str, Any],
    info: RadioInfo | None,
    transmitter: Transmitter,
    store: Store,
    ingest: Ingest,
    uptime_s: float,
    bridge: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The ``status`` method's answer and the ``mesh`` event's data (docs/api.md)."""
    counts: Counter[str] = Counter()
    for state in Status:
        counts[str(state)] = store.count(Query(statuses=(state,)))
    queue = transmitter.queue
    now = transmitter.clock()
    by_priority = queue.depth_by_priority().items()
    return {
        "simulated": simulated,
        "link": link,
        "radio": None
        if info is None
        else {
            "model": info.hw_model,
            "firmware": info.firmware_version,
            "region": info.region,
            "preset": info.modem_preset,
            "role": info.role,
            "node_num": info.node_num,
            "name": info.long_name,
        },
        "nodes": []
        if info is None
        else [
            {
                "num": n.num,
                "name": n.long_name,
                "snr": n.snr,
                "hops": n.hops,
                "last_heard": n.last_heard,
            }
            for n in info.nodes
        ],
        "channel_utilization": None if info is None else info.channel_utilization,
        "air_util_tx": None if info is None else info.air_util_tx,
        "airtime": {
            "budget_s": round(queue.duty_cycle * 3600, 1),
            "used_s": round(queue.used_airtime(now), 2),
            "window_s": 3600,
            "busy": queue.busy(now),
        },
        "queue": {
            "depth": len(queue),
            "by_priority": {PRIORITY_NAMES.get(p, str(p)): n for p, n in by_priority},
            "dropped": dict(queue.dropped),
        },
        "counts": dict(counts),
        "untrusted": _untrusted(ingest),
        "uptime_s": round(uptime_s),
        "bridge": bridge,  # relay.bridge.link.BridgeLink.status(), null without a bridge
    }


def _untrusted(ingest: Ingest) -> dict[str, Any]:
    """What strangers cost this node: held untrusted bulletins against their quota (relay.holding),
    refusals and evictions, key material over budget, and whether re-judging is still running."""
    if ingest.holding is None:
        return {}
    hold = ingest.holding
    rows, size = hold.usage()
    return {
        "rows": rows,
        "rows_limit": hold.limits.rows,
        "bytes": size,
        "bytes_limit": hold.limits.size,
        "refused": hold.refused,
        "evicted": hold.evicted,
        "material_refused": ingest.state.refused,
        "rejudging": ingest.backlog,
    }
