"""Canonical CBOR for the bulletin field map: cbor2 encodes, a strict bounded decoder decodes.

Only the subset Jarshy uses is accepted: unsigned and negative integers (<= 64 bit), byte strings,
text strings, arrays and maps, all of definite length, with the shortest argument encoding, map
keys in bytewise order of their encodings and no duplicates (RFC 8949 section 4.2.1). Floats,
tags, simple values, indefinite lengths and nesting deeper than ``MAX_DEPTH`` are rejected, so the
bytes that were signed are the only encoding of the value that was decoded.
"""

from __future__ import annotations

from typing import Any

import cbor2

from relay.wire.errors import WireError

MAX_DEPTH = 4
MAX_ITEMS = 64  # elements of one array or pairs of one map

CborValue = int | bytes | str | list[Any] | dict[Any, Any]


def encode(value: CborValue) -> bytes:
    """Encode ``value`` canonically (deterministic encoding of RFC 8949 section 4.2.1)."""
    return cbor2.dumps(value, canonical=True)


def decode_prefix(data: bytes, offset: int = 0) -> tuple[CborValue, int]:
    """Decode one canonical CBOR item starting at ``offset``; return it and the end offset."""
    decoder = _StrictDecoder(data)
    value, end = decoder.item(offset, depth=0)
    return value, end


def decode(data: bytes) -> CborValue:
    """Decode exactly one canonical CBOR item that spans all of ``data``."""
    value, end = decode_prefix(data)
    if end != len(data):
        raise WireError("trailing-bytes", f"{len(data) - end} bytes after the CBOR item")
    return value


class _StrictDecoder:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def _argument(self, offset: int) -> tuple[int, int, int]:
        """Return (major type, argument, offset after the head)."""
        data = self.data
        if offset >= len(data):
            raise WireError("truncated", "CBOR item cut short")
        initial = data[offset]
        major, info = initial >> 5, initial & 0x1F
        if info < 24:
            return major, info, offset + 1
        if info > 27:
            raise WireError("non-canonical", f"CBOR additional info {info} not allowed")
        size = 1 << (info - 24)
        end = offset + 1 + size
        if end > len(data):
            raise WireError("truncated", "CBOR length cut short")
        value = int.from_bytes(data[offset + 1 : end], "big")
        minimum = 24 if size == 1 else 1 << (8 * (size >> 1))
        if value < minimum:
            raise WireError("non-canonical", "CBOR argument not in its shortest form")
        return major, value, end

    def item(self, offset: int, depth: int) -> tuple[CborValue, int]:
        if depth > MAX_DEPTH:
            raise WireError("too-deep", f"CBOR nesting deeper than {MAX_DEPTH}")
        major, arg, pos = self._argument(offset)
        if major == 0:
            return arg, pos
        if major == 1:
            return -1 - arg, pos
        if major in (2, 3):
            end = pos + arg
            if end > len(self.data):
                raise WireError("truncated", "CBOR string longer than the input")
            raw = self.data[pos:end]
            if major == 2:
                return bytes(raw), end
            try:
                return raw.decode("utf-8"), end
            except UnicodeDecodeError:
                raise WireError("bad-utf8", "CBOR text string is not UTF-8") from None
        if major == 4:
            if arg > MAX_ITEMS:
                raise WireError("too-large", f"CBOR array of {arg} items")
            items: list[Any] = []
            for _ in range(arg):
                value, pos = self.item(pos, depth + 1)
                items.append(value)
            return items, pos
        if major == 5:
            return self._map(arg, pos, depth)
        raise WireError("bad-type", f"CBOR major type {major} not allowed")

    def _map(self, count: int, pos: int, depth: int) -> tuple[CborValue, int]:
        if count > MAX_ITEMS:
            raise WireError("too-large", f"CBOR map of {count} pairs")
        result: dict[Any, Any] = {}
        previous_key: bytes | None = None
        for _ in range(count):
            key_start = pos
            key, pos = self.item(pos, depth + 1)
            if not isinstance(key, int | str):
                raise WireError("bad-type", "CBOR map key must be an integer or text")
            key_bytes = self.data[key_start:pos]
            if previous_key is not None:
                if key_bytes == previous_key:
                    raise WireError("duplicate-key", f"CBOR map key {key!r} repeated")
                if not _canonical_order(previous_key, key_bytes):
                    raise WireError("non-canonical", "CBOR map keys out of canonical order")
            previous_key = key_bytes
            value, pos = self.item(pos, depth + 1)
            result[key] = value
        return result, pos


def _canonical_order(first: bytes, second: bytes) -> bool:
    """True if ``first`` sorts before ``second`` (length-first, then bytewise, as cbor2 does)."""
    return (len(first), first) < (len(second), second)
