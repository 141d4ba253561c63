"""Bundles: signed bulletins and public keys in one file for a USB stick (sneakernet).

Layout: the 14-byte magic ``JARSHY-BUNDLE`` + version byte 1, then records of
``type (1) | length (2, big-endian) | data``.  Type 1 = a bulletin's bytes, type 2 = a 32-byte
public key.  Nothing in a bundle is trusted because of the bundle: every bulletin is verified on
import exactly as if it came from the radio.

Reading is bounded (docs/threat-model.md, attack 6): :func:`load_bundle` opens only regular files
(opened with ``O_NONBLOCK`` and checked with ``fstat`` on the opened descriptor, so a FIFO never
blocks and a swapped path cannot slip a device in), and streams records under a hard byte limit
(``MAX_BUNDLE_BYTES``) whatever ``stat`` claimed — ``/dev/zero`` says its size is 0.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from relay.wire.bulletin import MAX_BULLETIN
from relay.wire.errors import WireError

MAGIC = b"JARSHY-BUNDLE\x01"
RECORD_BULLETIN = 1
RECORD_KEY = 2
MAX_RECORDS = 200_000
MAX_BUNDLE_BYTES = 64 * 1024 * 1024  # hard bound on the bytes read from one bundle file
_HEADER = 3


class BundleError(WireError):
    """A bundle file that cannot be imported: not a regular file, unreadable, too large or
    damaged.  ``code`` is one of ``not-a-file``, ``unreadable``, ``too-large``, ``not-a-bundle``,
    ``truncated``, ``bad-record``; the message names the file and, for ``too-large``, the limit."""

    def __str__(self) -> str:
        return str(self.args[0])


def write_bundle(bulletins: Iterable[bytes], keys: Iterable[bytes]) -> bytes:
    out = bytearray(MAGIC)
    for kind, items in ((RECORD_KEY, keys), (RECORD_BULLETIN, bulletins)):
        for data in items:
            out += bytes([kind]) + len(data).to_bytes(2, "big") + data
    return bytes(out)


def read_bundle(data: bytes) -> Iterator[tuple[int, bytes]]:
    """Yield (record type, data) from bundle bytes already in memory; raises WireError."""
    import io

    yield from iter_bundle(io.BytesIO(data), limit=len(data))


def iter_bundle(file: BinaryIO, limit: int = MAX_BUNDLE_BYTES) -> Iterator[tuple[int, bytes]]:
    """Yield (record type, data) read incrementally from ``file``, never more than ``limit``
    bytes in all (one record at a time: at most ``3 + MAX_BULLETIN`` bytes per read).

    Raises :class:`BundleError` on a foreign, damaged or oversized stream.
    """
    total = 0

    def take(n: int) -> bytes:
        nonlocal total
        allowed = min(n, limit - total)
        data = file.read(allowed) if allowed > 0 else b""
        total += len(data)
        if len(data) == allowed < n and file.read(1):  # stopped by the limit, not the end
            raise BundleError("too-large", f"more than the {limit} bytes allowed")
        return data

    head = take(len(MAGIC))
    if head != MAGIC:
        raise BundleError("not-a-bundle", "file is not a Jarshy bundle")
    count = 0
    while True:
        offset = total
        header = take(_HEADER)
        if not header:
            return
        if len(header) < _HEADER:
            raise BundleError("truncated", f"bundle ends inside a record header at byte {offset}")
        kind, length = header[0], int.from_bytes(header[1:], "big")
        if kind not in (RECORD_BULLETIN, RECORD_KEY) or length > MAX_BULLETIN:
            raise BundleError("bad-record", f"damaged record at byte {offset}")
        data = take(length)
        if len(data) < length:
            raise BundleError(
                "bad-record",
                f"damaged record at byte {offset}: the file ends after {len(data)} of "
                f"{length} bytes",
            )
        count += 1
        if count > MAX_RECORDS:
            raise BundleError("too-large", f"more than {MAX_RECORDS} records")
        yield kind, data


def load_bundle(path: str | os.PathLike[str], limit: int | None = None) -> list[tuple[int, bytes]]:
    """Every record of the bundle file at ``path``, read under ``limit`` bytes (default
    ``MAX_BUNDLE_BYTES``), or :class:`BundleError`: nothing is returned from a refused file, so
    nothing gets stored from it.

    Device files, FIFOs, sockets and directories are refused before a byte is read: the file is
    opened with ``O_NONBLOCK`` (a FIFO without a writer does not block the open) and its type is
    taken from ``fstat`` of the opened descriptor, not from the path.
    """
    name = os.fspath(path)
    limit = MAX_BUNDLE_BYTES if limit is None else limit
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise BundleError("unreadable", f"{name}: no such file") from None
    except PermissionError:
        raise BundleError("unreadable", f"{name}: permission denied") from None
    except OSError as exc:
        raise BundleError("unreadable", f"{name}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise BundleError("not-a-file", f"{name}: is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(
                "not-a-file", f"{name}: not a regular file ({_file_type(info.st_mode)})"
            )
        if info.st_size > limit:
            raise BundleError(
                "too-large", f"{name}: {info.st_size} bytes is more than the {limit} allowed"
            )
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", buffering=65_536, closefd=True) as file:
            fd = -1  # the file object owns it now
            try:
                return list(iter_bundle(file, limit))
            except BundleError as exc:
                raise BundleError(exc.code, f"{name}: {exc.args[0]}") from None
            except OSError as exc:
                raise BundleError("unreadable", f"{name}: {exc.strerror or exc}") from None
    finally:
        if fd >= 0:
            os.close(fd)


def _file_type(mode: int) -> str:
    for test, what in (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "a special file"
