"""The local API's methods (docs/api.md), implemented on a running :class:`Daemon`."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from relay.api import ApiFailure, Handler
from relay.crypto.keys import ShareError, decode_share, fingerprint, key_id
from relay.crypto.keystore import Keystore, KeystoreError, WrongPassphrase
from relay.lifetime import is_expired
from relay.store import Query, StoredBulletin
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import KIND_BY_NAME, KIND_NAMES, SEVERITIES, Kind
from relay.wire.fragments import split

if TYPE_CHECKING:
    from relay.daemon import Daemon
    from relay.node.core import Delivery

MAX_LIMIT = 500


def bulletin_json(row: StoredBulletin, delivery: Delivery | None = None) -> dict[str, Any]:
    """A stored bulletin as the API's Bulletin object."""
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
        "expired": is_expired(row.expires_at, time.time()),
        "lang": row.lang,
        "text": row.text,
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
    import hashlib

    c = bulletin.content
    safety = c.safety
    return {
        "id": hashlib.blake2b(bulletin.raw, digest_size=8).hexdigest(),
        "kind": KIND_NAMES[c.kind], "author": c.author.hex(), "created": c.created,
        "received_at": now, "expires_at": None, "expired": False, "lang": c.lang,
        "text": c.text, "severity": safety.severity if safety else None,
        "event": safety.event if safety else None, "area": safety.area if safety else None,
        "ref": c.ref.hex() if c.ref else None, "status": "invalid", "reason": reason,
        "signer_name": None, "claimed_name": None, "chain": None, "source": "radio",
        "hops": hops, "snr": snr, "delivery": None, "held_by": None,
    }  # fmt: skip


def status(daemon: Daemon) -> dict[str, Any]:
    info = daemon.link.info if daemon.link is not None else None
    now = time.time()
    counts: Counter[str] = Counter()
    if daemon.store is not None:
        for state in Status:
            counts[str(state)] = daemon.store.count(Query(statuses=(state,)))
    queue = daemon.queue
    names = {100: "revocation", 90: "safety extreme", 80: "safety severe", 70: "safety moderate",
             60: "safety minor", 50: "safety", 40: "correction", 30: "keys", 20: "news", 0: "sync",
             -1: "beacon"}  # fmt: skip
    return {
        "simulated": daemon.simulate,
        "link": daemon.link_status(),
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
            "used_s": round(queue.used_airtime(daemon.transmitter.clock()), 2),
            "window_s": 3600,
            "busy": queue.busy(daemon.transmitter.clock()),
        },
        "queue": {
            "depth": len(queue),
            "by_priority": {names.get(p, str(p)): n for p, n in queue.depth_by_priority().items()},
            "dropped": dict(queue.dropped),
        },
        "counts": dict(counts),
        "untrusted": _untrusted(daemon),
        "uptime_s": round(now - daemon.started_at),
    }


def _untrusted(daemon: Daemon) -> dict[str, Any]:
    """What strangers cost this node: held untrusted bulletins against their quota (relay.holding),
    refusals and evictions, key material over budget, and whether re-judging is still running."""
    ingest = daemon.ingest
    if ingest is None or ingest.holding is None:
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


def handlers(daemon: Daemon) -> dict[str, Handler]:
    """Method name -> coroutine taking params, bound to ``daemon``."""

    def store() -> Any:
        assert daemon.store is not None
        return daemon.store

    async def hello(params: dict[str, Any]) -> Any:
        from relay import __version__

        return {"api": 1, "version": __version__, "simulated": daemon.simulate}

    async def get_status(params: dict[str, Any]) -> Any:
        return status(daemon)

    async def query(params: dict[str, Any]) -> Any:
        q = _query(params)
        found = [bulletin_json(r, daemon.deliveries.get(r.id)) for r in store().query(q)]
        total = store().count(q)
        if "invalid" in (params.get("statuses") or ["invalid"]) and q.offset == 0:
            forged = [f for f in daemon.forgeries if _forgery_matches(f, q)]
            total += len(forged)
            found = sorted(found + forged, key=lambda b: -b["received_at"])[: q.limit]
        return {"bulletins": found, "total": total}

    async def get(params: dict[str, Any]) -> Any:
        prefix = str(params.get("id", ""))
        if not re.fullmatch(r"[0-9a-fA-F]{6,16}", prefix):
            raise ApiFailure("bad-params", "id must be 6 to 16 hex digits")
        rows = store().get_by_prefix(prefix)
        if not rows:
            raise ApiFailure("not-found", f"no bulletin {prefix}")
        row = rows[0]
        refers = store().get(row.ref) if row.ref else None
        if refers is not None and refers.author != row.author:
            refers = None  # only the original author may correct or retract (protocol §2)
        return {
            "bulletin": bulletin_json(row, daemon.deliveries.get(row.id)),
            "raw": row.raw.hex(),
            "corrections": [bulletin_json(r) for r in store().referring(row.id)],
            "refers_to": None if refers is None else bulletin_json(refers),
        }

    async def publish(params: dict[str, Any]) -> Any:
        identity = _identity(daemon, params.get("identity"))
        raw = _sign(params, identity)
        ident, packets = daemon.publish_local(raw)
        return {"id": ident.hex(), "bytes": len(raw), "packets": packets, "delivery": "queued"}

    async def size(params: dict[str, Any]) -> Any:
        from relay.crypto.keys import generate_identity
        from relay.lora import PRESETS, packet_airtime

        scratch = generate_identity("size")
        if not str(params.get("text", "")).strip():
            return {
                "bytes": 0,
                "packets": 0,
                "fits": True,
                "airtime_ms": {},
                "preset": daemon.radio_preset(),
            }
        raw = _sign({**params, "ref": params.get("ref") or "00" * 8}, scratch)
        packets = split(raw)
        airtime = {
            name: round(1000 * sum(packet_airtime(len(p), name) for p in packets))
            for name in PRESETS
        }
        return {"bytes": len(raw), "packets": len(packets), "fits": len(packets) == 1,
                "airtime_ms": airtime, "preset": daemon.radio_preset()}  # fmt: skip

    async def identities(params: dict[str, Any]) -> Any:
        return [
            {"name": i.name, "key_id": i.key_id.hex(), "fingerprint": i.fingerprint,
             "unlocked": i.name in daemon.unlocked}
            for i in Keystore().list()
        ]  # fmt: skip

    async def unlock(params: dict[str, Any]) -> Any:
        name = str(params.get("identity", ""))
        try:
            # Argon2id (256 MiB, seconds on a Pi) in a worker: the radio and other clients go on
            passphrase = str(params.get("passphrase", ""))
            identity = await asyncio.to_thread(Keystore().unlock, name, passphrase)
        except WrongPassphrase:
            raise ApiFailure("wrong-passphrase", f"wrong passphrase for {name!r}") from None
        except KeystoreError as exc:
            raise ApiFailure("not-found", str(exc)) from None
        daemon.unlocked[identity.name] = identity
        return {
            "name": identity.name,
            "key_id": identity.key_id.hex(),
            "fingerprint": identity.fingerprint,
        }

    async def trust_list(params: dict[str, Any]) -> Any:
        return [
            {"name": name, "key_id": kid.hex(), "fingerprint": fingerprint(pk)}
            for kid, pk, name in store().roots()
        ]

    async def trust_add(params: dict[str, Any]) -> Any:
        try:
            shared = decode_share(str(params.get("share", "")))
        except ShareError as exc:
            raise ApiFailure("bad-params", f"not a valid share string ({exc})") from None
        name = str(params.get("name") or shared.name or shared.fingerprint)
        assert daemon.ingest is not None
        changed = daemon.ingest.add_root(shared.public_key, name, time.time())
        daemon.verdicts_changed(changed)
        return {"name": name, "key_id": key_id(shared.public_key).hex(),
                "fingerprint": shared.fingerprint, "changed": len(changed)}  # fmt: skip

    async def share_decode(params: dict[str, Any]) -> Any:
        try:
            shared = decode_share(str(params.get("share", "")))
        except ShareError as exc:
            raise ApiFailure("bad-params", f"not a valid share string ({exc})") from None
        return {"name": shared.name, "fingerprint": shared.fingerprint,
                "key_id": key_id(shared.public_key).hex()}  # fmt: skip

    async def import_bundle(params: dict[str, Any]) -> Any:
        """Take in a bundle file through the same pipeline as the radio.  The file is read in a
        worker thread, regular files only, under ``MAX_BUNDLE_BYTES`` (relay/bundle.py); a refused
        or damaged file stores nothing."""
        import asyncio

        from relay.bundle import RECORD_KEY, BundleError, load_bundle
        from relay.ingest import Outcome

        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise ApiFailure("bad-params", "path must be a file name")
        try:
            records = await asyncio.to_thread(load_bundle, path)
        except BundleError as exc:
            raise ApiFailure("bad-params", str(exc)) from None
        assert daemon.ingest is not None
        counts = Counter[str]()
        now = time.time()
        with store().batch():
            for kind, payload in records:
                if kind == RECORD_KEY:
                    daemon.ingest.learn_key(payload, now)
                    continue
                result = daemon.ingest.ingest(payload, now, "bundle")
                counts[str(result.outcome)] += 1
                if result.outcome is Outcome.ACCEPTED and result.bulletin is not None:
                    daemon.after_import(result)
        return {"accepted": counts["accepted"], "duplicate": counts["duplicate"],
                "rejected": counts["rejected"]}  # fmt: skip

    async def trust_remove(params: dict[str, Any]) -> Any:
        text = str(params.get("key_id", ""))
        if not re.fullmatch(r"[0-9a-fA-F]{16}", text):
            raise ApiFailure("bad-params", "key_id must be 16 hex digits")
        assert daemon.ingest is not None
        changed = daemon.ingest.remove_root(bytes.fromhex(text), time.time())
        daemon.verdicts_changed(changed)
        return {"changed": len(changed)}

    return {
        "hello": hello, "status": get_status, "query": query, "get": get, "publish": publish,
        "size": size, "identities": identities, "unlock": unlock, "trust.list": trust_list,
        "trust.add": trust_add, "trust.remove": trust_remove, "import": import_bundle,
        "share.decode": share_decode,
    }  # fmt: skip


def _forgery_matches(f: dict[str, Any], q: Query) -> bool:
    if q.kinds and f["kind"] not in {KIND_NAMES[k] for k in q.kinds}:
        return False
    if q.text and q.text.casefold() not in f["text"].casefold():
        return False
    return (q.lang is None or f["lang"] == q.lang) and (
        q.since is None or f["received_at"] >= q.since
    )


def _query(params: dict[str, Any]) -> Query:
    """The query's filters from API params; a wrong type is the client's error (bad-params)."""

    def strings(name: str) -> list[str]:
        value = params.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ApiFailure("bad-params", f"{name} must be a list of strings")
        return value

    def number(name: str, default: float | None) -> float | None:
        value = params.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise ApiFailure("bad-params", f"{name} must be a number")
        if abs(value) > 1e15:
            raise ApiFailure("bad-params", f"{name} is out of range")
        return float(value)

    def text(name: str) -> str | None:
        value = params.get(name)
        if value is not None and not isinstance(value, str):
            raise ApiFailure("bad-params", f"{name} must be a string")
        return value or None

    author = text("author")
    if author is not None and not re.fullmatch(r"[0-9a-fA-F]{16}", author):
        raise ApiFailure("bad-params", "author must be a key id of 16 hex digits")
    severity = text("min_severity")
    statuses = {str(s) for s in Status}
    return Query(
        kinds=tuple(KIND_BY_NAME[k] for k in strings("kinds") if k in KIND_BY_NAME),
        min_severity=severity if severity in SEVERITIES else None,
        lang=text("lang"),
        statuses=tuple(Status(s) for s in strings("statuses") if s in statuses),
        author=None if author is None else bytes.fromhex(author),
        since=number("since", None),
        before=number("before", None),
        text=text("text"),
        limit=max(0, min(int(number("limit", 100) or 0), MAX_LIMIT)),
        offset=max(0, int(number("offset", 0) or 0)),
    )


def _identity(daemon: Daemon, name: Any) -> Any:
    if name:
        identity = daemon.unlocked.get(str(name))
        if identity is None:
            raise ApiFailure("locked", f"identity {name!r} is locked: call unlock first")
        return identity
    if len(daemon.unlocked) == 1:
        return next(iter(daemon.unlocked.values()))
    if not daemon.unlocked:
        raise ApiFailure("locked", "no identity unlocked: call unlock first")
    raise ApiFailure("bad-params", "several identities unlocked: name one with 'identity'")


def _sign(params: dict[str, Any], identity: Any) -> bytes:
    """Build and sign a bulletin from API params (relay.compose: the same rules as the CLI)."""
    from relay.compose import DraftError, build, draft_from_params
    from relay.wire.errors import WireError

    try:
        content = build(draft_from_params(params), identity.key_id, int(time.time()))
        return wire.sign(content, identity).raw
    except DraftError as exc:
        raise ApiFailure("bad-params", f"{exc.field}: {exc.message}") from None
    except (ValueError, WireError) as exc:
        raise ApiFailure("bad-params", f"cannot make this bulletin: {exc}") from None
