"""The message catalogs: one gettext ``.po`` file per language, keyed by message id."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from importlib import resources

from babel.messages.pofile import read_po

LANGUAGES = ("en", "ru", "kk")
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}
FALLBACK = "en"


@functools.cache
def messages(lang: str) -> dict[str, str]:
    """Every translated message of ``lang`` (key → text); empty for a language we do not have."""
    if lang not in LANGUAGES:
        return {}
    source = resources.files("relay.i18n").joinpath("catalogs", f"{lang}.po")
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.string, str) and m.string and not m.fuzzy
    }


def translate(key: str, lang: str, /, **values: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``values``; English when it is missing.

    A translation whose placeholders do not match the values falls back to English too, so a
    slip in one catalog shows as English text, never as a crash.
    """
    text = messages(lang).get(key) or messages(FALLBACK).get(key) or key
    if not values:
        return text
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError):
        english = messages(FALLBACK).get(key) or key
        try:
            return english.format(**values)
        except (KeyError, IndexError, ValueError):
            return english


def choose_language(candidates: Iterable[str | None]) -> str:
    """The first of ``candidates`` (JARSHY_LANG, LC_ALL, LC_MESSAGES, LANG, the locale, in that
    order) that names a language: ru, kk or en; any other language, or none, is English."""
    for wanted in candidates:
        code = (wanted or "").strip()[:2].lower()
        if code in LANGUAGES:
            return code
        if code and code not in ("c", "c.", "po"):
            return FALLBACK
    return FALLBACK
