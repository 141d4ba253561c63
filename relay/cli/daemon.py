"""`jarshy daemon`, and the commands that talk to it: `send`, `read`, `status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from relay import paths
from relay.api_client import ApiClient, ApiError, NoDaemon
from relay.cli.bulletins import (
    add_content_arguments,
    build_content,
    parse_duration,
    parse_point,
)
from relay.errors import UserError
from relay.inert import inert_line, quoted
from relay.trust import Status
from relay.wire.fields import (
    KIND_NAMES,
    SEVERITIES,
)


def register(sub: Any) -> None:
    daemon = sub.add_parser(
        "daemon", help="run the relay (simulated mesh when no --radio); `daemon stop` stops it"
    )
    daemon.add_argument(
        "action", nargs="?", choices=["run", "stop"], default="run",
        help="run (default) or stop the running daemon through its API",
    )  # fmt: skip
    daemon.add_argument("--radio", help="serial:/dev/ttyUSB0, serial:auto or tcp:HOST[:PORT]")
    daemon.add_argument("--socket", help="API socket path")
    daemon.add_argument("--simulate", action="store_true", help="the simulated mesh, always")
    daemon.add_argument(
        "--mirror",
        action="store_true",
        help="re-broadcast trusted bulletins as plain text for the Meshtastic phone app "
        "(also JARSHY_MIRROR=1; docs/operators.md)",
    )
    daemon.add_argument("--verbose", action="store_true")
    daemon.set_defaults(handler=daemon_command)

    send = sub.add_parser("send", help="sign and send a bulletin through the running daemon")
    add_content_arguments(send)
    send.add_argument("--socket")
    send.set_defaults(handler=send_command)

    read = sub.add_parser("read", help="print the bulletins the daemon holds")
    read.add_argument("--json", action="store_true", help="one JSON object per line")
    read.add_argument("--plain", action="store_true", help="no badges, for scripts")
    read.add_argument("--follow", action="store_true", help="keep printing new bulletins")
    read.add_argument("--kind", action="append", dest="kinds", choices=KIND_NAMES.values())
    read.add_argument("--trusted", action="store_true", help="trusted only")
    read.add_argument(
        "--status", action="append", dest="statuses", choices=[*map(str, Status), "invalid"]
    )
    read.add_argument("--min-severity", choices=SEVERITIES)
    read.add_argument("--lang")
    read.add_argument("--author", help="16-hex-digit key id")
    read.add_argument("--text", help="containing this text")
    read.add_argument("--limit", type=int, default=20)
    read.add_argument("--socket")
    read.set_defaults(handler=read_command)

    status = sub.add_parser("status", help="the daemon's radio, mesh and queue")
    status.add_argument("--json", action="store_true")
    status.add_argument("--socket")
    status.set_defaults(handler=status_command)


def daemon_command(args: argparse.Namespace) -> int:
    if args.action == "stop":
        return stop_command(args)
    from relay.daemon_open import open_daemon
    from relay.logs import configure_logging

    configure_logging(args.verbose)
    where = paths.Paths.from_env()
    if args.socket:
        where = paths.Paths(where.home, Path(args.socket))

    async def run() -> int:
        daemon = await open_daemon(where, args.radio, simulate=args.simulate, mirror=args.mirror)
        return await daemon.run()

    try:
        code = asyncio.run(run())
    except ValueError as exc:  # e.g. a malformed radio address
        raise UserError(str(exc)) from None
    # Everything is closed and flushed; the meshtastic library may still hold a thread blocked
    # in its 30 s handshake wait (not interruptible), which would delay the exit.  Leave now.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def stop_command(args: argparse.Namespace) -> int:
    """Ask the running daemon to shut down (the API's ``shutdown``) and wait until it is gone."""
    from relay.api_client import daemon_answers

    async def work(api: ApiClient) -> int:
        await api.call("shutdown")
        return 0

    from relay.cli.wipe import wait_for_lock

    with_api(args, work)
    deadline = time.monotonic() + STOP_WAIT
    while daemon_answers(_socket(args)):
        if time.monotonic() > deadline:
            raise UserError(f"the daemon at {_socket(args)} still answers after {STOP_WAIT:g} s")
        time.sleep(0.1)
    if not wait_for_lock(paths.Paths.from_env().lock, max(0.0, deadline - time.monotonic())):
        raise UserError(f"the daemon has not let go of its store after {STOP_WAIT:g} s")
    print(f"daemon stopped ({_socket(args)})")
    return 0


def _socket(args: argparse.Namespace) -> Path:
    return Path(args.socket) if getattr(args, "socket", None) else paths.socket_path()


def with_api(args: argparse.Namespace, work: Callable[[ApiClient], Awaitable[int]]) -> int:
    async def main() -> int:
        try:
            async with ApiClient(_socket(args)) as api:
                return await work(api)
        except NoDaemon:
            raise UserError(
                f"no daemon at {_socket(args)}: start one with `jarshy daemon`"
            ) from None
        except ApiError as exc:
            raise UserError(exc.message) from None

    return asyncio.run(main())


STOP_WAIT = 30.0  # seconds `daemon stop` waits for the daemon to go

BADGES = {
    "trusted": "✔ TRUSTED",
    "unknown_key": "? UNKNOWN KEY",
    "pending_key": "… PENDING",
    "revoked": "✖ REVOKED",
    "invalid": "✖ FORGED",
}
CONTINUATION = "    "  # where a line folded to the terminal's width goes on: never column 0


def format_bulletin(b: dict[str, Any], plain: bool = False) -> str:
    """One bulletin on one line, the verdict first: nothing the author wrote comes before it.

    Every string from the bulletin is inert (relay.inert): its line breaks show as ``↵``, its
    controls and bidi characters as ``\\u{..}``; a self-announced name is a quoted claim and the
    text is quoted after a colon.
    """
    status = str(b["status"])
    badge = inert_line(status) if plain else BADGES.get(status, inert_line(status))
    if b.get("signer_name"):
        who = inert_line(str(b["signer_name"]))
    elif b.get("claimed_name"):
        who = f"claims: {quoted(str(b['claimed_name']))}"
    else:
        who = inert_line(str(b["author"]))
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(b["created"]))
    extra = f" [{inert_line(str(b['severity']))}]" if b.get("severity") else ""
    kind, lang = inert_line(str(b["kind"])), inert_line(str(b["lang"]))
    return f"{badge} {kind}{extra} {when} {who} ({lang}): {inert_line(str(b['text']))}"


def fold(line: str, width: int) -> list[str]:
    """``line`` cut to ``width`` terminal cells, every piece after the first indented.

    A terminal wraps a long line to column 0 by itself, where a text padded to the right length
    could put a fake verdict; on a terminal `read` folds its lines first.
    """
    from rich.cells import cell_len, chop_cells

    if width <= len(CONTINUATION) + 10 or cell_len(line) <= width:
        return [line]
    first, *_ = chop_cells(line, width)
    rest = line[len(first) :]
    return [first] + [CONTINUATION + part for part in chop_cells(rest, width - len(CONTINUATION))]


def send_command(args: argparse.Namespace) -> int:
    build_content(args, bytes(8), int(time.time()))  # argument errors before any prompt

    async def work(api: ApiClient) -> int:
        ids = await api.call("identities")
        names = [i["name"] for i in ids]
        name = args.identity or (names[0] if len(names) == 1 else None)
        if name is None:
            raise UserError(
                "choose an identity with --as NAME"
                if names
                else "no identity: `jarshy keys new NAME`"
            )
        entry = next((i for i in ids if i["name"] == name), None)
        if entry is None:
            raise UserError(f"no identity named {name!r}")
        if not entry["unlocked"]:
            from relay.crypto.keystore import get_passphrase

            await api.call(
                "unlock", identity=name, passphrase=get_passphrase(f"Passphrase for {name}: ")
            )
        params: dict[str, Any] = {"kind": args.kind, "text": args.text, "identity": name}
        if args.lang:
            params["lang"] = args.lang
        if args.expires:
            params["expires"] = parse_duration(args.expires)
        if args.ref:
            params["ref"] = args.ref
        if args.kind == "safety":
            safety = {"severity": args.severity, "event": args.event, "category": args.category,
                      "urgency": args.urgency, "certainty": args.certainty, "area": args.area,
                      "geohash": args.geohash}  # fmt: skip
            if args.point:
                point = parse_point(args.point)
                safety["point"] = [point.latitude, point.longitude, point.radius_m]
            params["safety"] = {k: v for k, v in safety.items() if v is not None}
        result = await api.call("publish", **params)
        print(
            f"bulletin {result['id']}: {result['bytes']} bytes in {result['packets']} "
            f"packet(s), {result['delivery']}"
        )
        return 0

    return with_api(args, work)


def read_command(args: argparse.Namespace) -> int:
    async def work(api: ApiClient) -> int:
        params: dict[str, Any] = {"limit": args.limit}
        if args.kinds:
            params["kinds"] = args.kinds
        statuses = [*(args.statuses or ()), *(["trusted"] if args.trusted else [])]
        if statuses:
            params["statuses"] = statuses
        for name in ("text", "lang", "author", "min_severity"):
            if getattr(args, name):
                params[name] = getattr(args, name)
        if args.follow:
            await api.call("subscribe", events=["bulletin"])
        result = await api.call("query", **params)
        for b in reversed(result["bulletins"]):
            _print(b, args)
        if args.follow:
            async for event in api.events():
                _print(event["data"], args)
        return 0

    return with_api(args, work)


def _print(b: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(b, ensure_ascii=False))
    else:
        line = format_bulletin(b, args.plain)
        if sys.stdout.isatty():
            print("\n".join(fold(line, shutil.get_terminal_size().columns)))
        else:
            print(line)
    sys.stdout.flush()


def say(line: str) -> None:
    """Print one line built from what the daemon reports (radio names, addresses): inert."""
    print(inert_line(line))


def status_command(args: argparse.Namespace) -> int:
    async def work(api: ApiClient) -> int:
        s = await api.call("status")
        if args.json:
            print(json.dumps(s, ensure_ascii=False))
            return 0
        roots = await api.call("trust.list")
        for line in status_lines(s, len(roots), time.time()):
            say(line)
        return 0

    return with_api(args, work)


STATUS_WORDS = {"trusted": "trusted", "unknown_key": "unknown key", "pending_key": "key pending",
                "revoked": "revoked"}  # fmt: skip


def duration(seconds: float) -> str:
    """A duration in words a person reads: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _percent(value: Any) -> str:
    return "not reported" if not isinstance(value, int | float) else f"{value:.1f} %"


def _counted(items: dict[str, int], words: dict[str, str] | None = None) -> str:
    shown = [f"{n} {(words or {}).get(k, k)}" for k, n in items.items() if n]
    return ", ".join(shown) if shown else "none"


def status_lines(s: dict[str, Any], roots: int, now: float) -> list[str]:
    """The ``status`` answer as lines of human text: no Python values, durations in words."""
    link = s["link"]
    sim = " (simulated mesh)" if link.get("simulated") else ""
    lines = [f"link: {link['state']} to {link['address']}{sim}; up {duration(s['uptime_s'])}"]
    radio = s.get("radio") or {}
    if radio:
        known = [str(radio[k]) for k in ("name", "model") if radio.get(k)]
        detail = [f"{label} {radio[k]}" for k, label in
                  (("firmware", "firmware"), ("region", "region"), ("preset", "preset"),
                   ("role", "role")) if radio.get(k)]  # fmt: skip
        lines.append("radio: " + ", ".join(known + detail))
    else:
        lines.append("radio: not connected yet")
    lines.append(
        f"channel utilisation: {_percent(s.get('channel_utilization'))}; "
        f"this radio's transmissions: {_percent(s.get('air_util_tx'))}"
    )
    air = s["airtime"]
    busy = "; channel busy, sending paused" if air.get("busy") else ""
    lines.append(
        f"airtime: {air['used_s']:g} s used of {air['budget_s']:g} s per "
        f"{duration(air['window_s'])}{busy}"
    )
    queue = s["queue"]
    waiting = _counted(queue.get("by_priority") or {})
    dropped = _counted(queue.get("dropped") or {})
    lines.append(
        f"queue: {queue['depth']} waiting"
        + (f" ({waiting})" if queue["depth"] else "")
        + (f"; dropped: {dropped}" if queue.get("dropped") else "")
    )
    lines.append(
        f"nodes heard: {len(s['nodes'])}; bulletins held: {_counted(s['counts'], STATUS_WORDS)}"
    )
    held = s.get("untrusted") or {}
    if held:
        lines.append(
            f"untrusted held: {held['rows']} of {held['rows_limit']} bulletins, "
            f"{held['bytes'] // 1024} of {held['bytes_limit'] // 1024} KiB; "
            f"refused {held['refused']}, evicted {held['evicted']}"
            + ("; re-judging stored verdicts" if held.get("rejudging") else "")
        )
    for ignored in link.get("ignored_radios", []):
        until = time.strftime("%H:%M", time.localtime(ignored["until"]))
        left = duration(ignored["until"] - now)
        lines.append(f"ignored (spam brake): {ignored['node']} for {left} more (until {until})")
    if not roots:
        lines.append(
            "WARNING: this node trusts no key, so it relays no news (strangers' bulletins are "
            "held, not forwarded): add a newsroom's key with `jarshy trust add SHARE` after "
            "checking its fingerprint (docs/operators.md §9)"
        )
    else:
        lines.append(f"trusted roots: {roots}")
    return lines
