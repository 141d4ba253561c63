"""The panic wipe: destroy a Jarshy home (keys, store, logs, config) in well under two seconds.

Every regular file is overwritten with zeros, flushed to the device, truncated and unlinked, the
key files first (they matter most and nothing holds them open), then the SQLite stores with their
``-wal``/``-shm`` files, then everything else; symbolic links are unlinked, never followed.  What
an overwrite cannot reach on flash media (wear levelling, journals, swap) is in
docs/threat-model.md "What a wipe cannot guarantee".

Pure file work: stopping a running daemon first is the caller's (relay/cli/wipe.py).
"""

from __future__ import annotations

import contextlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 20  # bytes of zeros written per call
# Names that only a Jarshy home holds: a directory with none of them is not wiped.
MARKERS = ("keys", "jarshy.sqlite3", "simulated.sqlite3", "daemon.lock", "jarshy.sock")
_ZEROS = bytes(CHUNK)


class WipeRefused(Exception):
    """The directory does not look like a Jarshy home (or is one nobody should wipe)."""


@dataclass
class WipeReport:
    """What a wipe did: files overwritten, bytes overwritten, failures (path, reason), seconds."""

    files: int = 0
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def check_home(home: Path) -> Path:
    """``home`` resolved, if it is a Jarshy home that may be wiped; else ``WipeRefused``."""
    resolved = home.resolve()
    forbidden = {Path("/").resolve(), Path.home().resolve()}
    if resolved in forbidden or len(resolved.parts) < 2:
        raise WipeRefused(f"{home} is not a Jarshy home: refusing to wipe it")
    if not resolved.is_dir():
        raise WipeRefused(f"{home}: no such directory (nothing to wipe)")
    if not any((resolved / name).exists() or (resolved / name).is_symlink() for name in MARKERS):
        raise WipeRefused(
            f"{home} holds no Jarshy keys or store: refusing to wipe a directory that "
            "may be something else"
        )
    return resolved


def overwrite(path: Path, report: WipeReport) -> None:
    """Overwrite one regular file with zeros, flush it to the device, truncate and unlink it.
    A symbolic link is only unlinked; a socket or FIFO only unlinked."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    try:
        if stat.S_ISREG(info.st_mode):
            fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
            try:
                remaining = info.st_size
                while remaining > 0:
                    remaining -= os.write(fd, _ZEROS[: min(CHUNK, remaining)])
                os.fsync(fd)
                os.ftruncate(fd, 0)
                os.fsync(fd)
            finally:
                os.close(fd)
            report.files += 1
            report.bytes += info.st_size
        path.unlink()
    except FileNotFoundError:
        return
    except OSError as exc:
        report.failed.append((str(path), exc.strerror or str(exc)))


def _order(path: Path) -> int:
    """Keys first, then the stores (the database before its WAL), then the rest."""
    name = path.name
    if "keys" in path.parts[-2:-1] or name.endswith(".key") or name == "duress":
        return 0
    if ".sqlite3" in name:
        return 1
    return 2


def _files(root: Path) -> list[Path]:
    """Every entry under ``root`` that is not a directory (links included, not followed)."""
    found: list[Path] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        base = Path(directory)
        found.extend(base / name for name in filenames)
        found.extend(base / d for d in dirnames if (base / d).is_symlink())
    return found


def wipe_files(root: Path, report: WipeReport | None = None) -> WipeReport:
    """Overwrite and remove everything under ``root`` (no safety check: see :func:`wipe_home`),
    then the emptied directories, ``root`` itself last."""
    report = report if report is not None else WipeReport()
    for path in sorted(_files(root), key=_order):
        overwrite(path, report)
    for directory, _, _ in sorted(os.walk(root), key=lambda d: -len(d[0])):
        with contextlib.suppress(OSError):
            os.rmdir(directory)
    with contextlib.suppress(OSError):
        _fsync_directory(root.parent)
    return report


def wipe_home(home: Path, *, keys_only: bool = False) -> WipeReport:
    """Wipe a Jarshy home (``check_home`` first); with ``keys_only`` only its ``keys`` folder
    (the first step while a daemon is still being stopped)."""
    started = time.perf_counter()
    resolved = check_home(home)
    report = wipe_files(resolved / "keys")
    if not keys_only:
        wipe_files(resolved, report)
    report.seconds = time.perf_counter() - started
    return report


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
