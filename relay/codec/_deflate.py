"""Stored and raw-deflate (preset dictionary) payloads, with bounded inflation."""

from __future__ import annotations

import zlib

MAX_ZDICT = 32768  # deflate's window: a preset dictionary longer than this is not allowed


class DeflateError(ValueError):
    """Malformed or oversized deflate payload (mapped to CodecError by the caller)."""


def deflate(data: bytes, zdict: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=zdict)
    return comp.compress(data) + comp.flush()


def inflate(payload: bytes, zdict: bytes, max_out: int) -> bytes:
    """Inflate at most max_out bytes; reject bombs, truncation and trailing bytes."""
    dec = zlib.decompressobj(-15, zdict=zdict)
    try:
        out = dec.decompress(payload, max_out + 1)
    except zlib.error as exc:
        raise DeflateError("corrupt deflate stream") from exc
    if len(out) > max_out or dec.unconsumed_tail:
        raise DeflateError(f"deflate bomb or text longer than {max_out} bytes")
    if not dec.eof:
        raise DeflateError("truncated deflate stream")
    if dec.unused_data:
        raise DeflateError("trailing bytes after deflate stream")
    return out
