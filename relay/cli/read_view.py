"""`jarshy read` for a person: one line per bulletin, or plain labelled blocks for screen readers.

The verdict always comes first, before anything the author wrote.  Every string from a bulletin
is inert (relay.inert): its line breaks show as ``↵``, its controls and bidi characters as
``\\u{..}``; a self-announced name is a quoted claim.
"""

from __future__ import annotations

from typing import Any

from relay.cli.human import (
    author_words,
    badge,
    expiry,
    kind_word,
    language,
    severity_word,
    verdict_word,
    when,
)
from relay.i18n import translate
from relay.inert import inert_line, quoted

CONTINUATION = "    "  # where a line folded to the terminal's width goes on: never column 0


def format_bulletin(b: dict[str, Any], plain: bool = False, lang: str | None = None) -> str:
    """One bulletin on one line, the verdict first: nothing the author wrote comes before it.

    ``plain`` gives the verdict as its bare status name ("unknown_key"), for scripts.
    """
    lang = lang or language()
    status = str(b.get("status"))
    shown = inert_line(status) if plain else badge(status, lang)
    how, name = author_words(b, lang)
    who = f"{translate('claims', lang)}: {name}" if how == "claims" else name
    extra = f" [{severity_word(b['severity'], lang)}]" if b.get("severity") else ""
    return translate("read_line", lang, badge=shown, kind=kind_word(b.get("kind"), lang),
                     extra=extra, when=when(b.get("created"), lang), who=who,
                     lang=inert_line(str(b.get("lang"))),
                     text=inert_line(str(b.get("text") or "")))  # fmt: skip


def plain_block(b: dict[str, Any], now: float, lang: str | None = None) -> list[str]:
    """One bulletin as labelled lines for a screen reader: the verdict as a word first, no
    symbols or box drawing, no meaning carried by colour; a blank line ends the block."""
    lang = lang or language()
    status = str(b.get("status"))

    def field(label: str, value: str) -> str:
        return translate("plain_field", lang, label=translate(label, lang).capitalize(),
                         value=value)  # fmt: skip

    kind, written = kind_word(b.get("kind"), lang), when(b.get("created"), lang, now)
    lines = [translate("plain_head", lang, verdict=verdict_word(status, lang), kind=kind,
                       when=written)]  # fmt: skip
    if status in ("trusted", "unknown_key", "pending_key", "revoked", "invalid"):
        lines.append(field("f_verdict", translate(f"verdict_meaning_{status}", lang)))
    how, name = author_words(b, lang)
    lines.append(translate(f"plain_author_{how}", lang, who=name))
    if b.get("severity"):
        lines.append(field("f_severity", severity_word(b["severity"], lang)))
    if b.get("event"):
        lines.append(field("f_event", quoted(str(b["event"]))))
    if b.get("area"):
        lines.append(field("f_area", quoted(str(b["area"]))))
    lines.append(field("f_lang", inert_line(str(b.get("lang")))))
    if isinstance(b.get("received_at"), int | float):
        lines.append(field("f_received", when(b["received_at"], lang, now)))
    if "expires_at" in b:
        said = expiry(b.get("expires_at"), now, lang)  # "expires in 3 hours": its own label
        lines.append(said[:1].upper() + said[1:])
    lines.append(field("f_text", inert_line(str(b.get("text") or ""))))
    return [*lines, ""]


def fold(line: str, width: int) -> list[str]:
    """``line`` cut to ``width`` terminal cells, every piece after the first indented.

    A terminal wraps a long line to column 0 by itself, where a text padded to the right length
    could put a fake verdict; on a terminal `read` folds its lines first.
    """
    from rich.cells import cell_len, chop_cells

    if width <= len(CONTINUATION) + 10 or cell_len(line) <= width:
        return [line]
    first, *_ = chop_cells(line, width)
    rest = line[len(first) :]
    return [first] + [CONTINUATION + part for part in chop_cells(rest, width - len(CONTINUATION))]
