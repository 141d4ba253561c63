"""A cheap guess of a bulletin's language from its letters (the author can always override)."""

from __future__ import annotations

KAZAKH_CYRILLIC = set("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
KAZAKH_LATIN = set("äğıñöūüşÄĞIÑÖŪÜŞ") - {"I"}


def guess_language(text: str) -> str:
    """One of ``ru``, ``kk``, ``kk-Latn``, ``en``, ``mixed`` or ``und``."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return "und"
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in letters)
    latin = sum(ch.isascii() or ch in KAZAKH_LATIN for ch in letters)
    if cyrillic >= latin:
        kazakh = sum(ch in KAZAKH_CYRILLIC for ch in letters)
        if kazakh == 0:
            return "ru"
        return "kk" if kazakh / max(cyrillic, 1) > 0.02 else "mixed"
    if any(ch in KAZAKH_LATIN for ch in letters):
        return "kk-Latn"
    return "en"
