"""Kazakh Cyrillic to the 2021 Kazakh Latin alphabet, as the corpus writes it (build-time only).

Used to give the kk-latn model more training text than the few Latin-script bulletins we have.
"""

from __future__ import annotations

_LOWER = {
    "а": "a", "ә": "ä", "б": "b", "в": "v", "г": "g", "ғ": "ğ", "д": "d", "е": "e", "ё": "io",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "қ": "q", "л": "l", "м": "m", "н": "n",
    "ң": "ñ", "о": "o", "ө": "ö", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ұ": "ū",
    "ү": "ü", "ф": "f", "х": "h", "һ": "h", "ц": "ts", "ч": "ch", "ш": "ş", "щ": "şş", "ъ": "",
    "ы": "y", "і": "ı", "ь": "", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip


def kk_cyrillic_to_latin(text: str) -> str:
    out = []
    for ch in text:
        low = ch.lower()
        lat = _LOWER.get(low)
        if lat is None:
            out.append(ch)
        elif ch != low:
            out.append(lat[:1].upper() + lat[1:])
        else:
            out.append(lat)
    return "".join(out)
