"""`jarshy wipe`: the panic wipe of this node's home (keys, store, logs, config).

The key files go first (nothing holds them open), then a running daemon is asked to stop through
its API (`shutdown`) and awaited until its lock is free, then everything else (relay.wipe).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import os
import sys
import time
from pathlib import Path
from typing import Any

from relay import paths
from relay.api_client import ApiClient, ApiError, NoDaemon
from relay.cli.human import language, tr
from relay.errors import UserError
from relay.i18n import decimal
from relay.wipe import WipeRefused, WipeReport, check_home, wipe_home

STOP_TIMEOUT = 15.0  # seconds to wait for a running daemon to let go of the store


def register(sub: Any) -> None:
    wipe = sub.add_parser(
        "wipe", help="destroy keys, store, logs and config of this node (panic wipe)"
    )
    wipe.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    wipe.add_argument("--socket", help="the running daemon's API socket")
    wipe.set_defaults(handler=wipe_command)


def wipe_command(args: argparse.Namespace) -> int:
    where = paths.Paths.from_env()
    socket = Path(args.socket) if args.socket else where.socket
    try:
        home = check_home(where.home)
    except WipeRefused as exc:
        raise UserError(str(exc)) from None
    if not args.yes:
        if not sys.stdin.isatty():
            raise UserError(tr("wipe_need_yes"))
        answer = input(tr("wipe_question", home=home))
        if answer.strip().lower() != "yes":
            print(tr("wipe_nothing"))
            return 1
    report = wipe(home, socket)
    lang = language()
    print(tr("wipe_done", home=home, files=report.files, mb=decimal(report.bytes / 1e6, lang),
             seconds=decimal(report.seconds, lang, 2)))  # fmt: skip
    for path, why in report.failed:
        print(tr("wipe_failed_path", path=path, why=why), file=sys.stderr)
    if report.failed:
        return 1
    print(tr("wipe_flash"))
    return 0


def wipe(home: Path, socket: Path, timeout: float = STOP_TIMEOUT) -> WipeReport:
    """Keys first, then stop a running daemon (bounded wait), then the rest of ``home``."""
    started = time.perf_counter()
    report = wipe_home(home, keys_only=True)
    stopped = asyncio.run(stop_daemon(socket))
    if stopped:
        wait_for_lock(home / "daemon.lock", timeout)
    rest = wipe_home(home) if home.exists() else WipeReport()
    report.files += rest.files
    report.bytes += rest.bytes
    report.failed += rest.failed
    report.seconds = time.perf_counter() - started
    return report


async def stop_daemon(socket: Path) -> bool:
    """Ask the daemon on ``socket`` to shut down; False if none answers."""
    try:
        async with ApiClient(socket) as api:
            await api.call("shutdown")
    except NoDaemon:
        return False
    except (ApiError, ConnectionError):
        pass  # it went away while answering: stopping all the same
    return True


def wait_for_lock(lock: Path, timeout: float) -> bool:
    """True once nobody holds the daemon's lock on ``lock`` (False after ``timeout`` s)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            if time.monotonic() > deadline:
                return False
        else:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            return True
        finally:
            os.close(fd)
        time.sleep(0.02)


def wipe_on_duress(keystore_dir: Path) -> None:
    """A ``Keystore(on_duress=...)`` hook for CLI prompts: the same order as `jarshy wipe`
    (keys, then a running daemon stopped through its API, then the rest), so a daemon still
    running cannot write into the home after it was wiped.  Quiet: the caller reports a wrong
    passphrase."""
    where = paths.Paths.from_env()
    home = keystore_dir.parent if keystore_dir.name == "keys" else keystore_dir
    with contextlib.suppress(WipeRefused, OSError):
        wipe(home, where.socket)
