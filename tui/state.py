"""What the UI shows, as plain data: the feed model, its order, filters and badges.

No Textual here, so it is tested on its own.  Bulletins are the API's Bulletin objects (dicts).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from tui.i18n import t

SEVERITY_ORDER = ("unknown", "minor", "moderate", "severe", "extreme")
KINDS = (
    "all",
    "news",
    "safety",
    "correction",
    "retraction",
    "certificate",
    "revocation",
    "announcement",
)
LANGS = ("all", "ru", "kk", "kk-Latn", "en", "mixed")
GLYPHS = {
    "trusted": "✔",
    "unknown_key": "?",
    "pending_key": "…",
    "revoked": "✖",
    "invalid": "✖",
}
STYLES = {
    "trusted": "bold green",
    "unknown_key": "bold yellow",
    "pending_key": "dim",
    "revoked": "bold red",
    "invalid": "bold white on red",
}


def badge(status: str, lang: str) -> str:
    """Glyph + word: never colour alone."""
    return f"{GLYPHS.get(status, '?')} {t(status, lang)}"


def author_label(b: dict[str, Any], lang: str) -> str:
    """The trusted name, or a visibly different claim, or the key id."""
    if b.get("signer_name"):
        return str(b["signer_name"])
    if b.get("claimed_name"):
        return f"{t('claims', lang)}: {b['claimed_name']}"
    return f"key {str(b.get('author', ''))[:8]}"


def first_line(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


def is_active_alert(b: dict[str, Any]) -> bool:
    return b.get("kind") == "safety" and b.get("status") == "trusted" and not b.get("expired")


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
            if SEVERITY_ORDER.index(severity) < SEVERITY_ORDER.index(self.min_severity):
                return False
        if self.trusted_only and b.get("status") != "trusted":
            return False
        return not (self.text and self.text.casefold() not in str(b.get("text", "")).casefold())


def cycle(values: tuple[str, ...], current: str) -> str:
    return values[(values.index(current) + 1) % len(values)] if current in values else values[0]


def order_key(b: dict[str, Any]) -> tuple[int, int, float, str]:
    """Active trusted safety alerts first by severity, then everything newest first."""
    if is_active_alert(b):
        return (
            0,
            -SEVERITY_ORDER.index(b.get("severity") or "unknown"),
            -b["received_at"],
            b["id"],
        )
    return (1, 0, -b["received_at"], b["id"])


@dataclass
class FeedModel:
    """All bulletins the UI knows, and the order it shows them in.

    The shown order is kept incrementally (binary insertion), so taking in one new bulletin costs
    about the same with 10 000 bulletins as with 100.
    """

    bulletins: dict[str, dict[str, Any]] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    _order: list[tuple[int, int, float, str]] = field(default_factory=list)

    def upsert(self, b: dict[str, Any]) -> None:
        old = self.bulletins.get(b["id"])
        if old is not None:
            self._remove(old)
        merged = {**old, **b} if old else b
        self.bulletins[b["id"]] = merged
        if self.filters.accepts(merged):
            bisect.insort(self._order, order_key(merged))

    def update_verdict(self, change: dict[str, Any]) -> bool:
        b = self.bulletins.get(change.get("id", ""))
        if b is None:
            return False
        self._remove(b)
        b.update({k: v for k, v in change.items() if k in ("status", "reason", "signer_name")})
        if self.filters.accepts(b):
            bisect.insort(self._order, order_key(b))
        return True

    def _remove(self, b: dict[str, Any]) -> None:
        key = order_key(b)
        index = bisect.bisect_left(self._order, key)
        if index < len(self._order) and self._order[index] == key:
            del self._order[index]

    def refilter(self) -> None:
        """Rebuild the order after the filters changed."""
        self._order = sorted(
            order_key(b) for b in self.bulletins.values() if self.filters.accepts(b)
        )

    def __len__(self) -> int:
        return len(self._order)

    def row(self, index: int) -> dict[str, Any]:
        return self.bulletins[self._order[index][3]]

    def rows(self) -> list[dict[str, Any]]:
        return [self.bulletins[key[3]] for key in self._order]

    def counts(self) -> dict[str, int]:
        rows = [b for b in self.bulletins.values() if self.filters.accepts(b)]
        return {
            "shown": len(rows),
            "trusted": sum(1 for b in rows if b.get("status") == "trusted"),
            "alerts": sum(1 for b in rows if is_active_alert(b)),
        }
