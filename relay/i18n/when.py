"""Times and durations as a person reads them, in their language (Babel's CLDR locale data)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal

from relay.i18n.catalog import LANGUAGES, translate


def _locale(lang: str) -> str:
    return lang if lang in LANGUAGES else "en"


def local_time(epoch: float, lang: str, zone: tzinfo, now: float | None = None) -> str:
    """``epoch`` as "5 Dec 14:03" in ``zone`` ("5 дек. 14:03", "5 жел. 14:03"); the year is
    added when it is not the year of ``now``."""
    moment = datetime.fromtimestamp(epoch, zone)
    pattern = "d MMM HH:mm"
    if now is not None and datetime.fromtimestamp(now, zone).year != moment.year:
        pattern = "d MMM y HH:mm"
    return format_datetime(moment, pattern, tzinfo=zone, locale=_locale(lang))


def duration(seconds: float, lang: str) -> str:
    """A compact duration in two units at most: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return translate("unit_s", lang, n=seconds)
    if seconds >= 48 * 3600:
        days, rest = divmod(seconds // 3600, 24)
        parts = [("unit_d", days), ("unit_h", rest)]
    else:
        hours, minutes = divmod(seconds // 60, 60)
        parts = [("unit_h", hours), ("unit_min", minutes)]
    return " ".join(translate(key, lang, n=n) for key, n in parts if n)


def relative(seconds: float, lang: str) -> str:
    """A distance from now in words: "in 3 hours", "5 minutes ago" ("через 3 часа", "3 сағаттан
    кейін"); positive is the future."""
    return format_timedelta(
        timedelta(seconds=round(seconds)), add_direction=True, threshold=1.5, locale=_locale(lang)
    )


def decimal(value: float, lang: str, digits: int = 1) -> str:
    """A number with the locale's decimal mark: "1.5" in English, "1,5" in Russian and Kazakh."""
    return format_decimal(round(value, digits), format="0." + "0" * digits, locale=_locale(lang))
