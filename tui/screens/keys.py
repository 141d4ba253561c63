"""Keys & trust: my identities, trusted roots (remove one), and adding a share string only after
its fingerprint has been shown for checking."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.home import jarshy_home
from tui.i18n import t
from tui.screens.base import API_ERRORS, BaseScreen, api_failure
from tui.screens.dialogs import ConfirmScreen
from tui.state import safe


class KeysScreen(BaseScreen):
    """Who I sign as, whom I trust, and adding or removing a trusted root."""

    HEADING = "keys_trust"
    BINDINGS = [
        Binding("r,delete", "remove", "Remove", id="remove"),
        Binding("f9", "wipe", "Wipe", id="wipe"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.identities: list[dict[str, Any]] = []
        self.roots: list[dict[str, Any]] = []
        self.checked: dict[str, Any] | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static("", id="mine")
            yield Static("", id="roots-title", classes="subheading")
            yield OptionList(id="roots")
            with Horizontal(classes="row"):
                yield Input(placeholder=t("share_placeholder", self.lang), id="share")
                yield Button(t("add_root", self.lang), id="trust", disabled=True)
            yield Static("", id="share-check")

    def on_mount(self) -> None:
        super().on_mount()
        self.show()
        self.query_one("#share", Input).focus()
        self.load()

    def reconnected(self) -> None:
        self.load()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#share", Input).placeholder = t("share_placeholder", self.lang)
        self.query_one("#trust", Button).label = t("add_root", self.lang)
        self.show()

    @work(exclusive=True, group="load")
    async def load(self) -> None:
        try:
            self.identities = await self.jarshy.call("identities")
            self.roots = await self.jarshy.call("trust.list")
        except API_ERRORS:
            return
        self.show()

    def show(self) -> None:
        lang = self.lang
        mine = [f"[b]{t('my_ids', lang)}[/b]"]
        for i in self.identities:
            state = t("unlocked" if i.get("unlocked") else "locked", lang)
            mine.append(f"  {safe(i['name']):<20} {safe(i['fingerprint'])}  ({state})")
        if not self.identities:
            mine.append(f"  {t('no_ids', lang)}")
        self.query_one("#mine", Static).update("\n".join(mine))
        title = f"[b]{t('roots', lang)}[/b]" + ("" if self.roots else f"\n  {t('no_roots', lang)}")
        self.query_one("#roots-title", Static).update(title)
        roots = self.query_one("#roots", OptionList)
        highlighted = roots.highlighted
        roots.clear_options()
        roots.add_options(
            [
                Option(f"{safe(r['name']):<20} {safe(r['fingerprint'])}", id=str(r["key_id"]))
                for r in self.roots
            ]
        )
        roots.display = bool(self.roots)
        if self.roots:
            roots.highlighted = min(highlighted or 0, len(self.roots) - 1)

    @on(Input.Changed, "#share")
    def share_changed(self) -> None:
        self.check_share()

    @work(exclusive=True, group="share")
    async def check_share(self) -> None:
        """Decode the pasted share and show its fingerprint before it can be trusted."""
        share = self.query_one("#share", Input).value.strip()
        check = self.query_one("#share-check", Static)
        button = self.query_one("#trust", Button)
        self.checked, button.disabled = None, True
        if not share:  # emptied (or just trusted): keep the last outcome on show
            return
        try:
            info = await self.jarshy.call("share.decode", share=share)
        except API_ERRORS as exc:
            check.update(api_failure(exc))
            return
        self.checked, button.disabled = info, False
        check.update(t("share_check", self.lang, name=safe(info.get("name") or "?"),
                       fp=safe(info["fingerprint"])))  # fmt: skip

    @on(Button.Pressed, "#trust")
    @on(Input.Submitted, "#share")
    def trust_pressed(self) -> None:
        if self.checked is not None:
            self.add_root()

    @work(exclusive=True, group="change")
    async def add_root(self) -> None:
        share = self.query_one("#share", Input).value.strip()
        check = self.query_one("#share-check", Static)
        try:
            added = await self.jarshy.call("trust.add", share=share)
        except API_ERRORS as exc:
            check.update(api_failure(exc))
            return
        check.update(t("added", self.lang, name=safe(added["name"]), n=added["changed"]))
        self.query_one("#share", Input).value = ""
        self.load()

    def action_remove(self) -> None:
        self.remove_root()

    @work(exclusive=True, group="change")
    async def remove_root(self) -> None:
        roots = self.query_one("#roots", OptionList)
        if roots.highlighted is None or not self.roots:
            return
        root = self.roots[roots.highlighted]
        question = t(
            "confirm_remove", self.lang, name=safe(root["name"]), fp=safe(root["fingerprint"])
        )
        if not await self.app.push_screen_wait(ConfirmScreen(question, self.lang)):
            return
        check = self.query_one("#share-check", Static)
        try:
            removed = await self.jarshy.call("trust.remove", key_id=root["key_id"])
        except API_ERRORS as exc:
            check.update(api_failure(exc))
            return
        check.update(t("removed", self.lang, name=safe(root["name"]), n=removed["changed"]))
        self.load()

    def action_wipe(self) -> None:
        self.wipe()

    @work(exclusive=True, group="change")
    async def wipe(self) -> None:
        """The panic wipe, after one confirmation: `jarshy wipe --yes` in a subprocess (it stops
        the daemon through its API first; the UI touches no file itself), then the UI exits."""
        socket = getattr(self.app, "socket_path", None)
        home = wipe_home_shown()
        if not await self.app.push_screen_wait(
            ConfirmScreen(t("confirm_wipe", self.lang, home=safe(str(home))), self.lang)
        ):
            return
        check = self.query_one("#share-check", Static)
        check.update(t("wiping", self.lang))
        argv = [sys.executable, "-m", "relay.cli", "wipe", "--yes"]
        if socket is not None:
            argv += ["--socket", str(socket)]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await proc.communicate()
        if proc.returncode != 0:
            why = safe(err.decode(errors="replace").strip() or f"exit {proc.returncode}")
            check.update(t("wipe_failed", self.lang, why=why))
            return
        self.app.exit(message=t("wiped", self.lang))


def wipe_home_shown() -> Path:
    """The home `jarshy wipe` will wipe (the same rule as the CLI's: $JARSHY_HOME or the
    platform's data dir), to name it in the question."""
    return jarshy_home()
