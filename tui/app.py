"""The Jarshy terminal UI: a Textual app that talks only to the daemon's local API.

The app owns the connection (one worker, reconnecting with back-off), the feed model
(``tui.state.FeedModel``) and the last mesh status; screens read those as attributes and the app
tells them about changes through coalescing messages (``tui.messages``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Input, Static

from relay.api_client import ApiClient, ApiError, NoDaemon
from tui import screens
from tui.feed import FeedList
from tui.i18n import LANGUAGE_NAMES, LANGUAGES, default_language, t
from tui.messages import (
    ConnectionChanged,
    DeliveryChanged,
    FeedChanged,
    StatusChanged,
    relabel_bindings,
)
from tui.state import (
    KINDS,
    LANGS,
    PAGE,
    SEVERITY_ORDER,
    FeedModel,
    Filters,
    cycle,
    safe,
    status_line,
)

HIGH_CONTRAST = Theme(
    name="jarshy-high-contrast", primary="#ffff00", secondary="#00ffff", accent="#ffffff",
    foreground="#ffffff", background="#000000", surface="#000000", panel="#000000",
    success="#00ff00", warning="#ffff00", error="#ff0000", dark=True,
)  # fmt: skip
API_ERRORS = (NoDaemon, ApiError, OSError, asyncio.TimeoutError)


class JarshyApp(App[None]):
    """Feed (the default screen), bulletin, compose, keys & trust, mesh and help screens."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "Jarshy"
    BINDINGS = [
        Binding("f,f2", "feed", "Feed", id="feed"),
        Binding("c,f3", "compose", "Compose", id="compose"),
        Binding("y,f4", "keys", "Keys", id="keys"),
        Binding("m,f5", "mesh", "Mesh", id="mesh"),
        Binding("question_mark,f1", "help", "Help", id="help", key_display="?"),
        Binding("slash", "search", "Search", id="search_key", key_display="/"),
        Binding("t", "toggle_trusted", "Trusted only", show=False, id="trusted_only"),
        Binding("k", "cycle_kind", "Kind", show=False, id="cycle_kind"),
        Binding("l", "cycle_lang", "Language filter", show=False, id="cycle_lang"),
        Binding("s", "cycle_severity", "Severity", show=False, id="cycle_severity"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="clear_filters"),
        Binding("g,f6", "cycle_ui_language", "Language", id="ui_language"),
        Binding("h", "toggle_contrast", "Contrast", show=False, id="contrast"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        socket_path: str | Path | None = None,
        model: FeedModel | None = None,
        lang: str | None = None,
        status: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.socket_path = socket_path
        self.model = model or FeedModel()
        self.lang = lang or default_language()
        self.status_data: dict[str, Any] | None = status
        self.clock = clock
        self.api: ApiClient | None = None
        self.connected = asyncio.Event()
        self.banner_text: str | None = None
        self.register_theme(HIGH_CONTRAST)

    def compose(self) -> ComposeResult:
        with Vertical(id="main"):
            yield Static("", id="banner", classes="banner")
            yield Static("", id="status-line", classes="status-line")
            yield Static("", id="filters", classes="muted")
            yield Input(placeholder=t("search", self.lang), id="search")
            yield FeedList(self.model, self.lang, id="feed")
            yield Static("", id="counts", classes="muted")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).display = False
        self.query_one(FeedList).focus()
        relabel_bindings(self, self.lang)
        relabel_bindings(self.query_one(FeedList), self.lang)
        self.refresh_feed()
        self.show_banner(self.screen)
        self.set_interval(15, self.unpin_expired)
        if self.socket_path is not None:
            self.connect_loop()

    # -- talking to the daemon ---------------------------------------------------------------

    @work(exclusive=True, group="connection")
    async def connect_loop(self) -> None:
        """Connect, load, follow events; when the daemon goes, show a banner and retry."""
        delay, attempt = 0.5, 0
        while True:
            try:
                async with ApiClient(self.socket_path or "") as api:
                    await self._load(api)
                    self.api = api
                    self.connected.set()
                    delay, attempt = 0.5, 0
                    self.post_message(ConnectionChanged(True))
                    async for event in api.events():
                        self.handle_event(event)
            except API_ERRORS:
                pass
            self.api = None
            self.connected.clear()
            attempt += 1
            self.post_message(ConnectionChanged(False, delay, attempt))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _load(self, api: ApiClient) -> None:
        await api.call("subscribe")
        self.status_data = await api.call("status")
        result = await api.call("query", limit=PAGE)
        for b in result["bulletins"]:
            self.model.upsert(b)
        self.post_message(FeedChanged())
        self.post_message(StatusChanged())

    async def call(self, method: str, **params: Any) -> Any:
        """One API request on the current connection (NoDaemon while there is none)."""
        if self.api is None:
            raise NoDaemon("not connected")
        return await self.api.call(method, **params)

    def handle_event(self, event: dict[str, Any]) -> None:
        """Apply one API event to the model; the repaint follows in a coalescing message."""
        name, data = event.get("event"), event.get("data") or {}
        if name == "bulletin":
            self.model.upsert(data)
            self.post_message(FeedChanged())
        elif name == "verdict":
            if self.model.update_verdict(data):
                self.post_message(FeedChanged())
        elif name == "delivery":
            if self.model.update_delivery(data):
                self.post_message(FeedChanged())
            self.post_message(
                DeliveryChanged(str(data.get("id")), data.get("delivery"), data.get("held_by"))
            )
        elif name == "mesh":
            self.status_data = data
            self.post_message(StatusChanged())
        elif name == "link":
            self.status_data = {**(self.status_data or {}), "link": data}
            self.post_message(StatusChanged())

    @on(FeedChanged)
    def feed_changed(self) -> None:
        # a daemon event can land while the app closes and its widgets are already gone
        with contextlib.suppress(NoMatches):
            self.refresh_feed()
            hook = getattr(self.screen, "feed_changed", None)
            if hook is not None:
                hook()

    @on(StatusChanged)
    def status_changed(self) -> None:
        with contextlib.suppress(NoMatches):
            self.refresh_status()
            hook = getattr(self.screen, "status_changed", None)
            if hook is not None:
                hook()

    @on(DeliveryChanged)
    def delivery_changed(self, message: DeliveryChanged) -> None:
        hook = getattr(self.screen, "delivery_changed", None)
        if hook is not None:
            hook(message)

    @on(ConnectionChanged)
    def connection_changed(self, message: ConnectionChanged) -> None:
        if message.connected:
            self.banner_text = None
            hook = getattr(self.screen, "reconnected", None)
            if hook is not None:
                hook()
        else:
            self.banner_text = t("daemon_lost", self.lang, s=f"{message.retry_in:g}",
                                 n=message.attempt)  # fmt: skip
        for screen in self.screen_stack:
            self.show_banner(screen)

    def show_banner(self, screen: Screen[Any]) -> None:
        for banner in screen.query(".banner"):
            banner.display = self.banner_text is not None
            if isinstance(banner, Static):
                banner.update(self.banner_text or "")

    def unpin_expired(self) -> None:
        if self.model.expire(self.clock()):
            self.post_message(FeedChanged())

    # -- the feed -----------------------------------------------------------------------------

    def refresh_feed(self) -> None:
        main = self.screen_stack[0]
        feed = main.query_one(FeedList)
        feed.lang = self.lang
        feed.refresh_rows()
        main.query_one("#filters", Static).update(safe(self.model.filters.describe(self.lang)))
        main.query_one("#counts", Static).update(t("counts", self.lang, **self.model.counts()))
        self.refresh_status()

    def refresh_status(self) -> None:
        simulated, text = status_line(self.status_data, self.lang)
        mode = t("simulated" if simulated else "real_radio", self.lang) if self.status_data else ""
        flag = f"[reverse bold] {mode} [/] " if mode else ""
        line = f"[b]Jarshy[/b] {flag}{safe(text)} · {self.lang.upper()}"
        for screen in self.screen_stack:
            for widget in screen.query(".status-line"):
                if isinstance(widget, Static):
                    widget.update(line)

    @on(FeedList.NearEnd)
    def near_end(self) -> None:
        self.load_older()

    @work(exclusive=True, group="paging")
    async def load_older(self) -> None:
        """Page in the next older bulletins (the API answers newest first, a page at a time)."""
        if self.api is None or not self.model.bulletins:
            return
        try:  # offsets, not times: a bundle import gives many bulletins one receive time
            result = await self.call("query", limit=PAGE, offset=self.model.stored())
        except API_ERRORS:
            return
        for b in result["bulletins"]:
            self.model.upsert(b)
        self.post_message(FeedChanged())

    @on(FeedList.Open)
    def open_bulletin(self, message: FeedList.Open) -> None:
        self.push_screen(screens.BulletinScreen(message.bulletin_id))

    def action_search(self) -> None:
        self.action_feed()
        search = self.query_one("#search", Input)
        search.display = True
        search.focus()

    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.model.filters.text = event.value
        self._refilter()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        search = self.query_one("#search", Input)
        search.display = bool(search.value)
        self.query_one(FeedList).focus()

    def _refilter(self) -> None:
        self.model.refilter()
        self.post_message(FeedChanged())

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

    def action_clear_filters(self) -> None:
        self.model.filters = Filters()
        search = self.query_one("#search", Input)
        search.value, search.display = "", False
        self._refilter()

    # -- languages, themes, screens ------------------------------------------------------------

    def action_cycle_ui_language(self) -> None:
        self.set_language(cycle(LANGUAGES, self.lang))

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.query_one("#search", Input).placeholder = t("search", lang)
        relabel_bindings(self, lang)
        relabel_bindings(self.query_one(FeedList), lang)
        for screen in self.screen_stack:
            relabel_bindings(screen, lang)
            hook = getattr(screen, "relabel", None)
            if hook is not None:
                hook()
        if self.banner_text is not None:
            self.banner_text = t("daemon_lost", lang, s="…", n="…")
            self.show_banner(self.screen)
        self.refresh_feed()

    def action_toggle_contrast(self) -> None:
        self.theme = "textual-dark" if self.theme == HIGH_CONTRAST.name else HIGH_CONTRAST.name

    def action_feed(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def _open(self, screen: Screen[Any]) -> None:
        self.action_feed()
        self.push_screen(screen)

    def action_compose(self) -> None:
        self._open(screens.ComposeScreen())

    def action_keys(self) -> None:
        self._open(screens.KeysScreen())

    def action_mesh(self) -> None:
        self._open(screens.MeshScreen())

    def action_help(self) -> None:
        self._open(screens.HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every Jarshy action by name in the command palette (ctrl+p), in the UI language."""
        lang = self.lang
        for ident, action in (
            ("feed", self.action_feed), ("compose", self.action_compose),
            ("keys_trust", self.action_keys), ("mesh", self.action_mesh),
            ("help", self.action_help), ("search_key", self.action_search),
            ("trusted_only", self.action_toggle_trusted), ("cycle_kind", self.action_cycle_kind),
            ("cycle_lang", self.action_cycle_lang), ("cycle_severity", self.action_cycle_severity),
            ("clear_filters", self.action_clear_filters), ("contrast", self.action_toggle_contrast),
        ):  # fmt: skip
            yield SystemCommand(t(ident, lang), f"Jarshy: {t(ident, 'en')}", action)
        for code, name in LANGUAGE_NAMES.items():
            yield SystemCommand(f"{t('ui_language', lang)}: {name}", code,
                                partial(self.set_language, code))  # fmt: skip
        yield from super().get_system_commands(screen)
