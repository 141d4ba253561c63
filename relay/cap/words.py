"""CAP's words and Jarshy's, both ways: code tables, languages, times and texts (pure).

Jarshy's severity, urgency, certainty and category tables are CAP 1.2's own values in lower case
(relay.vocabulary), so those map one to one. Events are free text in CAP and a table or a label in
Jarshy. Texts from a CAP file are cleaned into what the wire accepts (docs/protocol.md §3, §4):
whitespace from XML indentation collapsed, characters the wire forbids removed, NFC.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

from relay import vocabulary
from relay.wire.codec_fields import LANG_TAG
from relay.wire.fields import LANGUAGES
from relay.wire.text_rules import body_problem, label_problem

# Where Jarshy writes what CAP has no element for, so that CAP -> Jarshy -> CAP keeps it.
SENDER_PREFIX = "urn:jarshy:key:"  # + the author's key id in hex
IDENTIFIER_PREFIX = "urn:jarshy:bulletin:"  # + the bulletin id in hex
PARAM_GEOHASH = "jarshy-geohash"
PARAM_CATEGORY = "jarshy-category"  # a category label outside CAP's list (CAP says "Other")
PARAM_BULLETIN = "jarshy-bulletin"  # the signed bulletin's bytes in hex, for anyone to verify
JARSHY_PARAMETERS = (PARAM_GEOHASH, PARAM_CATEGORY, PARAM_BULLETIN)

CAP_CATEGORY = {name: ("CBRNE" if name == "cbrne" else name.capitalize())
                for name in vocabulary.CATEGORIES}  # fmt: skip
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[-+]\d\d:\d\d)$")
_SPACES = re.compile(r"\s+")
ELLIPSIS = "…"


def cap_word(value: str) -> str:
    """A severity, urgency or certainty as CAP spells it (``severe`` -> ``Severe``)."""
    return value.capitalize()


def cap_event(event: str) -> str:
    """Jarshy's event as CAP text: a table name capitalised (``Missing-person``), a label as is."""
    return event.capitalize() if event in vocabulary.EVENTS else event


def table_value(text: str, table: tuple[str, ...]) -> str | None:
    """``text`` as an entry of ``table`` ignoring case, spaces and underscores, or None."""
    key = _SPACES.sub("-", text.strip().lower()).replace("_", "-")
    return key if key in table else None


def cap_language(lang: str) -> str | None:
    """Jarshy's language as a CAP ``<language>`` (None for ``und``: CAP's default is en-US)."""
    return {"und": None, "mixed": "mul"}.get(lang, lang)


def jarshy_language(tag: str | None) -> tuple[str | None, str | None]:
    """(Jarshy's language or None to guess from the text, a note when something changed)."""
    if not tag:
        return None, "no <language>: guessed from the text"
    parts = tag.strip().split("-")
    primary = parts[0].lower()
    script = next((p.capitalize() for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    if primary == "mul":
        return "mixed", None
    if primary == "und":
        return None, "language und: guessed from the text"
    if primary == "kk" and script == "Latn":
        lang = "kk-Latn"
    elif primary in LANGUAGES and (script is None or (primary, script) != ("kk", "Latn")):
        lang = primary
    else:
        canonical = "-".join([primary, *(p.capitalize() if len(p) == 4 else p.upper()
                                          for p in parts[1:])])  # fmt: skip
        if LANG_TAG.fullmatch(canonical) and canonical not in LANGUAGES:
            return canonical, None
        return None, f"language {tag[:20]!r} is not one Jarshy carries: guessed from the text"
    return lang, (None if tag == lang else f"language {tag[:20]} carried as {lang}")


def parse_time(text: str) -> int:
    """Unix seconds of a CAP date-time (``2026-01-05T14:00:00+06:00``; ``Z`` accepted too)."""
    if not _TIME.match(text):
        raise ValueError(f"{text[:40]!r} is not a CAP date-time (YYYY-MM-DDThh:mm:ss+hh:mm)")
    return int(datetime.fromisoformat(text).timestamp())


def format_time(unix: int) -> str:
    """A CAP date-time in UTC, which CAP 1.2 writes ``-00:00`` (never ``Z``)."""
    return datetime.fromtimestamp(unix, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S") + "-00:00"


def clean_label(text: str) -> tuple[str, int]:
    """``text`` as a one-line label: whitespace collapsed, forbidden characters removed, NFC.
    Returns the label ("" if nothing is left) and how many characters were removed."""
    collapsed = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    if label_problem(collapsed, 1 << 20) is None or not collapsed:
        return collapsed, 0
    kept = "".join(ch for ch in collapsed if ch == " " or label_problem(ch, 8) is None)
    kept = _SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    return kept, len(collapsed) - len(kept)


def clean_text(text: str) -> tuple[str, int]:
    """``text`` as a bulletin text: lines stripped of XML indentation, at most one empty line
    in a row, forbidden characters removed, NFC. Returns the text and the count removed."""
    text = unicodedata.normalize("NFC", re.sub("\r\n?|[\u2028\u2029]", "\n", text))
    text = text.replace("\t", " ")
    removed = 0
    if body_problem(text) is not None:
        kept = "".join(ch for ch in text if ch == "\n" or body_problem(ch) is None)
        removed, text = len(text) - len(kept), unicodedata.normalize("NFC", kept)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = re.sub("\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return text, removed


def clip_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, ending in ``…`` when cut."""
    if len(text.encode()) <= max_bytes:
        return text
    budget = max_bytes - len(ELLIPSIS.encode())
    cut = text.encode()[:budget].decode("utf-8", "ignore").rstrip()
    return cut + ELLIPSIS
