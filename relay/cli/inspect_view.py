"""`jarshy inspect` for a person: the verdict line, then every field labelled in the user's
language, times local, durations in words; each string from the bulletin inert, the text as
indented lines that can never start at column 0."""

from __future__ import annotations

from typing import Any

from relay.cli.human import (
    CERTAINTIES,
    SEVERITIES,
    URGENCIES,
    badge,
    expiry,
    kind_word,
    language,
    lasting,
    when,
    word,
)
from relay.i18n import translate
from relay.inert import inert_block, inert_line, quoted
from relay.wire.fields import KIND_NAMES

# Fields whose values come from the bulletin's author (anyone, for an unverified bulletin): shown
# inert and in quotes.  The text gets a block of its own, indented under TEXT_PREFIX.
QUOTED_FIELDS = ("name", "reason", "signer", "claimed_name")
TEXT_PREFIX = "    │ "
SAFETY_WORDS = {"severity": ("sev_", SEVERITIES), "urgency": ("urg_", URGENCIES),
                "certainty": ("cert_", CERTAINTIES)}  # fmt: skip


def verdict_line(status: str, reason: str, lang: str | None = None) -> str:
    """The one line that says what Jarshy concluded; always printed first, at column 0."""
    lang = lang or language()
    shown = badge(status, lang, "verdict_invalid" if status == "invalid" else None)
    return translate(
        "verdict_line", lang, verdict=shown, reason=inert_line(reason_words(reason, lang))
    )


# relay.trust's fixed reasons (the others quote names and ids and stay as they are)
REASONS = {"author's public key not known yet": "why_pending",
           "signature does not match the author's key": "why_forged",
           "signed by a trusted root": "why_root",
           "key is not certified by anyone you trust": "why_uncertified"}  # fmt: skip


def reason_words(reason: str, lang: str) -> str:
    """A verdict's reason in ``lang`` when it starts with one of the fixed reasons."""
    for english, key in REASONS.items():
        if reason.startswith(english):
            return translate(key, lang) + reason[len(english) :]
    return reason


def _label(key: str, lang: str) -> str:
    return translate(f"f_{key}", lang) if f"f_{key}" != translate(f"f_{key}", lang) else key


def _kinds(mask: Any, lang: str) -> str:
    if not isinstance(mask, int):
        return inert_line(str(mask))
    names = [kind_word(name, lang) for kind, name in KIND_NAMES.items() if mask & (1 << kind)]
    return ", ".join(names) or translate("st_none", lang)


def _safety_value(key: str, value: Any, lang: str) -> str:
    if key in SAFETY_WORDS:
        prefix, known = SAFETY_WORDS[key]
        return word(prefix, value, known, lang)
    return quoted(value) if isinstance(value, str) else inert_line(str(value))


def describe_lines(info: dict[str, Any], now: float, lang: str | None = None) -> list[str]:
    """The fields of ``describe`` for a person: one labelled line each."""
    lang = lang or language()
    lines = []
    for key, value in info.items():
        if value is None or (key == "text" and not value):
            continue
        label = _label(key, lang)
        if key == "text":
            lines.append(f"{label}:")
            lines += [TEXT_PREFIX + line for line in inert_block(value)]
        elif key == "safety":
            lines.append(f"{label}:")
            lines += [f"    {_label(k, lang)}: {_safety_value(k, v, lang)}"
                      for k, v in value.items() if v is not None]  # fmt: skip
        elif key in QUOTED_FIELDS:
            lines.append(f"{label}: {quoted(str(value))}")
        elif key == "kind":
            lines.append(f"{label}: {kind_word(value, lang)}")
        elif key == "kinds":
            lines.append(f"{label}: {_kinds(value, lang)}")
        elif key == "created" and isinstance(value, int):
            lines.append(f"{label}: {when(value, lang, now)}")
        elif key == "lifetime" and isinstance(value, int):
            lines.append(f"{label}: {lasting(value, lang)}")
            created = info.get("created")
            if isinstance(created, int):
                lines.append(f"{_label('expires', lang)}: {expiry(created + value, now, lang)}")
        else:
            lines.append(f"{label}: {inert_line(str(value))}")
    return lines
