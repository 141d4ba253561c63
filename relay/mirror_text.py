"""The phone-app mirror's words: verification codes, the mirrored text and its parts (pure).

A node that mirrors (docs/radio.md, "The phone-app mirror") re-broadcasts a trusted bulletin as
plain text the official Meshtastic apps show. This module decides what those texts say, with no
I/O: :func:`mirror_code` gives the short code of a bulletin id (docs/protocol.md, "Mirror codes"),
:func:`mirror_texts` the messages of one bulletin, each within :data:`TEXT_LIMIT` bytes of UTF-8,
split between words where it can and never inside a character or a grapheme cluster (a letter with
its combining marks, an emoji sequence), and :func:`codes_in` the codes a heard text carries.

What the apps show is attacker-reachable text (a name, a bulletin's text): control characters,
bidi overrides and other format characters are removed here (ZWJ and ZWNJ, which scripts and emoji
need, stay), so a mirrored text cannot reorder itself around its code.
"""

from __future__ import annotations

import base64
import re
import unicodedata
from dataclasses import dataclass

CODE_CHARS = 6  # base32 characters: the id's first 30 bits
CODE_BYTES = 4  # bytes of the id the code is cut from
TEXT_LIMIT = 231  # bytes of UTF-8 per message: the firmware's payload limit for a broadcast
CODE_RE = re.compile(r"#([A-Z2-7]{6})(?![A-Za-z0-9])")
_CONFUSABLE = str.maketrans({"0": "O", "1": "I", "8": "B"})
_KEEP_FORMAT = {"\u200c", "\u200d"}  # ZWNJ, ZWJ: part of the script or the emoji

# What a correction or retraction says it corrects, in the bulletin's language (else English).
_LABELS = {
    "en": ("Correction to", "Retraction of"),
    "ru": ("Исправление к", "Отзыв сообщения"),
    "kk": ("Түзету:", "Қайтарып алынды:"),
}


@dataclass(frozen=True, slots=True)
class MirrorSource:
    """What a mirror says about one bulletin (taken from the store row and its verdict)."""

    id: bytes
    kind: str  # "news", "safety", "correction", "retraction"
    name: str  # the author's certified name (the verdict's), never a self-claimed one
    text: str
    lang: str = "und"
    ref: bytes | None = None  # the bulletin a correction or retraction is about


def mirror_code(ident: bytes) -> str:
    """The verification code of a bulletin id: the first 6 characters of the RFC 4648 base32
    encoding of its first 4 bytes (30 bits), without the ``#``."""
    if len(ident) < CODE_BYTES:
        raise ValueError("a bulletin id has at least 4 bytes")
    return base64.b32encode(ident[:CODE_BYTES]).decode("ascii")[:CODE_CHARS]


def normalize_code(text: str) -> str | None:
    """A code as a person types it (``#k7q2mx``, ``K7Q2MX``, ``0`` for ``O``) in its canonical
    form, or None if it is not a code."""
    code = text.strip().lstrip("#").upper().translate(_CONFUSABLE)
    return code if re.fullmatch(r"[A-Z2-7]{6}", code) else None


def code_prefix(code: str) -> tuple[bytes, int]:
    """The id bits a canonical code fixes: (the first 4 bytes with the unknown 2 bits zero,
    how many leading bits are known: 30)."""
    value = base64.b32decode(code + "AA")  # 8 characters = 5 bytes; the first 4 carry the code
    return value[:CODE_BYTES], CODE_CHARS * 5


def matches(ident: bytes, code: str) -> bool:
    """Whether bulletin id ``ident`` has the canonical code ``code``."""
    return len(ident) >= CODE_BYTES and mirror_code(ident) == code


def codes_in(text: str) -> list[str]:
    """The mirror codes a heard text carries (``#`` and six base32 characters), in order."""
    return CODE_RE.findall(text)


def clean(text: str, one_line: bool = False) -> str:
    """``text`` without control and format characters (tabs become spaces; line breaks stay
    unless ``one_line``, then they become spaces)."""
    out = []
    for ch in text:
        if ch in "\n\r\t\u2028\u2029":
            out.append(" " if one_line or ch == "\t" else "\n")
        elif ch in _KEEP_FORMAT or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            out.append(ch)
    return "".join(out).strip()


def mirror_texts(source: MirrorSource, limit: int = TEXT_LIMIT) -> list[str]:
    """The messages that mirror ``source``: ``NAME: [label #REF] TEXT #CODE``, split into parts
    ``… #CODE 1/3`` when one message would exceed ``limit`` bytes of UTF-8."""
    name = clean(source.name, one_line=True)[:60] or "?"
    code = mirror_code(source.id)
    body = clean(source.text)
    label = _label(source)
    if label:
        body = f"{label} {body}" if body else label
    whole = f"{name}: {body} #{code}"
    if len(whole.encode()) <= limit:
        return [whole]
    head = f"{name}: "
    for width in (1, 2, 3):  # parts: 1..9, then 10..99, then 100..999
        total = 10**width - 1
        tail = f" #{code} {total}/{total}"
        parts = _split(body, limit, len(head.encode()), len(tail.encode()))
        if len(parts) <= total:
            count = len(parts)
            return [
                f"{head if i == 0 else ''}{part} #{code} {i + 1}/{count}"
                for i, part in enumerate(parts)
            ]
    raise ValueError("text too long to mirror")


def _label(source: MirrorSource) -> str:
    if source.kind not in ("correction", "retraction") or source.ref is None:
        return ""
    correction, retraction = _LABELS.get(source.lang.split("-")[0].lower(), _LABELS["en"])
    word = correction if source.kind == "correction" else retraction
    return f"{word} #{mirror_code(source.ref)}"


def _split(body: str, limit: int, head: int, tail: int) -> list[str]:
    """``body`` in pieces: the first fits ``limit - head - tail`` bytes, the rest ``limit -
    tail``; cut after a space where one lies in the piece's second half, else at the last
    grapheme boundary that fits."""
    parts: list[str] = []
    rest = body
    while rest:
        room = limit - tail - (head if not parts else 0)
        if room <= 0:
            raise ValueError("limit too small for a part")
        if len(rest.encode()) <= room:
            parts.append(rest)
            break
        cut = _fit(rest, room)
        space = max(rest.rfind(" ", 0, cut), rest.rfind("\n", 0, cut))
        if space > cut // 2:
            cut = space
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return parts


def _fit(text: str, room: int) -> int:
    """The longest prefix of ``text`` (in characters) within ``room`` bytes that ends on a
    grapheme boundary (at least one cluster, cut at a character if a cluster alone is too big)."""
    used = 0
    end = 0
    for i, ch in enumerate(text):
        used += len(ch.encode())
        if used > room:
            break
        end = i + 1
    cut = end
    while cut > 0 and not _boundary(text, cut):
        cut -= 1
    return cut or max(end, 1)


def _boundary(text: str, i: int) -> bool:
    """Whether a grapheme cluster may end before ``text[i]`` (the rules that matter here:
    combining marks, ZWJ sequences, variation selectors, emoji modifiers, flag pairs)."""
    if i <= 0 or i >= len(text):
        return True
    before, after = text[i - 1], text[i]
    if before == "\r" and after == "\n":
        return False
    if unicodedata.category(after) in ("Mn", "Mc", "Me") or after == "\u200d":
        return False
    if before == "\u200d":
        return False
    code = ord(after)
    if 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return False
    if _regional(after) and _regional(before):
        run = 0
        j = i - 1
        while j >= 0 and _regional(text[j]):
            run += 1
            j -= 1
        return run % 2 == 0
    return True


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF
