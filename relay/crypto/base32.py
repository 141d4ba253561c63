"""Crockford base32: the alphabet Jarshy shows to humans (share strings, fingerprints).

Encoding emits upper-case symbols from ``0-9A-Z`` minus ``I L O U``, most significant bit first,
without padding. Decoding is forgiving in the ways people are forgiving: any case, ``O`` read as
``0``, ``I``/``L`` read as ``1``, and spaces, dashes and line breaks ignored. It is strict where
strictness catches errors: unknown symbols, impossible lengths and non-zero pad bits are rejected,
so every byte string has exactly one canonical text and every accepted text one byte string.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_VALUES: dict[str, int] = {c: i for i, c in enumerate(ALPHABET)}
_VALUES.update({c.lower(): i for c, i in list(_VALUES.items())})
_VALUES.update({"O": 0, "o": 0, "I": 1, "i": 1, "L": 1, "l": 1})
_IGNORED = frozenset(" -\t\r\n")


class Base32Error(ValueError):
    """Text that is not canonical Crockford base32; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def encoded_length(byte_count: int) -> int:
    """Number of symbols that ``encode`` produces for ``byte_count`` bytes."""
    return (byte_count * 8 + 4) // 5


def encode(data: bytes) -> str:
    """Encode ``data`` as upper-case Crockford base32 without padding."""
    total_bits = encoded_length(len(data)) * 5
    number = int.from_bytes(data, "big") << (total_bits - len(data) * 8)
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(total_bits - 5, -1, -5))


def normalize(text: str) -> str:
    """Drop separators (spaces, dashes, line breaks) that people add for readability."""
    return "".join(c for c in text if c not in _IGNORED)


def decode(text: str) -> bytes:
    """Decode Crockford base32 (see the module docstring for what is tolerated)."""
    symbols = normalize(text)
    number = 0
    for position, symbol in enumerate(symbols):
        value = _VALUES.get(symbol)
        if value is None:
            raise Base32Error(
                "bad-character", f"character {symbol!r} at position {position + 1} is not base32"
            )
        number = (number << 5) | value
    byte_count = len(symbols) * 5 // 8
    if encoded_length(byte_count) != len(symbols):
        raise Base32Error("bad-length", f"{len(symbols)} symbols cannot encode whole bytes")
    pad_bits = len(symbols) * 5 - byte_count * 8
    if number & ((1 << pad_bits) - 1):
        raise Base32Error("bad-padding", "the last symbol has non-zero padding bits")
    return (number >> pad_bits).to_bytes(byte_count, "big")
