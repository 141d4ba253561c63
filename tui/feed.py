"""The feed list: a virtualised view that renders only the visible rows (Textual's line API)."""

from __future__ import annotations

import time

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.state import STYLES, FeedModel, author_label, badge, first_line, is_active_alert

BADGE_WIDTH = 16


class FeedList(ScrollView, can_focus=True):
    """Rows of the feed; enter opens the bulletin under the cursor."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
        Binding("home", "jump(0)", "Top", show=False),
        Binding("enter", "open", "Open", id="open"),
    ]
    DEFAULT_CSS = "FeedList { height: 1fr; }"

    cursor: reactive[int] = reactive(0)

    class NearEnd(Message):
        """The cursor is close to the oldest loaded bulletin: time to page in older ones."""

    class Open(Message):
        """The user wants to read this bulletin."""

        def __init__(self, bulletin_id: str) -> None:
            super().__init__()
            self.bulletin_id = bulletin_id

    def __init__(self, model: FeedModel, lang: str = "en", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.model = model
        self.lang = lang
        self.clock = time.time  # replaced in snapshot tests

    def refresh_rows(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.model))
        self.cursor = min(self.cursor, max(0, len(self.model) - 1))
        self.refresh()

    def action_move(self, delta: int) -> None:
        if len(self.model):
            self.cursor = max(0, min(len(self.model) - 1, self.cursor + delta))
            self.scroll_to_region_cursor()
            if self.cursor >= len(self.model) - 20:
                self.post_message(self.NearEnd())

    def action_jump(self, index: int) -> None:
        self.cursor = index
        self.scroll_to_region_cursor()

    def scroll_to_region_cursor(self) -> None:
        top = self.scroll_offset.y
        height = max(1, self.size.height)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_open(self) -> None:
        if len(self.model):
            self.post_message(self.Open(self.model.row(self.cursor)["id"]))

    def watch_cursor(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        index = y + self.scroll_offset.y
        if index >= len(self.model):
            return Strip.blank(width)
        b = self.model.row(index)
        selected = index == self.cursor and self.has_focus
        base = Style(reverse=True) if selected else Style()
        alert = is_active_alert(b)
        badge_width = BADGE_WIDTH if width >= 110 else 14
        badge_text = badge(b.get("status", ""), self.lang).ljust(badge_width)[:badge_width]
        kind = b.get("kind", "")
        if b.get("severity"):
            kind = f"{kind}/{b['severity']}"
        when = time.strftime("%m-%d %H:%M", time.localtime(b.get("created", 0)))
        text = first_line(b.get("text") or "", 200)
        area = f" [{b['area']}]" if b.get("area") else ""
        author = author_label(b, self.lang)
        if width >= 110:
            rest = f" {kind:<16} {when} {author[:22]:<22} {b.get('lang', ''):<7}{area} {text}"
        else:  # 80 columns: keep the words, drop the decoration
            rest = f" {when[6:]} {author[:16]:<16}{area} {text}"
        segments = [
            Segment(badge_text, base + Style.parse(STYLES.get(b.get("status", ""), ""))),
            Segment(rest, base + (Style(bold=True) if alert else Style())),
        ]
        return Strip(segments).crop_extend(0, width, base)
