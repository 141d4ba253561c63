"""The local API's methods (docs/api.md), served from a :class:`~relay.daemon_port.DaemonPort`.

The methods see the daemon only through that port (the daemon hands itself in); nothing here
imports relay.daemon.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from typing import Any

from relay import __version__
from relay.api import ApiFailure, Handler
from relay.bundle import RECORD_KEY, BundleError, load_bundle
from relay.cap.export import MSG_TYPES, CapExportError, alert_xml
from relay.compose import DraftError, build, draft_from_params
from relay.crypto.keys import (
    Identity,
    ShareError,
    decode_share,
    fingerprint,
    generate_identity,
    key_id,
)
from relay.crypto.keystore import DuressEntered, KeystoreError, WrongPassphrase
from relay.daemon_port import DaemonPort
from relay.daemon_views import bulletin_json
from relay.ingest import Outcome
from relay.lora import PRESETS, packet_airtime
from relay.node.core import Rejected
from relay.store import Query, Store, StoredBulletin
from relay.trust import Status
from relay.wire import bulletin as wire
from relay.wire.errors import WireError
from relay.wire.fields import KIND_BY_NAME, KIND_NAMES, SEVERITIES
from relay.wire.fragments import split

MAX_LIMIT = 500
IMPORT_SLICE = 64  # bundle records per transaction; the event loop runs between slices
IMPORT_PAUSE = 0.001  # seconds between slices


def handlers(daemon: DaemonPort) -> dict[str, Handler]:
    """Method name -> coroutine taking params, bound to ``daemon``."""

    def store() -> Store:
        return daemon.store

    def by_prefix(params: dict[str, Any]) -> tuple[str, list[StoredBulletin]]:
        """The bulletins whose id starts with ``params["id"]`` (6 to 16 hex digits); never none."""
        prefix = str(params.get("id", ""))
        if not re.fullmatch(r"[0-9a-fA-F]{6,16}", prefix):
            raise ApiFailure("bad-params", "id must be 6 to 16 hex digits")
        rows = store().get_by_prefix(prefix)
        if not rows:
            raise ApiFailure("not-found", f"no bulletin {prefix}")
        return prefix, rows

    async def hello(params: dict[str, Any]) -> Any:
        _trust_own_identities(daemon)
        return {"api": 1, "version": __version__, "simulated": daemon.simulate}

    async def get_status(params: dict[str, Any]) -> Any:
        return daemon.status()

    async def query(params: dict[str, Any]) -> Any:
        q = _query(params)
        wall = daemon.wall()
        found = [bulletin_json(r, daemon.deliveries.get(r.id), wall) for r in store().query(q)]
        total = store().count(q)
        if "invalid" in (params.get("statuses") or ["invalid"]) and q.offset == 0:
            forged = [f for f in daemon.forgeries if _forgery_matches(f, q)]
            total += len(forged)
            found = sorted(found + forged, key=lambda b: -b["received_at"])[: q.limit]
        return {"bulletins": found, "total": total}

    async def get(params: dict[str, Any]) -> Any:
        _, rows = by_prefix(params)
        row, wall = rows[0], daemon.wall()
        refers = store().get(row.ref) if row.ref else None
        if refers is not None and refers.author != row.author:
            refers = None  # only the original author may correct or retract (protocol §2)
        return {
            "bulletin": bulletin_json(row, daemon.deliveries.get(row.id), wall),
            "raw": row.raw.hex(),
            "corrections": [bulletin_json(r, None, wall) for r in store().referring(row.id)],
            "refers_to": None if refers is None else bulletin_json(refers, None, wall),
        }

    async def publish(params: dict[str, Any]) -> Any:
        identity = _identity(daemon, params.get("identity"))
        _trust_own_identities(daemon)
        raw = _sign(params, identity, daemon.wall())
        try:
            ident, packets = daemon.publish_local(raw)
        except Rejected as exc:
            raise ApiFailure("rejected", str(exc)) from None
        return {"id": ident.hex(), "bytes": len(raw), "packets": packets, "delivery": "queued"}

    async def size(params: dict[str, Any]) -> Any:
        scratch = generate_identity("size")
        if not str(params.get("text", "")).strip():
            return {
                "bytes": 0,
                "packets": 0,
                "fits": True,
                "airtime_ms": {},
                "preset": daemon.radio_preset(),
            }
        raw = _sign({**params, "ref": params.get("ref") or "00" * 8}, scratch, daemon.wall())
        packets = split(raw)
        airtime = {
            name: round(1000 * sum(packet_airtime(len(p), name) for p in packets))
            for name in PRESETS
        }
        return {"bytes": len(raw), "packets": len(packets), "fits": len(packets) == 1,
                "airtime_ms": airtime, "preset": daemon.radio_preset()}  # fmt: skip

    async def identities(params: dict[str, Any]) -> Any:
        _trust_own_identities(daemon)
        return [
            {"name": i.name, "key_id": i.key_id.hex(), "fingerprint": i.fingerprint,
             "unlocked": i.name in daemon.unlocked}
            for i in daemon.keystore.list()
        ]  # fmt: skip

    async def unlock(params: dict[str, Any]) -> Any:
        name = str(params.get("identity", ""))
        try:
            # Argon2id (256 MiB, seconds on a Pi) in a worker: the radio and other clients go on
            passphrase = str(params.get("passphrase", ""))
            identity = await asyncio.to_thread(daemon.keystore.unlock, name, passphrase)
        except DuressEntered:  # the home is wiped: stop, looking like a wrong passphrase
            _stop_soon(daemon)
            raise ApiFailure("wrong-passphrase", f"wrong passphrase for {name!r}") from None
        except WrongPassphrase:
            raise ApiFailure("wrong-passphrase", f"wrong passphrase for {name!r}") from None
        except KeystoreError as exc:
            raise ApiFailure("not-found", str(exc)) from None
        daemon.unlocked[identity.name] = identity
        _trust_own_identities(daemon)
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
        changed = daemon.ingest.add_root(shared.public_key, name, daemon.wall())
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
        or damaged file stores nothing.  Its records go in slices of ``IMPORT_SLICE``, one
        transaction each, and the radio and other clients are served between slices."""
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise ApiFailure("bad-params", "path must be a file name")
        try:
            records = await asyncio.to_thread(load_bundle, path)
        except BundleError as exc:
            raise ApiFailure("bad-params", str(exc)) from None
        counts = Counter[str]()
        for start in range(0, len(records), IMPORT_SLICE):
            now = daemon.wall()
            with store().batch():
                for kind, payload in records[start : start + IMPORT_SLICE]:
                    if kind == RECORD_KEY:
                        daemon.ingest.learn_key(payload, now)
                        continue
                    result = daemon.ingest.ingest(payload, now, "bundle")
                    counts[str(result.outcome)] += 1
                    if result.outcome is Outcome.ACCEPTED and result.bulletin is not None:
                        daemon.after_import(result)
            # A 64 MiB bundle must not stall the radio for minutes: what is ready (packets,
            # requests, events) runs to the end while the loop waits this short while.
            await asyncio.sleep(IMPORT_PAUSE)
        return {"accepted": counts["accepted"], "duplicate": counts["duplicate"],
                "rejected": counts["rejected"]}  # fmt: skip

    async def trust_remove(params: dict[str, Any]) -> Any:
        text = str(params.get("key_id", ""))
        if not re.fullmatch(r"[0-9a-fA-F]{16}", text):
            raise ApiFailure("bad-params", "key_id must be 16 hex digits")
        changed = daemon.ingest.remove_root(bytes.fromhex(text), daemon.wall())
        daemon.verdicts_changed(changed)
        return {"changed": len(changed)}

    async def cap_export(params: dict[str, Any]) -> Any:
        """A trusted (or our own, not revoked) safety alert, correction or retraction as CAP 1.2
        (docs/cap.md): the same document as `jarshy export --cap`."""
        prefix, rows = by_prefix(params)
        if len(rows) > 1:
            raise ApiFailure(
                "bad-params", f"{prefix} names {len(rows)} bulletins: give more digits"
            )
        row = rows[0]
        own = {info.key_id for info in daemon.keystore.list()}
        mine = row.author in own and row.status is not Status.REVOKED
        if row.status is not Status.TRUSTED and not mine:
            raise ApiFailure(
                "bad-params",
                f"{row.id.hex()}: its verdict is {row.status}; only trusted bulletins and this "
                "node's own are given as CAP (a CAP reader cannot see Jarshy's verdict)",
            )
        if row.kind not in MSG_TYPES:
            raise ApiFailure("bad-params", f"a {KIND_NAMES[row.kind]} bulletin has no CAP form")
        try:
            bulletin = wire.decode(row.raw)
        except WireError as exc:
            raise ApiFailure("bad-params", f"{row.id.hex()} does not decode ({exc})") from None
        original = None
        if row.ref is not None:
            held = store().get(row.ref)
            if held is None:
                raise ApiFailure(
                    "not-found", f"the alert it changes ({row.ref.hex()}) is not held here"
                )
            original = wire.decode(held.raw)
        try:
            xml = alert_xml(bulletin, original, row.signer_name)
        except CapExportError as exc:
            raise ApiFailure("bad-params", f"{row.id.hex()}: {exc}") from None
        return {"id": row.id.hex(), "kind": KIND_NAMES[row.kind],
                "msg_type": MSG_TYPES[row.kind], "xml": xml.decode("utf-8")}  # fmt: skip

    async def shutdown(params: dict[str, Any]) -> Any:
        """Stop the daemon, as SIGTERM does, once this answer is on its way."""
        _stop_soon(daemon)
        return {"stopping": True}

    return {
        "hello": hello, "status": get_status, "query": query, "get": get, "publish": publish,
        "size": size, "identities": identities, "unlock": unlock, "trust.list": trust_list,
        "trust.add": trust_add, "trust.remove": trust_remove, "import": import_bundle,
        "share.decode": share_decode, "shutdown": shutdown, "cap.export": cap_export,
    }  # fmt: skip


def _trust_own_identities(daemon: DaemonPort) -> None:
    """Make each identity in the keystore a trusted root named after it, if it is not one yet:
    a journalist's own bulletins are trusted on their own node (public keys need no passphrase).
    A key revoked stays revoked: the trust graph puts revocations above roots."""
    roots = {kid for kid, _, _ in daemon.store.roots()}
    for info in daemon.keystore.list():
        if info.key_id not in roots:
            changed = daemon.ingest.add_root(info.public_key, info.name, daemon.wall())
            daemon.verdicts_changed(changed)


def _stop_soon(daemon: DaemonPort) -> None:
    """Set the daemon's stop event after the current answer has been written."""
    asyncio.get_running_loop().call_soon(daemon.stop.set)


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


def _identity(daemon: DaemonPort, name: Any) -> Identity:
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


def _sign(params: dict[str, Any], identity: Identity, wall: float) -> bytes:
    """Build and sign a bulletin from API params (relay.compose: the same rules as the CLI)."""
    try:
        content = build(draft_from_params(params), identity.key_id, int(wall))
        return wire.sign(content, identity).raw
    except DraftError as exc:
        raise ApiFailure("bad-params", f"{exc.field}: {exc.message}") from None
    except (ValueError, WireError) as exc:
        raise ApiFailure("bad-params", f"cannot make this bulletin: {exc}") from None
