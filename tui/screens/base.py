"""What every screen shares: banner, status line, heading, footer, back, and the app's hooks.

Each screen reads what it shows from the app (``app.model``, ``app.status_data``, ``app.lang``) or
asks the API in a worker; the app calls its hooks (``feed_changed``, ``status_changed``,
``delivery_changed``, ``reconnected``, ``relabel``) when something changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from relay.api_client import ApiError, NoDaemon
from tui.i18n import t
from tui.messages import relabel_bindings
from tui.state import FeedModel


class AppHooks(Protocol):
    """What a screen asks of the app (tui.app.JarshyApp), so screens need not import it."""

    lang: str
    model: FeedModel
    status_data: dict[str, Any] | None
    clock: Callable[[], float]

    async def call(self, method: str, **params: Any) -> Any: ...

    def show_banner(self, screen: Screen[Any]) -> None: ...

    def refresh_status(self) -> None: ...


class BaseScreen(Screen[None]):
    """Banner, status line and heading on top, the screen's body, the footer below."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]
    HEADING = ""

    @property
    def jarshy(self) -> AppHooks:
        return cast(AppHooks, self.app)

    @property
    def lang(self) -> str:
        return self.jarshy.lang

    def compose(self) -> ComposeResult:
        yield Static("", classes="banner")
        yield Static("", classes="status-line")
        yield Static(t(self.HEADING, self.lang), classes="heading", id="heading")
        yield from self.body()
        yield Footer()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        relabel_bindings(self, self.lang)
        self.jarshy.show_banner(self)
        self.jarshy.refresh_status()

    def on_screen_resume(self) -> None:
        self.jarshy.show_banner(self)
        self.jarshy.refresh_status()

    def relabel(self) -> None:
        """The UI language changed."""
        self.query_one("#heading", Static).update(t(self.HEADING, self.lang))

    def action_back(self) -> None:
        self.app.pop_screen()


def api_failure(exc: Exception) -> str:
    """An API failure in one line, markup-safe."""
    from tui.state import safe

    return f"[b red]✖[/] {safe(exc)}"


API_ERRORS = (NoDaemon, ApiError, OSError, TimeoutError)
