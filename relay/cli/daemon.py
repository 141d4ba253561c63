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
from relay.cli.human import plain_wanted, tr
from relay.cli.read_view import fold, format_bulletin, plain_block
from relay.cli.status_text import duration, status_lines
from relay.errors import UserError
from relay.inert import inert_line
from relay.trust import Status
from relay.wire.fields import (
    KIND_NAMES,
    SEVERITIES,
)

# The views live in relay.cli.read_view and relay.cli.status_text; named here for their callers.
__all__ = ["duration", "fold", "format_bulletin", "register", "status_lines", "with_api"]


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
    daemon.add_argument(
        "--bridge",
        metavar="URL",
        help="join other meshes through an MQTT broker: mqtts://USER@HOST[:PORT]/NET "
        "(also JARSHY_BRIDGE or bridge.toml; password from JARSHY_BRIDGE_PASSWORD; docs/bridge.md)",
    )
    daemon.add_argument("--verbose", action="store_true")
    daemon.set_defaults(handler=daemon_command)

    send = sub.add_parser("send", help="sign and send a bulletin through the running daemon")
    add_content_arguments(send)
    send.add_argument("--socket")
    send.set_defaults(handler=send_command)

    read = sub.add_parser("read", help="print the bulletins the daemon holds")
    read.add_argument("--json", action="store_true", help="one JSON object per line")
    read.add_argument(
        "--plain", action="store_true",
        help="screen-reader friendly: one block of labelled lines per bulletin, the verdict as a "
        "word first, no symbols or box drawing (also JARSHY_PLAIN=1)",
    )  # fmt: skip
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
        daemon = await open_daemon(
            where, args.radio, simulate=args.simulate, mirror=args.mirror, bridge=args.bridge
        )
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
            raise UserError(tr("err_daemon_answers", socket=_socket(args), s=f"{STOP_WAIT:g}"))
        time.sleep(0.1)
    if not wait_for_lock(paths.Paths.from_env().lock, max(0.0, deadline - time.monotonic())):
        raise UserError(tr("err_daemon_lock", s=f"{STOP_WAIT:g}"))
    print(tr("daemon_stopped", socket=_socket(args)))
    return 0


def _socket(args: argparse.Namespace) -> Path:
    return Path(args.socket) if getattr(args, "socket", None) else paths.socket_path()


def with_api(args: argparse.Namespace, work: Callable[[ApiClient], Awaitable[int]]) -> int:
    async def main() -> int:
        try:
            async with ApiClient(_socket(args)) as api:
                return await work(api)
        except NoDaemon:
            raise UserError(tr("err_no_daemon", socket=_socket(args))) from None
        except ApiError as exc:
            raise UserError(exc.message) from None

    return asyncio.run(main())


STOP_WAIT = 30.0  # seconds `daemon stop` waits for the daemon to go


def send_command(args: argparse.Namespace) -> int:
    build_content(args, bytes(8), int(time.time()))  # argument errors before any prompt

    async def work(api: ApiClient) -> int:
        ids = await api.call("identities")
        names = [i["name"] for i in ids]
        name = args.identity or (names[0] if len(names) == 1 else None)
        if name is None:
            raise UserError(
                tr("err_several_ids", names=", ".join(names)) if names else tr("err_no_identity")
            )
        entry = next((i for i in ids if i["name"] == name), None)
        if entry is None:
            raise UserError(tr("err_no_such_identity", name=repr(name)))
        if not entry["unlocked"]:
            from relay.crypto.keystore import get_passphrase

            await api.call(
                "unlock",
                identity=name,
                passphrase=get_passphrase(tr("passphrase_prompt", name=name)),
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
        await announce_packets(api, params)
        result = await api.call("publish", **params)
        delivery = result.get("delivery")
        print(tr("sent_cli", id=result["id"], bytes=result["bytes"], packets=result["packets"],
                 delivery=tr(f"dl_{delivery}") if delivery else "—"))  # fmt: skip
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
        plain = plain_wanted(args.plain)
        lines = plain_block(b, time.time()) if plain else [format_bulletin(b)]
        for line in lines:
            if sys.stdout.isatty():
                print("\n".join(fold(line, shutil.get_terminal_size().columns)))
            else:
                print(line)
    sys.stdout.flush()


async def announce_packets(api: ApiClient, params: dict[str, Any]) -> None:
    """Before sending a text that needs more than one radio packet, say so on stderr: how many
    packets, their airtime, and how many characters of it one packet holds."""
    size = await api.call("size", **params)
    if int(size.get("packets") or 1) <= 1:
        return
    from relay.cli.sizes import multi_packet_note

    print(multi_packet_note(params, size), file=sys.stderr)


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
