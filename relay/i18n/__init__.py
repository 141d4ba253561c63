"""Messages in English, Russian and Kazakh for every surface (CLI and UI); local times, durations.

One set of gettext catalogs (``catalogs/<lang>.po``, read with Babel) serves the CLI and the UI:
``translate(key, lang, **values)`` looks a message up by its key and formats it; a missing
translation falls back to English and a missing key to the key itself (a gap shows, never a
crash).  ``local_time``, ``duration`` and ``relative`` use Babel's locale data (CLDR).
Pure: no I/O besides reading this package's own catalogs; the caller says which language and
which time zone (``choose_language`` takes the environment as a plain mapping).
"""

from __future__ import annotations

from relay.i18n.catalog import LANGUAGE_NAMES, LANGUAGES, choose_language, messages, translate
from relay.i18n.when import decimal, duration, local_time, relative

__all__ = [
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "choose_language",
    "decimal",
    "duration",
    "local_time",
    "messages",
    "relative",
    "translate",
]
