"""Small modal dialogs: a passphrase prompt (for `unlock`) and a yes/no confirmation."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from tui.i18n import t
from tui.state import safe


class PassphraseScreen(ModalScreen[str | None]):
    """Ask for an identity's passphrase; dismissed with the passphrase, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, identity: str, lang: str, error: str = "") -> None:
        super().__init__()
        self.identity, self.lang, self.error = identity, lang, error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            name = safe(self.identity)
            yield Static(t("passphrase_for", self.lang, name=name), classes="heading")
            yield Input(password=True, id="passphrase")
            yield Static(self.error, id="passphrase-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(t("unlock", self.lang), id="unlock", variant="primary")
                yield Button(t("cancel", self.lang), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#passphrase-error").display = bool(self.error)
        self.query_one("#passphrase", Input).focus()

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def submit(self) -> None:
        self.dismiss(self.query_one("#passphrase", Input).value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A question answered with y / n (or the buttons)."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, lang: str) -> None:
        super().__init__()
        self.question, self.lang = question, lang

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="heading")
            with Horizontal(classes="buttons"):
                yield Button(f"y  {t('yes', self.lang)}", id="yes", variant="error")
                yield Button(f"n  {t('no', self.lang)}", id="no")

    @on(Button.Pressed)
    def pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
