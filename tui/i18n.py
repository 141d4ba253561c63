"""UI strings in English, Russian and Kazakh (switchable at run time), from relay.i18n's catalogs.

``t(key, ui_lang, **values)`` looks a message up and formats it; a missing translation falls back
to English, a missing key to the key itself (so a gap shows, never crashes).  The CLI reads the
same catalogs (relay/i18n/catalogs/*.po).
"""

from __future__ import annotations

import locale
import os

from relay.i18n import LANGUAGE_NAMES, LANGUAGES, choose_language, messages, translate
from tui.i18n_help import HELP

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "MESSAGES", "default_language", "help_text", "t"]

# Every key of the English catalog with its text in each language ("" where a translation is
# missing: `t` shows English then).
MESSAGES: dict[str, dict[str, str]] = {
    key: {lang: messages(lang).get(key, "") for lang in LANGUAGES} for key in messages("en")
}


def t(key: str, ui: str, /, **values: object) -> str:
    """The message ``key`` in the UI language ``ui`` (English when missing)."""
    return translate(key, ui, **values)


def help_text(ui: str) -> str:
    return HELP.get(ui) or HELP["en"]


def default_language() -> str:
    """From JARSHY_LANG, LC_ALL, LC_MESSAGES, LANG or the locale: ru, kk or en."""
    env = os.environ
    return choose_language(
        (env.get("JARSHY_LANG"), env.get("LC_ALL"), env.get("LC_MESSAGES"), env.get("LANG"),
         locale.getlocale()[0])
    )  # fmt: skip
