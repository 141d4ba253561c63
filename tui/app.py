"""The Jarshy terminal UI: a Textual app that talks only to the daemon's local API."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.theme import Theme
from textual.widgets import Footer, Input, Static

from relay.api_client import ApiClient, ApiError, NoDaemon
from tui.feed import FeedList
from tui.i18n import LANGUAGES, default_language, t
from tui.state import KINDS, LANGS, SEVERITY_ORDER, FeedModel, cycle

HIGH_CONTRAST = Theme(
    name="jarshy-high-contrast", primary="#ffff00", secondary="#00ffff", accent="#ffffff",
    foreground="#ffffff", background="#000000", surface="#000000", panel="#000000",
    success="#00ff00", warning="#ffff00", error="#ff0000", dark=True,
)  # fmt: skip


class JarshyApp(App[None]):
    """Feed, bulletin, compose, keys & trust, mesh and help screens."""

    CSS_PATH = "app.tcss"
    TITLE = "Jarshy"
    BINDINGS = [
        Binding("f", "feed", "Feed", id="feed"),
        Binding("c", "compose", "Compose", id="compose"),
        Binding("y", "keys", "Keys", id="keys"),
        Binding("m", "mesh", "Mesh", id="mesh"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("slash", "search", "Search", id="search"),
        Binding("t", "toggle_trusted", "Trusted only", show=False),
        Binding("k", "cycle_kind", "Kind", show=False),
        Binding("l", "cycle_lang", "Language filter", show=False),
        Binding("s", "cycle_severity", "Severity", show=False),
        Binding("g", "cycle_ui_language", "UI language", id="ui-language"),
        Binding("h", "toggle_contrast", "Contrast", show=False),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        socket_path: str | Path | None = None,
        model: FeedModel | None = None,
        lang: str | None = None,
        status: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.socket_path = socket_path
        self.model = model or FeedModel()
        self.lang = lang or default_language()
        self.status_data: dict[str, Any] | None = status
        self.api: ApiClient | None = None
        self.connected = asyncio.Event()
        self.register_theme(HIGH_CONTRAST)

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static("", id="banner")
            yield Static("", id="status-line")
            yield Static("", id="filters")
            yield Input(placeholder=t("search", self.lang), id="search")
            yield FeedList(self.model, self.lang, id="feed")
            yield Static("", id="counts")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one("#banner", Static).display = False
        self.query_one(FeedList).focus()
        self.refresh_feed()
        if self.socket_path is not None:
            self.connect_loop()

    # -- talking to the daemon ---------------------------------------------------------------

    @work(exclusive=True, group="connection")
    async def connect_loop(self) -> None:
        delay = 0.5
        while True:
            try:
                async with ApiClient(self.socket_path or "") as api:
                    self.api = api
                    await self._load(api)
                    self.set_banner(None)
                    self.connected.set()
                    delay = 0.5
                    async for event in api.events():
                        self.handle_event(event)
            except (NoDaemon, ApiError, OSError):
                pass
            self.api = None
            self.connected.clear()
            self.set_banner(t("daemon_lost", self.lang))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _load(self, api: ApiClient) -> None:
        await api.call("subscribe")
        result = await api.call("query", limit=500)
        for b in result["bulletins"]:
            self.model.upsert(b)
        self.status_data = await api.call("status")
        self.refresh_feed()

    async def call(self, method: str, **params: Any) -> Any:
        if self.api is None:
            raise NoDaemon("not connected")
        return await self.api.call(method, **params)

    def handle_event(self, event: dict[str, Any]) -> None:
        name, data = event.get("event"), event.get("data") or {}
        if name == "bulletin":
            self.model.upsert(data)
        elif name == "verdict":
            self.model.update_verdict(data)
        elif name == "delivery" and data.get("id") in self.model.bulletins:
            self.model.bulletins[data["id"]]["delivery"] = data.get("delivery")
            self.model.bulletins[data["id"]]["held_by"] = data.get("held_by")
        elif name in ("mesh", "link"):
            if name == "mesh":
                self.status_data = data
            elif self.status_data is not None:
                self.status_data["link"] = data
        self.refresh_feed()
        screen = self.screen
        if hasattr(screen, "on_api_event"):
            screen.on_api_event(name, data)

    # -- feed ---------------------------------------------------------------------------------

    def set_banner(self, text: str | None) -> None:
        banner = self.query_one("#banner", Static)
        banner.display = text is not None
        banner.update(text or "")

    def refresh_feed(self) -> None:
        feed = self.query_one(FeedList)
        feed.lang = self.lang
        feed.refresh_rows()
        f = self.model.filters
        all_word = t("all", self.lang)
        self.query_one("#filters", Static).update(
            t("filters", self.lang, kind=all_word if f.kind == "all" else f.kind,
              lang=all_word if f.lang == "all" else f.lang,
              severity=f.min_severity, trusted=t("yes" if f.trusted_only else "no", self.lang))
        )  # fmt: skip
        self.query_one("#counts", Static).update(t("counts", self.lang, **self.model.counts()))
        self.query_one("#status-line", Static).update(self.status_line())

    def status_line(self) -> str:
        s = self.status_data
        if not s:
            return ""
        link = s.get("link") or {}
        radio = s.get("radio") or {}
        sim = f"[reverse] {t('simulated', self.lang)} [/reverse] " if link.get("simulated") else ""
        return (
            f"{sim}{link.get('state', '?')} · {radio.get('region') or '?'} "
            f"{radio.get('preset') or ''} · {len(s.get('nodes') or [])} nodes"
        )

    @on(FeedList.NearEnd)
    def near_end(self) -> None:
        self.load_older()

    @work(exclusive=True, group="paging")
    async def load_older(self) -> None:
        """Page in the next older bulletins (the API answers newest first, 500 at a time)."""
        if self.api is None or not self.model.bulletins:
            return
        stored = sum(1 for b in self.model.bulletins.values() if b.get("status") != "invalid")
        try:  # offsets, not times: a bundle import gives many bulletins one receive time
            result = await self.call("query", limit=500, offset=stored)
        except (NoDaemon, ApiError):
            return
        for b in result["bulletins"]:
            self.model.upsert(b)
        self.refresh_feed()

    @on(FeedList.Open)
    def open_bulletin(self, message: FeedList.Open) -> None:
        from tui.screens import BulletinScreen

        self.push_screen(BulletinScreen(message.bulletin_id))

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.model.filters.text = event.value
        self.model.refilter()
        self.refresh_feed()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        self.query_one(FeedList).focus()

    def _refilter(self) -> None:
        self.model.refilter()
        self.refresh_feed()

    def action_toggle_trusted(self) -> None:
        self.model.filters.trusted_only = not self.model.filters.trusted_only
        self._refilter()

    def action_cycle_kind(self) -> None:
        self.model.filters.kind = cycle(KINDS, self.model.filters.kind)
        self._refilter()

    def action_cycle_lang(self) -> None:
        self.model.filters.lang = cycle(LANGS, self.model.filters.lang)
        self._refilter()

    def action_cycle_severity(self) -> None:
        self.model.filters.min_severity = cycle(SEVERITY_ORDER, self.model.filters.min_severity)
        self._refilter()

    def action_cycle_ui_language(self) -> None:
        self.lang = cycle(LANGUAGES, self.lang)
        self.query_one("#search", Input).placeholder = t("search", self.lang)
        self.refresh_feed()
        if hasattr(self.screen, "relabel"):
            self.screen.relabel()

    def action_toggle_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_feed(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def _open(self, name: str) -> None:
        from tui import screens

        self.action_feed()
        self.push_screen(getattr(screens, name)())

    def action_compose(self) -> None:
        self._open("ComposeScreen")

    def action_keys(self) -> None:
        self._open("KeysScreen")

    def action_mesh(self) -> None:
        self._open("MeshScreen")

    def action_help(self) -> None:
        self._open("HelpScreen")
