"""Which characters the wire accepts in texts (docs/protocol.md section 3, "Texts").

Two kinds of text travel in a bulletin:

* **labels**: the single-line texts of the field map (a key's ``name``, text-valued ``event`` and
  ``category``, ``area``): shown next to trust decisions, so nothing in them may hide, reorder or
  break lines; no control (Cc), format (Cf: bidi overrides and isolates, U+200E/F, U+061C, zero
  widths...), line or paragraph separator, private-use or unassigned character; no leading or
  trailing space; NFC; non-empty and within a byte bound.
* **bodies**: the text blob (news, safety, correction and retraction texts): lines separated by
  U+000A only; no other control character, no U+2028/2029, no bidi embedding, override or isolate
  (U+202A-202E, U+2066-2069); no private-use or unassigned character; non-empty. Other format
  characters stay allowed (ZWJ in emoji sequences, ZWNJ, soft hyphen, directional marks).

Two independent receivers must accept exactly the same texts whatever Unicode version their
platform ships, so the rules name fixed sets: the immutable Cc, Co and Cs ranges, U+2028/2029 and
two sets frozen from Unicode 14.0.0 (``relay.wire._ucd14``): its unassigned code points and its
format characters. A text made only of code points assigned in 14.0 has the same NFC form under
every later version (Unicode's normalization stability policy), so the NFC check agrees too.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from functools import cache

from relay.wire import _ucd14

# Fixed by Unicode's stability policies (Cc, Cs, Co never change) or single code points.
_CONTROLS = ((0x00, 0x1F), (0x7F, 0x9F))
_SURROGATES = ((0xD800, 0xDFFF),)
_PRIVATE_USE = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
_SEPARATORS = ((0x2028, 0x2029),)  # Zl, Zp
_BIDI_CONTROLS = ((0x202A, 0x202E), (0x2066, 0x2069))  # embeddings, overrides, isolates
# Zs in Unicode 14.0.0: not allowed at either end of a label.
SPACES = frozenset("\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                   "\u2009\u200a\u202f\u205f\u3000")  # fmt: skip


def parse_ranges(table: str) -> tuple[tuple[int, int], ...]:
    """``"0378-0379 0380"`` -> ((0x378, 0x379), (0x380, 0x380))."""
    out = []
    for item in table.split():
        first, _, last = item.partition("-")
        out.append((int(first, 16), int(last or first, 16)))
    return tuple(out)


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class _CodePointSet:
    """A fixed set of code points, searched fast: one compiled character class for the BMP (sre
    turns it into a bitmap: O(1) a character) and a binary search for the rare astral ones."""

    def __init__(self, *sets: tuple[tuple[int, int], ...]) -> None:
        ranges = sorted(r for ranges in sets for r in ranges)
        bmp = [(first, min(last, 0xFFFF)) for first, last in ranges if first <= 0xFFFF]
        self._bmp = re.compile("[" + "".join(_span(first, last) for first, last in bmp) + "]")
        astral = [(max(first, 0x10000), last) for first, last in ranges if last > 0xFFFF]
        self._starts = [first for first, _ in astral]
        self._lasts = [last for _, last in astral]

    def first_in(self, text: str) -> str | None:
        """The first character of ``text`` in the set (None if there is none)."""
        match = self._bmp.search(text)
        found = None if match is None else match.start()
        for astral in _ASTRAL.finditer(text, 0, len(text) if found is None else found):
            cp = ord(astral.group())
            i = bisect_right(self._starts, cp) - 1
            if i >= 0 and cp <= self._lasts[i]:
                return astral.group()
        return None if found is None else text[found]


def _span(first: int, last: int) -> str:
    return re.escape(chr(first)) + ("" if first == last else "-" + re.escape(chr(last)))


@cache
def _label_forbidden() -> _CodePointSet:
    return _CodePointSet(
        _CONTROLS, _SURROGATES, _PRIVATE_USE, _SEPARATORS,
        parse_ranges(_ucd14.FORMAT), parse_ranges(_ucd14.UNASSIGNED),
    )  # fmt: skip


@cache
def _body_forbidden() -> _CodePointSet:
    controls = ((0x00, 0x09), (0x0B, 0x1F), (0x7F, 0x9F))  # U+000A (line feed) allowed
    return _CodePointSet(
        controls, _SURROGATES, _PRIVATE_USE, _SEPARATORS, _BIDI_CONTROLS,
        parse_ranges(_ucd14.UNASSIGNED),
    )  # fmt: skip


def label_problem(text: str, max_bytes: int) -> str | None:
    """Why ``text`` is not an acceptable label of 1..max_bytes UTF-8 bytes (None if it is)."""
    if not text:
        return "empty"
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return f"longer than {max_bytes} bytes"
    bad = _label_forbidden().first_in(text)
    if bad is not None:
        return f"character U+{ord(bad):04X} is not allowed"
    if text[0] in SPACES or text[-1] in SPACES:
        return "leading or trailing space"
    if not unicodedata.is_normalized("NFC", text):
        return "not NFC"
    return None


def body_problem(text: str) -> str | None:
    """Why ``text`` is not an acceptable bulletin text (None if it is; NFC and length are the
    codec's checks)."""
    if not text:
        return "empty (a bulletin without text has no text blob)"
    bad = _body_forbidden().first_in(text)
    if bad is not None:
        return f"character U+{ord(bad):04X} is not allowed"
    return None


def derive_tables() -> tuple[str, str]:
    """(unassigned, format) ranges from this Python's unicodedata, formatted as in _ucd14."""

    def ranges(category: str) -> str:
        out: list[str] = []
        start: int | None = None
        for cp in range(0x110001):
            hit = cp <= 0x10FFFF and unicodedata.category(chr(cp)) == category
            if hit and start is None:
                start = cp
            elif not hit and start is not None:
                last = cp - 1
                out.append(f"{start:04X}" if start == last else f"{start:04X}-{last:04X}")
                start = None
        lines, line = [], ""
        for item in out:
            if line and len(line) + 1 + len(item) > 91:
                lines.append(line)
                line = ""
            line = f"{line} {item}" if line else item
        lines.append(line)
        return "\n" + "\n".join(lines) + "\n"

    return ranges("Cn"), ranges("Cf")


if __name__ == "__main__":  # pragma: no cover
    import sys
    from pathlib import Path

    if "--generate" in sys.argv:
        if unicodedata.unidata_version != _ucd14.UNICODE_VERSION:
            sys.exit(f"needs Unicode {_ucd14.UNICODE_VERSION}, not {unicodedata.unidata_version}")
        unassigned, fmt = derive_tables()
        path = Path(_ucd14.__file__)
        text = path.read_text(encoding="utf-8")
        head = text[: text.index("UNASSIGNED = ")]
        path.write_text(
            f'{head}UNASSIGNED = """{unassigned}"""\n\n'
            f'# General category Cf (format characters) in Unicode 14.0.0.\nFORMAT = """{fmt}"""\n',
            encoding="utf-8",
        )
