"""The feed list: a virtualised view that renders only the visible rows (Textual's line API).

One line per bulletin from 120 columns up; two lines below that, so that at 80 columns every row
still shows badge, kind, author, language, area, both times and the start of the text.

Rows are drawn as segments (no markup is parsed), the badge always in its own first column, and
every string from a bulletin inert (``relay.inert``): a text's line breaks show as ``↵`` and its
control, bidi and format characters as ``\\u{..}``, so no bulletin can draw outside its row.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.i18n import t
from tui.state import (
    STYLES,
    FeedModel,
    author_label,
    badge,
    clip,
    is_active_alert,
    kind_label,
    one_line,
    shown_text,
    stamp,
)

BADGE_WIDTH = 15
WIDE = 120


class FeedList(ScrollView, can_focus=True):
    """Rows of the feed; enter opens the bulletin under the cursor."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "Top", show=False),
        Binding("end", "jump(-1)", "End", show=False),
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
        self._selected_id: str | None = None

    @property
    def row_height(self) -> int:
        return 1 if self.size.width >= WIDE else 2

    def refresh_rows(self) -> None:
        """The model changed: keep the cursor on the same bulletin, resize, repaint."""
        if self._selected_id is not None:
            index = self.model.index_of(self._selected_id)
            if index is not None and index != self.cursor:
                self.set_reactive(FeedList.cursor, index)
        self.virtual_size = Size(self.size.width, len(self.model) * self.row_height)
        self.set_reactive(FeedList.cursor, min(self.cursor, max(0, len(self.model) - 1)))
        self._remember()
        self.refresh()

    def on_resize(self) -> None:
        self.refresh_rows()

    def _remember(self) -> None:
        self._selected_id = self.model.row(self.cursor)["id"] if len(self.model) else None

    def action_move(self, delta: int) -> None:
        if len(self.model):
            self.cursor = max(0, min(len(self.model) - 1, self.cursor + delta))
            self._remember()
            self.scroll_to_cursor()
            if self.cursor >= len(self.model) - 20:
                self.post_message(self.NearEnd())

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height // self.row_height - 1))

    def action_jump(self, index: int) -> None:
        self.action_move((len(self.model) if index < 0 else index) - self.cursor)

    def scroll_to_cursor(self) -> None:
        h = self.row_height
        top, height = self.scroll_offset.y, max(h, self.size.height)
        if self.cursor * h < top:
            self.scroll_to(y=self.cursor * h, animate=False)
        elif (self.cursor + 1) * h > top + height:
            self.scroll_to(y=(self.cursor + 1) * h - height, animate=False)

    def action_open(self) -> None:
        if len(self.model):
            self.post_message(self.Open(self.model.row(self.cursor)["id"]))

    def on_click(self, event: events.Click) -> None:
        index = (event.y + self.scroll_offset.y) // self.row_height
        if 0 <= index < len(self.model):
            if index == self.cursor and event.chain > 1:
                self.action_open()
            self.action_move(index - self.cursor)

    def watch_cursor(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, h = self.size.width, self.row_height
        line = y + self.scroll_offset.y
        index, part = divmod(line, h)
        if index >= len(self.model):
            if index == 0 and part == 0:
                return Strip([Segment(" " + t("empty", self.lang), Style(italic=True))])
            return Strip.blank(width)
        b = self.model.row(index)
        base = Style(reverse=True) if index == self.cursor and self.has_focus else Style()
        status = str(b.get("status", ""))
        strong = Style(bold=True) if is_active_alert(b) else Style()
        signed = bool(b.get("signer_name"))
        author_style = Style(bold=True) if signed else Style(italic=True, color="yellow")
        author = author_label(b, self.lang)
        area = f"[{clip(str(b['area']), 24)}] " if b.get("area") else ""
        written, got = stamp(b.get("created"), "%m-%d %H:%M"), stamp(b.get("received_at"), "%H:%M")
        lang = clip(str(b.get("lang") or ""), 7)
        if part == 1:  # second line of a two-line row
            head = f"{'':{BADGE_WIDTH}} {written} ↓{got}  "
            text = one_line(shown_text(b, self.lang), max(1, width - len(head)))
            segments = [Segment(head, base + Style(dim=True)), Segment(text, base + strong)]
            return Strip(segments).crop_extend(0, width, base)
        segments = [
            Segment(badge(status, self.lang).ljust(BADGE_WIDTH)[:BADGE_WIDTH] + " ",
                    base + Style.parse(STYLES.get(status, ""))),
            Segment(f"{clip(kind_label(b), 16):<16} ", base + strong),
        ]  # fmt: skip
        if h == 2:
            segments += [
                Segment(f"{clip(author, 28):<28}", base + author_style),
                Segment(f" {lang:<7} {area}", base),
            ]
        else:
            text = one_line(shown_text(b, self.lang), width)
            segments += [
                Segment(f"{written} ↓{got} ", base + Style(dim=True)),
                Segment(f"{clip(author, 24):<24}", base + author_style),
                Segment(f" {lang:<7} {area}", base),
                Segment(text, base + strong),
            ]
        return Strip(segments).crop_extend(0, width, base)
