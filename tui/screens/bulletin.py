"""One bulletin in full: text, author and key, certificate chain, times, path, links, and why.

The verdict has a widget of its own (``#verdict``) above everything the author wrote, and the text
another (``#detail-text``): plain text, never markup, each line inert (``relay.inert``) and indented
under a bar, wrapped lines included, so nothing in a bulletin can look like the verdict.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from relay.i18n import local_time, relative
from relay.inert import inert_block, inert_line
from tui.i18n import t
from tui.screens.base import API_ERRORS, BaseScreen
from tui.state import (
    STYLES,
    author_label,
    badge,
    delivery_text,
    key_id_groups,
    one_line,
    safe,
    stamp,
)


def verdict_text(b: dict[str, Any], lang: str) -> str:
    """The verdict and its reason, as Rich markup: the only thing in the ``#verdict`` widget."""
    status = str(b.get("status"))
    return (
        f"[{STYLES.get(status, '')}] {badge(status, lang)} [/]  "
        f"[b]{t('why', lang)}:[/b] {safe(b.get('reason') or '—')}"
    )


KINDS = ("news", "safety", "correction", "retraction", "certificate", "revocation", "announcement")
SEVERITY_WORDS = ("minor", "moderate", "severe", "extreme")


def heading_text(b: dict[str, Any], lang: str = "en") -> str:
    """Kind, severity and event (from the bulletin, so after the verdict and escaped); the kind
    and severity in the UI language when they are words Jarshy knows."""
    kind = b.get("kind")
    head = f"[b]{t('kind_' + kind, lang) if kind in KINDS else safe(kind)}[/b]"
    severity = b.get("severity")
    if severity:
        head += f" · {t('sev_' + severity, lang) if severity in SEVERITY_WORDS else safe(severity)}"
    if b.get("event"):
        head += f" · {safe(b['event'])}"
    return head


def when(ts: Any, lang: str, now: float | None) -> str:
    """A time from the bulletin as local text in the UI language ("5 дек. 14:03")."""
    if not isinstance(ts, int | float) or isinstance(ts, bool) or not ts:
        return "—"
    zone = datetime.now().astimezone().tzinfo or UTC
    try:
        return local_time(float(ts), lang, zone, now)
    except (OverflowError, OSError, ValueError):
        return stamp(ts)


def body_text(b: dict[str, Any], lang: str = "en") -> Text:
    """The bulletin's text as plain (never markup) inert lines; an unreadable one says so, and
    why (the decoder's reason, inert)."""
    if b.get("text_error"):
        why = inert_line(str(b["text_error"]))
        return Text(f"{t('text_unreadable', lang)}\n{why}", style="italic")
    return Text("\n".join(inert_block(str(b.get("text") or ""))))


def detail_text(b: dict[str, Any], lang: str, now: float | None = None) -> str:
    """Everything else about the bulletin as Rich markup: author, key, chain, times (local, in
    the UI language; the expiry also as a distance from ``now``), path."""
    lines = []
    author = safe(author_label(b, lang))
    if not b.get("signer_name"):
        author = f"[i yellow]{author}[/]"
    lines.append(f"[b]{t('author', lang)}:[/b] {author} · {t('key_id', lang)} "
                 f"[b]{safe(key_id_groups(str(b.get('author') or '')))}[/b]")  # fmt: skip
    chain = safe(b["chain"]) if b.get("chain") else t("chain_none", lang)
    lines.append(f"[b]{t('chain', lang)}:[/b] {chain}")
    lines.append(f"[b]{t('written', lang)}:[/b] {when(b.get('created'), lang, now)} · "
                 f"[b]{t('received', lang)}:[/b] {when(b.get('received_at'), lang, now)}")  # fmt: skip
    expires_at = b.get("expires_at")
    expires = when(expires_at, lang, now) if expires_at else t("never", lang)
    if expires_at and now is not None and isinstance(expires_at, int | float):
        expires += f" · {relative(expires_at - now, lang)}"
    if b.get("expired"):
        expires += f" [b red]({t('expired', lang)})[/]"
    lines.append(f"[b]{t('expires', lang)}:[/b] {expires}")
    if b.get("area"):
        lines.append(f"[b]{t('area', lang)}:[/b] {safe(b['area'])}")
    if b.get("hops") is not None or b.get("snr") is not None:
        snr = "—" if b.get("snr") is None else safe(b["snr"])
        hops = "—" if b.get("hops") is None else safe(b["hops"])
        lines.append(t("path", lang, hops=hops, snr=snr, source=safe(b.get("source") or "?")))
    if b.get("delivery"):
        lines.append(f"[b]{t('delivery', lang)}:[/b] "
                     f"{delivery_text(b['delivery'], b.get('held_by'), lang)}")  # fmt: skip
    lines.append(f"[dim]id {safe(b.get('id'))} · {safe(b.get('lang'))} · "
                 f"{safe(b.get('source'))}[/dim]")  # fmt: skip
    return "\n".join(lines)


class BulletinScreen(BaseScreen):
    """Everything about one bulletin; its corrections (and what it corrects) open with enter."""

    HEADING = "bulletin"

    def __init__(self, bulletin_id: str) -> None:
        super().__init__()
        self.bulletin_id = bulletin_id
        self.bulletin: dict[str, Any] | None = None
        self.corrections: list[dict[str, Any]] = []
        self.refers_to: dict[str, Any] | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="panel", id="detail-scroll"):
            yield Static("", id="verdict")
            yield Static("", id="detail-head")
            yield Static("", id="detail-text", markup=False)
            yield Static("", id="detail")
        yield OptionList(id="links")

    def on_mount(self) -> None:
        super().on_mount()
        self.bulletin = self.jarshy.model.bulletins.get(self.bulletin_id)
        self.show()
        self.query_one("#detail-scroll").focus()
        self.load()

    def reconnected(self) -> None:
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        try:
            got = await self.jarshy.call("get", id=self.bulletin_id)
        except API_ERRORS:
            return
        self.bulletin = {**(self.bulletin or {}), **got["bulletin"]}
        self.corrections, self.refers_to = got.get("corrections") or [], got.get("refers_to")
        self.show()

    def feed_changed(self) -> None:
        known = self.jarshy.model.bulletins.get(self.bulletin_id)
        if known is not None and self.bulletin is not None and known is not self.bulletin:
            self.bulletin = {**self.bulletin, **known}
            self.show()

    def relabel(self) -> None:
        super().relabel()
        self.show()

    def show(self) -> None:
        detail = self.query_one("#detail", Static)
        parts = ("#verdict", "#detail-head", "#detail-text")
        for part in parts:
            self.query_one(part).display = self.bulletin is not None
        if self.bulletin is None:
            detail.update(t("not_here", self.lang))
            return
        self.query_one("#verdict", Static).update(verdict_text(self.bulletin, self.lang))
        self.query_one("#detail-head", Static).update(heading_text(self.bulletin, self.lang))
        self.query_one("#detail-text", Static).update(body_text(self.bulletin, self.lang))
        detail.update(detail_text(self.bulletin, self.lang, self.jarshy.clock()))
        links = self.query_one("#links", OptionList)
        links.clear_options()
        linked = [(t("corrects", self.lang), self.refers_to)] if self.refers_to else []
        linked += [(t("corrected_by", self.lang), c) for c in self.corrections]
        if self.bulletin.get("ref") and not self.refers_to:
            ref = str(self.bulletin["ref"])
            links.add_option(Option(f"{t('corrects', self.lang)} {safe(ref)} "
                                    f"{t('not_here', self.lang)}", id=ref))  # fmt: skip
        for label, other in linked:
            words = one_line(str(other.get("text") or ""), 50)
            status = badge(str(other.get("status")), self.lang)
            links.add_option(Option(f"{label}: {status} · {safe(words)}", id=str(other["id"])))
        links.display = links.option_count > 0
        links.border_title = t("links", self.lang)

    @on(OptionList.OptionSelected, "#links")
    def open_link(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.app.push_screen(BulletinScreen(event.option.id))
