"""Untrusted strings made inert for a person's eyes: no terminal control, no fake lines.

Anything a bulletin, a certificate, an announcement or a radio carries (texts, names, areas,
reasons) is attacker-controlled: anyone with a radio can send a bulletin with a random author id and
a junk signature.  Printed raw, its ESC sequences move the cursor, erase the verdict line or repaint
it, and its newlines and bidi overrides let it draw a convincing ``✔ TRUSTED`` line of its own.
Every human-facing output (CLI, UI, logs) passes such strings through this module first; JSON
output is for machines and stays exact.

The scheme, one for every output:

* a line break (``\\r\\n``, ``\\n``, ``\\r``, ``\\v``, ``\\f``, ``\\x1c``–``\\x1e``, NEL ``\\x85``,
  U+2028, U+2029) is a visible ``↵`` in one-line views (:func:`inert_line`) and a real line break
  between the lines :func:`inert_block` returns, which the caller indents under a fixed prefix;
* a tab becomes one space;
* every other character of Unicode category Cc (C0 and C1 controls, ESC, DEL), Cf (format
  characters: bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069, the marks
  U+200E, U+200F and U+061C, zero-width characters, soft hyphen, BOM, tags) or Cs (lone surrogates)
  is written as ``\\u{HEX}`` in lower-case hex: ESC is ``\\u{1b}``, RIGHT-TO-LEFT OVERRIDE is
  ``\\u{202e}``.

Everything else, including every letter of Kazakh, Russian and English, passes unchanged.  Pure:
no I/O, standard library only, so the UI (``tui``) may import it as well as ``relay.cli``.
"""

from __future__ import annotations

import re
import unicodedata

LINE_MARK = "↵"
ELLIPSIS = "…"
ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_NEEDS_WORK = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|[^\x00-\x7f]")


def escape_char(ch: str) -> str:
    """One character as the reader should see it (see the module docstring for the scheme)."""
    if ch == "\t":
        return " "
    if unicodedata.category(ch) in ESCAPED_CATEGORIES or LINE_BREAK.fullmatch(ch):
        return f"\\u{{{ord(ch):x}}}"
    return ch


def _pieces(line: str) -> list[str]:
    """``line`` (no line breaks) as displayable pieces: one per character, escapes kept whole."""
    return [escape_char(ch) for ch in line]


def _clip(pieces: list[str], max_len: int | None) -> str:
    if max_len is None:
        return "".join(pieces)
    if max_len <= 0:
        return ""
    out: list[str] = []
    used = 0
    total = sum(len(p) for p in pieces)
    if total <= max_len:
        return "".join(pieces)
    for piece in pieces:  # escapes are never cut in half
        if used + len(piece) > max_len - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + ELLIPSIS


def inert_line(s: str, max_len: int | None = None) -> str:
    """``s`` on one line, inert: line breaks shown as ``↵``, controls and format characters escaped.

    With ``max_len`` the result is at most that many characters, ending in ``…`` when clipped (an
    escape is never cut in half).  The result never holds a line break or a control character.
    """
    if not _NEEDS_WORK.search(s):  # the common case: plain ASCII text
        return _clip(list(s), max_len) if max_len is not None and len(s) > max_len else s
    pieces: list[str] = []
    for i, line in enumerate(LINE_BREAK.split(s)):
        if i:
            pieces.append(LINE_MARK)
        pieces += _pieces(line)
    return _clip(pieces, max_len)


def inert_block(s: str) -> list[str]:
    """The lines of ``s``, each inert (as :func:`inert_line`), for views that show several lines.

    The caller puts every returned line under a fixed prefix (an indent), so that no line of an
    untrusted text can ever start at column 0, where verdict lines live.  Trailing empty lines
    are dropped; an empty text is one empty line.
    """
    lines = [inert_line(line) for line in LINE_BREAK.split(s)]
    while len(lines) > 1 and not lines[-1].strip():
        lines.pop()
    return lines


def quoted(s: str, max_len: int | None = None) -> str:
    """``s`` inert and in quotes, for a label such as ``claims: "NAME"``."""
    return f'"{inert_line(s, max_len)}"'
