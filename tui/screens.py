"""Secondary screens: bulletin details, compose, keys & trust, mesh status and help."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Select, Static, TextArea

from relay.api_client import ApiError, NoDaemon
from tui.i18n import HELP, t
from tui.state import SEVERITY_ORDER, author_label, badge

if TYPE_CHECKING:
    from tui.app import JarshyApp


def _when(ts: float | None) -> str:
    return "—" if not ts else time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


class BaseScreen(Screen[None]):
    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    @property
    def jarshy(self) -> JarshyApp:
        return cast("JarshyApp", self.app)

    def action_back(self) -> None:
        self.app.pop_screen()


class BulletinScreen(BaseScreen):
    """Everything about one bulletin, and why it got its verdict."""

    def __init__(self, bulletin_id: str) -> None:
        super().__init__()
        self.bulletin_id = bulletin_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static(id="detail")
        yield Footer()

    def on_mount(self) -> None:
        b = self.jarshy.model.bulletins.get(self.bulletin_id)
        if b is not None:
            self.show(b, [], None)
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        try:
            got = await self.jarshy.call("get", id=self.bulletin_id)
        except (ApiError, NoDaemon):
            return
        self.show(got["bulletin"], got["corrections"], got["refers_to"])

    def show(self, b: dict[str, Any], corrections: list[dict[str, Any]], refers: Any) -> None:
        lang = self.jarshy.lang
        lines = [
            f"[b]{badge(b['status'], lang)}[/b]  {b['kind']}"
            + (f" · {b['severity']} · {b.get('event') or ''}" if b.get("severity") else ""),
            f"{t('why', lang)}: {escape(b.get('reason') or '')}",
            "",
            escape(b.get("text") or ""),
            "",
            f"author: {escape(author_label(b, lang))}  key {b['author']}",
        ]
        if b.get("chain"):
            lines.append(f"certified by: {escape(b['chain'])}")
        lines.append(f"written {_when(b['created'])} · received {_when(b['received_at'])}")
        if b.get("expires_at"):
            lines.append(
                f"expires {_when(b['expires_at'])}" + (" (EXPIRED)" if b.get("expired") else "")
            )
        if b.get("area"):
            lines.append(f"area: {escape(b['area'])}")
        if b.get("hops") is not None or b.get("snr") is not None:
            lines.append(f"arrived over {b.get('hops')} hop(s), SNR {b.get('snr')} dB")
        if b.get("delivery"):
            lines.append(
                f"delivery: {b['delivery']}"
                + (f" (held by {b['held_by']})" if b.get("held_by") else "")
            )
        if refers:
            lines.append(f"corrects: {refers['id']} — {escape(refers['text'][:60])}")
        for c in corrections:
            lines.append(f"{c['kind']} {c['id']}: {escape(c['text'][:60])}")
        lines.append(f"id {b['id']} · {b['lang']} · via {b['source']}")
        self.query_one("#detail", Static).update("\n".join(lines))


class ComposeScreen(BaseScreen):
    """Write, measure, sign and send; then follow the honest delivery state."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            with Horizontal():
                yield Select([(k, k) for k in ("news", "safety", "correction", "retraction")],
                             value="news", allow_blank=False, id="kind")  # fmt: skip
                yield Input(placeholder="lang (auto)", id="lang")
            yield TextArea(id="text")
            yield Static("", id="meter", classes="meter")
            with Horizontal(id="safety"):
                yield Select(
                    [(s, s) for s in SEVERITY_ORDER],
                    value="severe",
                    allow_blank=False,
                    id="severity",
                )
                yield Input(placeholder="event (fire, curfew…)", id="event")
                yield Input(placeholder="area", id="area")
                yield Input(placeholder="expires (minutes)", id="expires")
            yield Input(placeholder="ref (id corrected)", id="ref")
            yield Select([], prompt="identity", id="identity")
            yield Input(
                placeholder=t("passphrase", self.jarshy.lang), password=True, id="passphrase"
            )
            yield Button(t("send", self.jarshy.lang), id="send", variant="primary")
            yield Static("", id="outcome")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()
        self.load_identities()

    @work
    async def load_identities(self) -> None:
        try:
            ids = await self.jarshy.call("identities")
        except (ApiError, NoDaemon):
            return
        select = cast("Select[str]", self.query_one("#identity", Select))
        select.set_options([(i["name"] + (" 🔓" if i["unlocked"] else ""), i["name"]) for i in ids])
        if ids:
            select.value = ids[0]["name"]

    @on(TextArea.Changed, "#text")
    def text_changed(self) -> None:
        self.measure()

    @work(exclusive=True, group="meter")
    async def measure(self) -> None:
        text = self.query_one("#text", TextArea).text
        try:
            size = await self.jarshy.call(
                "size", text=text, kind=str(self.query_one("#kind", Select).value)
            )
        except (ApiError, NoDaemon) as exc:
            self.query_one("#meter", Static).update(escape(str(exc)))
            return
        preset = size.get("preset") or "LONG_FAST"
        fits = (
            t("fits", self.jarshy.lang)
            if size["fits"]
            else t("not_fits", self.jarshy.lang, n=size["packets"])
        )
        airtime = size["airtime_ms"].get(preset, 0)
        self.query_one("#meter", Static).update(
            f"{len(text)} chars · {size['bytes']} bytes on air · {fits} · {airtime} ms on {preset}"
        )

    @on(Button.Pressed, "#send")
    def send_pressed(self) -> None:
        self.send()

    @work(exclusive=True, group="send")
    async def send(self) -> None:
        outcome = self.query_one("#outcome", Static)
        identity = self.query_one("#identity", Select).value
        if not isinstance(identity, str):
            outcome.update("no identity: create one with `jarshy keys new NAME`")
            return
        try:
            ids = await self.jarshy.call("identities")
            if not any(i["name"] == identity and i["unlocked"] for i in ids):
                passphrase = self.query_one("#passphrase", Input).value
                await self.jarshy.call("unlock", identity=identity, passphrase=passphrase)
            result = await self.jarshy.call("publish", **self.params(identity))
        except (ApiError, NoDaemon) as exc:
            outcome.update(f"[b red]✖[/] {escape(str(exc))}")
            return
        self.sent_id = result["id"]
        outcome.update(
            f"✔ {result['id']} · {result['bytes']} bytes · delivery: {result['delivery']}"
        )

    def params(self, identity: str) -> dict[str, Any]:
        kind = str(self.query_one("#kind", Select).value)
        params: dict[str, Any] = {"kind": kind, "text": self.query_one("#text", TextArea).text,
                                  "identity": identity}  # fmt: skip
        lang = self.query_one("#lang", Input).value.strip()
        if lang:
            params["lang"] = lang
        expires = self.query_one("#expires", Input).value.strip()
        if expires.isdigit():
            params["expires"] = int(expires) * 60
        ref = self.query_one("#ref", Input).value.strip()
        if ref:
            params["ref"] = ref
        if kind == "safety":
            params["safety"] = {
                "severity": str(self.query_one("#severity", Select).value),
                "event": self.query_one("#event", Input).value.strip() or "other",
                "area": self.query_one("#area", Input).value.strip() or None,
                "urgency": "immediate", "certainty": "observed",
            }  # fmt: skip
        return params

    def on_api_event(self, name: str, data: dict[str, Any]) -> None:
        if name == "delivery" and data.get("id") == getattr(self, "sent_id", None):
            held = f" · held by {data['held_by']} stores" if data.get("held_by") else ""
            self.query_one("#outcome", Static).update(
                f"✔ {data['id']} · delivery: {data['delivery']}{held}"
            )


class KeysScreen(BaseScreen):
    """My identities, trusted roots, and adding a share string after checking its fingerprint."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static("", id="mine")
            yield Static("", id="roots")
            yield Input(placeholder="paste a share string (jarshy:…)", id="share")
            yield Static("", id="share-check")
            yield Button(t("add_root", self.jarshy.lang), id="trust", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True)
    async def load(self) -> None:
        try:
            ids = await self.jarshy.call("identities")
            roots = await self.jarshy.call("trust.list")
        except (ApiError, NoDaemon):
            return
        mine = ["[b]My identities[/b]"] + [
            f"  {escape(i['name'])}  {i['fingerprint']}  {'unlocked' if i['unlocked'] else 'locked'}"
            for i in ids
        ]
        trusted = ["[b]Trusted roots[/b]"] + [
            f"  {escape(r['name'])}  {r['fingerprint']}" for r in roots
        ]
        self.query_one("#mine", Static).update(
            "\n".join(mine if ids else [*mine, "  (none: jarshy keys new NAME)"])
        )
        self.query_one("#roots", Static).update("\n".join(trusted))

    @on(Input.Changed, "#share")
    def share_changed(self) -> None:
        self.check_share()

    @work(exclusive=True, group="share")
    async def check_share(self) -> None:
        share = self.query_one("#share", Input).value.strip()
        check = self.query_one("#share-check", Static)
        button = self.query_one("#trust", Button)
        try:
            info = await self.jarshy.call("share.decode", share=share)
        except (ApiError, NoDaemon) as exc:
            check.update(escape(str(exc)) if share else "")
            button.disabled = True
            return
        check.update(
            f"{escape(info['name'] or '?')} — fingerprint [b]{info['fingerprint']}[/b]: check it with them"
        )
        button.disabled = False

    @on(Button.Pressed, "#trust")
    def trust_pressed(self) -> None:
        self.add_root()

    @work
    async def add_root(self) -> None:
        share = self.query_one("#share", Input).value.strip()
        try:
            added = await self.jarshy.call("trust.add", share=share)
        except (ApiError, NoDaemon) as exc:
            self.query_one("#share-check", Static).update(escape(str(exc)))
            return
        self.query_one("#share-check", Static).update(
            f"✔ trusting {escape(added['name'])}; {added['changed']} verdicts changed"
        )
        self.load()


class MeshScreen(BaseScreen):
    """Link, radio, nodes heard, channel and airtime, queue."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static("", id="mesh")
        yield Footer()

    def on_mount(self) -> None:
        self.render_status(self.jarshy.status_data or {})

    def on_api_event(self, name: str, data: dict[str, Any]) -> None:
        if name == "mesh":
            self.render_status(data)

    def render_status(self, s: dict[str, Any]) -> None:
        link = s.get("link") or {}
        radio = s.get("radio") or {}
        sim = (
            f"  [reverse] {t('simulated', self.jarshy.lang)} [/reverse]"
            if link.get("simulated")
            else "  real radio"
        )
        lines = [
            f"[b]Link[/b] {link.get('state', '?')} {escape(str(link.get('address')))}{sim}",
            f"[b]Radio[/b] {escape(str(radio.get('name')))} · {radio.get('model')} · firmware {radio.get('firmware')}",
            f"region {radio.get('region')} · preset {radio.get('preset')} · role {radio.get('role')}",
            f"channel utilisation {s.get('channel_utilization')} % · air_util_tx {s.get('air_util_tx')} %",
        ]
        airtime = s.get("airtime") or {}
        lines.append(
            f"airtime used {airtime.get('used_s')} s of {airtime.get('budget_s')} s per hour"
        )
        queue = s.get("queue") or {}
        lines.append(f"queue {queue.get('depth')} {queue.get('by_priority')}")
        lines.append("[b]Nodes heard[/b]")
        for n in s.get("nodes") or []:
            lines.append(
                f"  {escape(str(n.get('name') or n['num']))}  SNR {n.get('snr')}  hops {n.get('hops')}  last {_when(n.get('last_heard'))}"
            )
        self.query_one("#mesh", Static).update("\n".join(lines))


class HelpScreen(BaseScreen):
    """Keys, and what each badge means, in plain words."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static(HELP.get(self.jarshy.lang, HELP["en"]), id="help-text")
        yield Footer()

    def relabel(self) -> None:
        self.query_one("#help-text", Static).update(HELP.get(self.jarshy.lang, HELP["en"]))
