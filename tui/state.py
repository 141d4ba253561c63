"""What the UI shows, as plain data: the feed model, its order, filters, counts, badges and texts.

No Textual here, so it is tested on its own.  Bulletins are the API's Bulletin objects (dicts).
The feed keeps its shown order and its counts incrementally (binary insertion, running tallies), so
taking in one new bulletin costs about the same with 10 000 bulletins as with 100.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from relay import vocabulary
from relay.inert import inert_line
from tui.i18n import t

SEVERITY_ORDER = vocabulary.SEVERITIES  # least severe first, as on the wire
URGENCIES = vocabulary.URGENCIES[::-1]  # the compose form lists the most urgent first
CERTAINTIES = vocabulary.CERTAINTIES[::-1]
EVENTS = vocabulary.EVENTS
KINDS = ("all", *vocabulary.KIND_NAMES)
COMPOSE_KINDS = vocabulary.COMPOSE_KINDS
LANGS = ("all", "ru", "kk", "kk-Latn", "en", "mixed")
STATUSES = vocabulary.STATUSES
DELIVERY_STEPS = ("queued", "sent", "heard", "held")
GLYPHS = {"trusted": "✔", "unknown_key": "?", "pending_key": "…", "revoked": "✖", "invalid": "✖"}
STYLES = {
    "trusted": "bold green",
    "unknown_key": "bold yellow",
    "pending_key": "italic",
    "revoked": "bold red",
    "invalid": "bold white on red",
}
PAGE = 500  # bulletins per query (the API's maximum)

SortKey = tuple[int, int, float, str]


def badge(status: str, lang: str) -> str:
    """Glyph + word: never colour alone."""
    return f"{GLYPHS.get(status, '?')} {t(status, lang)}"


def author_label(b: dict[str, Any], lang: str) -> str:
    """The trusted signer's name, or a visibly different claim, or the bare key id (inert)."""
    if b.get("signer_name"):
        return inert_line(str(b["signer_name"]))
    if b.get("claimed_name"):
        return f"{t('claims', lang)}: {inert_line(str(b['claimed_name']))}"
    return f"{t('key', lang)} {inert_line(str(b.get('author', ''))[:8])}"


def safe(value: object) -> str:
    """An untrusted value for a Textual markup string: inert (``relay.inert``), on one line, and
    unable to open, close or escape a tag.  Textual takes any ``[`` for the start of a tag (even
    ``[2K``, which ``rich.markup.escape`` leaves alone), so every ``[`` is escaped; a trailing
    backslash gets a space after it, lest it escape the ``[`` of the markup that follows."""
    text = inert_line(str(value)).replace("[", "\\[")
    return text + " " if text.endswith("\\") else text


def key_id_groups(key_id: str) -> str:
    """A 16-hex key id in groups of four, easier to read out loud and compare."""
    return " ".join(key_id[i : i + 4] for i in range(0, len(key_id), 4))


def shown_text(b: dict[str, Any], lang: str) -> str:
    """The bulletin's text, or what to say instead when its text blob does not decode
    (docs/protocol.md §4: the verdict stands, the text is unreadable)."""
    if b.get("text_error"):
        return t("text_unreadable", lang)
    return str(b.get("text") or "")


def one_line(text: str, width: int = 60) -> str:
    """A bulletin's text for a one-line view: inert (``relay.inert``), its line breaks shown as
    ``↵``, clipped to ``width`` characters."""
    return inert_line(text.strip(), max(0, width))


def clip(text: str, width: int) -> str:
    """``text`` inert and at most ``width`` characters."""
    return inert_line(text, max(0, width))


def kind_label(b: dict[str, Any]) -> str:
    kind = inert_line(str(b.get("kind") or ""))
    return f"{kind}/{inert_line(str(b['severity']))}" if b.get("severity") else kind


def stamp(ts: float | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if not ts else time.strftime(fmt, time.localtime(ts))


def ago(ts: float | None, now: float, lang: str) -> str:
    """'42 s ago', '5 min ago', '3 h ago' or a date."""
    if not ts:
        return "—"
    delta = max(0.0, now - ts)
    if delta < 60:
        return t("ago_s", lang, n=int(delta))
    if delta < 3600:
        return t("ago_min", lang, n=int(delta // 60))
    if delta < 86_400:
        return t("ago_h", lang, n=int(delta // 3600))
    return stamp(ts)


def is_active_alert(b: dict[str, Any]) -> bool:
    """A trusted, unexpired safety alert: these are pinned above the feed."""
    return b.get("kind") == "safety" and b.get("status") == "trusted" and not b.get("expired")


def order_key(b: dict[str, Any]) -> SortKey:
    """Active alerts first by severity (then newest), then everything newest received first."""
    received = -float(b.get("received_at") or 0)
    if is_active_alert(b):
        return (0, -SEVERITY_ORDER.index(b.get("severity") or "unknown"), received, b["id"])
    return (1, 0, received, b["id"])


def cycle(values: tuple[str, ...], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


@dataclass
class Filters:
    kind: str = "all"
    lang: str = "all"
    min_severity: str = "unknown"
    trusted_only: bool = False
    text: str = ""

    def accepts(self, b: dict[str, Any]) -> bool:
        if self.kind != "all" and b.get("kind") != self.kind:
            return False
        if self.lang != "all" and b.get("lang") != self.lang:
            return False
        if self.min_severity != "unknown":
            severity = b.get("severity") or "unknown"
            rank = SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else 0
            if rank < SEVERITY_ORDER.index(self.min_severity):
                return False
        if self.trusted_only and b.get("status") != "trusted":
            return False
        return not (self.text and self.text.casefold() not in str(b.get("text", "")).casefold())

    def describe(self, lang: str) -> str:
        every = t("all", lang)
        return t(
            "filters", lang,
            kind=every if self.kind == "all" else self.kind,
            lang=every if self.lang == "all" else self.lang,
            severity=t("sev_" + self.min_severity, lang),
            trusted=t("yes" if self.trusted_only else "no", lang),
        ) + (f" · “{inert_line(self.text)}”" if self.text else "")  # fmt: skip


@dataclass
class FeedModel:
    """All bulletins the UI knows, the order it shows the accepted ones in, and their tallies."""

    bulletins: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    _order: list[SortKey] = field(default_factory=list)
    _tally: Counter[str] = field(default_factory=Counter)

    # -- keeping order and tallies ---------------------------------------------------------
    def _add(self, b: dict[str, Any]) -> None:
        if self.filters.accepts(b):
            key = order_key(b)
            bisect.insort(self._order, key)
            self._tally[str(b.get("status"))] += 1
            self._tally["alerts"] += key[0] == 0

    def _remove(self, b: dict[str, Any]) -> None:
        key = order_key(b)
        index = bisect.bisect_left(self._order, key)
        if index < len(self._order) and self._order[index] == key:
            del self._order[index]
            self._tally[str(b.get("status"))] -= 1
            self._tally["alerts"] -= key[0] == 0

    # -- changes from the API ----------------------------------------------------------------
    def upsert(self, b: dict[str, Any]) -> None:
        """A bulletin from `query`, `get` or a `bulletin` event (merged into what we had)."""
        old = self.bulletins.get(b["id"])
        if old is not None:
            self._remove(old)
            old.update(b)
            b = old
        self.bulletins[b["id"]] = b
        self._add(b)

    def update(self, change: dict[str, Any], keys: tuple[str, ...]) -> bool:
        """Apply a `verdict` or `delivery` event; False if we do not hold that bulletin."""
        b = self.bulletins.get(str(change.get("id", "")))
        if b is None:
            return False
        self._remove(b)
        b.update({k: change[k] for k in keys if k in change})
        self._add(b)
        return True

    def update_verdict(self, change: dict[str, Any]) -> bool:
        return self.update(change, ("status", "reason", "signer_name"))

    def update_delivery(self, change: dict[str, Any]) -> bool:
        return self.update(change, ("delivery", "held_by"))

    def expire(self, now: float) -> int:
        """Unpin alerts whose expiry has passed; returns how many moved (pinned rows only)."""
        pinned = bisect.bisect_left(self._order, (1, -(10**9), float("-inf"), ""))
        due = [
            self.bulletins[key[3]]
            for key in self._order[:pinned]
            if (self.bulletins[key[3]].get("expires_at") or float("inf")) <= now
        ]
        for b in due:
            self._remove(b)
            b["expired"] = True
            self._add(b)
        return len(due)

    def refilter(self) -> None:
        """Rebuild the order after the filters changed."""
        self._order, self._tally = [], Counter()
        shown = [b for b in self.bulletins.values() if self.filters.accepts(b)]
        for b in shown:
            self._tally[str(b.get("status"))] += 1
        self._order = sorted(order_key(b) for b in shown)
        self._tally["alerts"] = sum(1 for key in self._order if key[0] == 0)

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._order)

    def row(self, index: int) -> dict[str, Any]:
        return self.bulletins[self._order[index][3]]

    def rows(self) -> list[dict[str, Any]]:
        return [self.bulletins[key[3]] for key in self._order]

    def index_of(self, bulletin_id: str) -> int | None:
        b = self.bulletins.get(bulletin_id)
        if b is None:
            return None
        key = order_key(b)
        index = bisect.bisect_left(self._order, key)
        return index if index < len(self._order) and self._order[index] == key else None

    def stored(self) -> int:
        """Bulletins held that came from the store (forgeries are kept apart by the daemon)."""
        return sum(1 for b in self.bulletins.values() if b.get("status") != "invalid")

    def counts(self) -> dict[str, int]:
        return {
            "shown": len(self._order),
            "total": len(self.bulletins),
            "trusted": self._tally["trusted"],
            "unknown": self._tally["unknown_key"] + self._tally["pending_key"],
            "bad": self._tally["revoked"] + self._tally["invalid"],
            "alerts": self._tally["alerts"],
        }


# -- texts the screens show ------------------------------------------------------------------


def delivery_text(delivery: str | None, held_by: int | None, lang: str) -> str:
    """queued → sent to radio → heard by the mesh → held by N stores, with the reached ones ticked."""
    if not delivery:
        return ""
    reached = DELIVERY_STEPS.index(delivery) if delivery in DELIVERY_STEPS else -1
    parts = []
    for i, step in enumerate(DELIVERY_STEPS):
        word = t("held_n", lang, n=held_by or 0) if step == "held" else t("dl_" + step, lang)
        parts.append(f"{'●' if i <= reached else '○'} {word}")
    return " → ".join(parts)


def meter_text(size: dict[str, Any] | None, chars: int, lang: str) -> str:
    """Bytes on air, fragments, time on air on the radio's preset, fits one packet or not."""
    if not size or not size.get("bytes"):
        return t("meter_empty", lang)
    preset = size.get("preset") or "LONG_FAST"
    airtime = (size.get("airtime_ms") or {}).get(preset)
    fits = t("fits", lang) if size.get("fits") else t("not_fits", lang, n=size.get("packets"))
    seconds = "?" if airtime is None else f"{airtime / 1000:.1f}"
    return t("meter", lang, chars=chars, bytes=size["bytes"], packets=size.get("packets"),
             seconds=seconds, preset=preset, fits=fits)  # fmt: skip


def status_line(s: dict[str, Any] | None, lang: str) -> tuple[bool, str]:
    """(simulated?, 'up · KZ_863 LONG_FAST · 3 nodes') for the header line."""
    if not s:
        return False, t("connecting", lang)
    link = s.get("link") or {}
    radio = s.get("radio") or {}
    simulated = bool(link.get("simulated", s.get("simulated")))
    text = t("status_line", lang, state=t("link_" + str(link.get("state", "down")), lang),
             region=inert_line(str(radio.get("region") or "?")),
             preset=inert_line(str(radio.get("preset") or "?")),
             nodes=len(s.get("nodes") or []))  # fmt: skip
    return simulated, text
