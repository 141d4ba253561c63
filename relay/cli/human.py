"""What the CLI prints for a person, in their language: the language, badges, times, bulletins.

The language comes from JARSHY_LANG, else the locale (LC_ALL, LC_MESSAGES, LANG), else English
(relay.i18n holds the catalogs the UI uses too).  Times are local ("5 Dec 14:03"), durations in
words; every string from a bulletin passes relay.inert.  ``--json`` output never comes here.
"""

from __future__ import annotations

import locale
import os
from datetime import datetime, tzinfo
from typing import Any

from relay.i18n import choose_language, duration, local_time, relative, translate
from relay.inert import inert_line, quoted

SYMBOLS = {"trusted": "✔", "unknown_key": "?", "pending_key": "…", "revoked": "✖", "invalid": "✖"}
SEVERITIES = ("unknown", "minor", "moderate", "severe", "extreme")
URGENCIES = ("unknown", "past", "future", "expected", "immediate")
CERTAINTIES = ("unknown", "unlikely", "possible", "likely", "observed")


def language() -> str:
    """The language the CLI speaks now: ru, kk or en."""
    env = os.environ
    return choose_language(
        (env.get("JARSHY_LANG"), env.get("LC_ALL"), env.get("LC_MESSAGES"), env.get("LANG"),
         locale.getlocale()[0])
    )  # fmt: skip


def tr(key: str, /, **values: object) -> str:
    """The catalog message ``key`` in the CLI's language, formatted with ``values``."""
    return translate(key, language(), **values)


def plain_wanted(flag: bool) -> bool:
    """``--plain`` given, or JARSHY_PLAIN set to anything but 0/empty."""
    return flag or os.environ.get("JARSHY_PLAIN", "").strip() not in ("", "0")


def local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always gives one
    return zone


def when(epoch: Any, lang: str, now: float | None = None) -> str:
    """A bulletin time as local text; "?" for a value that is not a number."""
    if not isinstance(epoch, int | float) or isinstance(epoch, bool):
        return "?"
    try:
        return local_time(float(epoch), lang, local_zone(), now)
    except (OverflowError, OSError, ValueError):  # a timestamp no calendar holds
        return "?"


def lasting(seconds: float, lang: str) -> str:
    return duration(seconds, lang)


def expiry(expires_at: float | None, now: float, lang: str) -> str:
    """ "expires in 3 hours" / "expired 10 minutes ago" / "does not expire"."""
    if expires_at is None:
        return translate("no_expiry", lang)
    key = "expires_when" if expires_at > now else "expired_when"
    return translate(key, lang, when=relative(expires_at - now, lang))


def badge(status: str, lang: str, word_key: str | None = None) -> str:
    """The verdict as a symbol and a word ("✔ TRUSTED"): never colour alone."""
    if status not in SYMBOLS:
        return inert_line(status)
    return f"{SYMBOLS[status]} {translate(word_key or status, lang)}"


def verdict_word(status: str, lang: str) -> str:
    """The verdict as a word alone (plain mode reads it first)."""
    return translate(status, lang) if status in SYMBOLS else inert_line(status)


def word(prefix: str, value: Any, known: tuple[str, ...], lang: str) -> str:
    """A vocabulary value in the user's language; anything else inert and quoted."""
    if isinstance(value, str) and value in known:
        return translate(f"{prefix}{value}", lang)
    return quoted(str(value)) if isinstance(value, str) else inert_line(str(value))


def kind_word(kind: Any, lang: str) -> str:
    kinds = ("news", "safety", "correction", "retraction", "certificate", "revocation",
             "announcement")  # fmt: skip
    return word("kind_", kind, kinds, lang) if kind in kinds else inert_line(str(kind))


def severity_word(value: Any, lang: str) -> str:
    return word("sev_", value, SEVERITIES, lang)


def author_words(b: dict[str, Any], lang: str) -> tuple[str, str]:
    """(how the author is known: signed/claims/key, the name or key id, inert)."""
    if b.get("signer_name"):
        return "signed", inert_line(str(b["signer_name"]))
    if b.get("claimed_name"):
        return "claims", quoted(str(b["claimed_name"]))
    return "key", inert_line(str(b.get("author", "?")))
