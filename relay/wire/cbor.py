"""Canonical CBOR for the bulletin field map: cbor2 encodes, a strict bounded decoder decodes.

Only the subset Jarshy uses is accepted: unsigned and negative integers (<= 64 bit), byte strings,
text strings, arrays and maps, all of definite length, with the shortest argument encoding, map
keys in bytewise order of their encodings and no duplicates (RFC 8949 section 4.2.1). Floats,
tags, simple values, indefinite lengths and nesting deeper than ``MAX_DEPTH`` are rejected, so the
bytes that were signed are the only encoding of the value that was decoded.

Fast path (every field map has its shape): cbor2's native decoder reads the item, and the input
is accepted only if the value has that shape and cbor2's encoding of it is exactly the input's
prefix. CBOR is self-delimiting, so that prefix *is* the item, and it is canonical; the strict
decoder would accept it and return the same value. Anything else goes to the strict decoder,
which gives the precise error (the same as without the fast path).
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
    if offset == 0 and type(data) is bytes:
        found = _flat_map(data)
        if found is not None:
            return found
    decoder = _StrictDecoder(data)
    value, end = decoder.item(offset, depth=0)
    return value, end


def decode(data: bytes) -> CborValue:
    """Decode exactly one canonical CBOR item that spans all of ``data``."""
    value, end = decode_prefix(data)
    if end != len(data):
        raise WireError("trailing-bytes", f"{len(data) - end} bytes after the CBOR item")
    return value


_INT_MIN, _INT_LIMIT = -(1 << 64), 1 << 64


def _flat_map(data: bytes) -> tuple[CborValue, int] | None:
    """The fast path for the shape of every field map: a map with keys 0..23 in increasing order
    whose values are integers, byte or text strings, or arrays of integers. None: anything else
    (or any doubt), for the strict decoder to judge.

    For that shape cbor2's plain encoding is the canonical one (shortest heads, definite lengths,
    one-byte keys in bytewise order), so the input is accepted only if it starts with exactly the
    encoding of the value cbor2 read.
    """
    try:
        value = cbor2.loads(data, max_depth=MAX_DEPTH + 1)
    except Exception:  # any failure: the strict decoder says what is wrong
        return None
    if type(value) is not dict or len(value) > MAX_ITEMS:
        return None
    previous = -1
    for key, item in value.items():
        if type(key) is not int or not previous < key < 24:
            return None
        previous = key
        kind = type(item)
        if kind is int:
            if not _INT_MIN <= item < _INT_LIMIT:
                return None
        elif kind is list:
            if len(item) > MAX_ITEMS:
                return None
            for element in item:
                if type(element) is not int or not _INT_MIN <= element < _INT_LIMIT:
                    return None
        elif kind is not bytes and kind is not str:
            return None
    try:
        encoded = cbor2.dumps(value)
    except Exception:  # e.g. a value cbor2 decodes but cannot encode back
        return None
    if not data.startswith(encoded):
        return None
    return value, len(encoded)


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
