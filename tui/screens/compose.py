"""Write, measure, sign and send; then follow the honest delivery state of what was sent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Select, Static, TextArea

from relay.compose import DraftError, draft_from_params
from relay.i18n import decimal
from relay.i18n.limits import one_packet_characters
from tui.i18n import t
from tui.messages import DeliveryChanged
from tui.screens.base import API_ERRORS, BaseScreen, api_failure
from tui.screens.dialogs import ConfirmScreen, PassphraseScreen
from tui.state import (
    CERTAINTIES,
    COMPOSE_KINDS,
    EVENTS,
    LANGS,
    SEVERITY_ORDER,
    URGENCIES,
    delivery_text,
    meter_text,
    safe,
)


def labelled(name: str, values: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    """Options; the event says what it is (severity, urgency and certainty words are distinct)."""
    return (
        [(v, v) for v in values]
        if name != "event"
        else [(f"{t(name, lang)}: {v}", v) for v in values]
    )


class ComposeScreen(BaseScreen):
    """Kind, text, language, safety fields, a live size meter, signing identity, send."""

    HEADING = "compose"
    BINDINGS = [Binding("ctrl+s", "send", "Sign & send", id="send_key")]

    def __init__(self) -> None:
        super().__init__()
        self.sent_id: str | None = None
        self.sent_by = ""
        self.measured: dict[str, Any] | None = None
        self.fit_chars: int | None = (
            None  # characters of this text one packet holds, if it needs more
        )
        self.delivery: tuple[str | None, int | None] = (None, None)

    def body(self) -> ComposeResult:
        lang = self.lang
        with VerticalScroll(classes="panel", id="compose-form"):
            with Horizontal(classes="row"):
                yield Select([(k, k) for k in COMPOSE_KINDS], value="news", allow_blank=False,
                             id="kind", classes="narrow")  # fmt: skip
                yield Select([(v, v) for v in LANGS[1:]], prompt=t("lang_auto", lang),
                             id="lang", classes="narrow")  # fmt: skip
                yield Select([], prompt=t("identity", lang), id="identity")
            yield TextArea(id="text", placeholder=t("text_placeholder", lang))
            yield Static(t("meter_empty", lang), id="meter", classes="meter")
            with Horizontal(classes="row", id="safety"):
                yield Select(labelled("event", EVENTS, lang), value="other", allow_blank=False,
                             id="event", classes="narrow")  # fmt: skip
                yield Select(labelled("severity", SEVERITY_ORDER[::-1], lang), value="severe",
                             allow_blank=False, id="severity")  # fmt: skip
                yield Select(labelled("urgency", URGENCIES, lang), value="immediate",
                             allow_blank=False, id="urgency")  # fmt: skip
                yield Select(labelled("certainty", CERTAINTIES, lang), value="observed",
                             allow_blank=False, id="certainty")  # fmt: skip
            with Horizontal(classes="row"):
                yield Input(placeholder=t("area_placeholder", lang), id="area")
                yield Input(placeholder=t("expires_placeholder", lang), id="expires",
                            restrict=r"[0-9]*", classes="narrow")  # fmt: skip
            yield Input(placeholder=t("ref_placeholder", lang), id="ref")
            with Horizontal(classes="row"):
                yield Button(t("send_key", lang) + " (ctrl+s)", id="send", variant="primary")
                yield Static("", id="outcome")
            yield Static("", id="delivery")

    def on_mount(self) -> None:
        super().on_mount()
        self.kind_changed()
        self.query_one("#text", TextArea).focus()
        self.load_identities()

    def reconnected(self) -> None:
        self.load_identities()
        self.measure()

    @work(exclusive=True, group="identities")
    async def load_identities(self) -> None:
        try:
            ids = await self.jarshy.call("identities")
        except API_ERRORS:
            return
        select: Select[str] = self.query_one("#identity", Select)
        chosen = select.value
        state = {True: t("unlocked", self.lang), False: t("locked", self.lang)}
        select.set_options([(f"{safe(i['name'])} ({state[bool(i['unlocked'])]})", i["name"])
                            for i in ids])  # fmt: skip
        names = [i["name"] for i in ids]
        if chosen in names:
            select.value = chosen
        elif names:
            select.value = next((i["name"] for i in ids if i["unlocked"]), names[0])
        else:
            self.query_one("#outcome", Static).update(t("no_identity", self.lang))

    @on(Select.Changed, "#kind")
    def kind_changed(self) -> None:
        kind = self.query_one("#kind", Select).value
        self.query_one("#safety").display = kind == "safety"
        self.query_one("#ref").display = kind in ("correction", "retraction")
        self.measure()

    @on(TextArea.Changed, "#text")
    @on(Select.Changed, "#lang, #event, #severity, #urgency, #certainty")
    @on(Input.Changed, "#area, #expires, #ref")
    def fields_changed(self) -> None:
        self.measure()

    @work(exclusive=True, group="meter")
    async def measure(self) -> None:
        """Ask the daemon how big this is on air; each keystroke cancels the previous question."""
        await asyncio.sleep(0.1)
        text = self.query_one("#text", TextArea).text
        if not text.strip():
            self.measured = None
        else:
            params = self.params()
            params.pop("identity", None)
            try:
                self.measured = await self.jarshy.call("size", **params)
            except API_ERRORS as exc:
                self.query_one("#meter", Static).update(api_failure(exc))
                return
        self.fit_chars = None
        if self.measured and int(self.measured.get("packets") or 0) > 1:
            self.show_meter()  # the size now, the characters a moment later
            self.fit_chars = await fitting_characters(params)
        self.show_meter()

    def show_meter(self) -> None:
        text = self.query_one("#text", TextArea).text
        meter = self.query_one("#meter", Static)
        shown = meter_text(self.measured, len(text), self.lang)
        if self.fit_chars is not None:
            shown += "\n" + t("meter_max", self.lang, chars=self.fit_chars)
        meter.update(shown)
        meter.set_class(bool(self.measured and not self.measured.get("fits")), "too-big")

    def params(self) -> dict[str, Any]:
        kind = str(self.query_one("#kind", Select).value)
        params: dict[str, Any] = {"kind": kind, "text": self.query_one("#text", TextArea).text}
        identity = self.query_one("#identity", Select).value
        if isinstance(identity, str):
            params["identity"] = identity
        lang = self.query_one("#lang", Select).value
        if isinstance(lang, str):
            params["lang"] = lang
        expires = self.query_one("#expires", Input).value.strip()
        if expires.isdigit() and int(expires) > 0:
            params["expires"] = int(expires) * 60
        ref = self.query_one("#ref", Input).value.strip()
        if ref and kind in ("correction", "retraction"):
            params["ref"] = ref
        if kind == "safety":
            params["safety"] = {
                name: str(self.query_one(f"#{name}", Select).value)
                for name in ("event", "severity", "urgency", "certainty")
            }
            area = self.query_one("#area", Input).value.strip()
            if area:
                params["safety"]["area"] = area
        return params

    @on(Button.Pressed, "#send")
    def action_send(self) -> None:
        self.send()

    @work(exclusive=True, group="send")
    async def send(self) -> None:
        """Unlock the identity if it is locked (asking for its passphrase), then publish."""
        outcome = self.query_one("#outcome", Static)
        params = self.params()
        identity = params.get("identity")
        if not identity:
            outcome.update(t("no_identity", self.lang))
            return
        try:
            if not await self.confirm_packets(params):
                outcome.update(t("not_sent", self.lang))
                return
            ids = await self.jarshy.call("identities")
            error = ""
            while not any(i["name"] == identity and i["unlocked"] for i in ids):
                passphrase = await self.app.push_screen_wait(
                    PassphraseScreen(identity, self.lang, error)
                )
                if passphrase is None:
                    outcome.update(t("cancelled", self.lang))
                    return
                try:
                    await self.jarshy.call("unlock", identity=identity, passphrase=passphrase)
                    break
                except Exception as exc:
                    if getattr(exc, "code", "") != "wrong-passphrase":
                        raise
                    error = str(exc)
            result = await self.jarshy.call("publish", **params)
        except API_ERRORS as exc:
            outcome.update(api_failure(exc))
            return
        self.sent_id, self.sent_by = result["id"], identity
        outcome.update(t("sent", self.lang, name=safe(identity), id=safe(result["id"]),
                         bytes=result["bytes"]))  # fmt: skip
        self.show_delivery(result.get("delivery"), None)
        self.load_identities()

    async def confirm_packets(self, params: dict[str, Any]) -> bool:
        """A text that needs more than one radio packet is announced before it goes: its packets,
        its airtime and how many characters of it one packet holds; the author decides."""
        measuring = {k: v for k, v in params.items() if k != "identity"}
        size = await self.jarshy.call("size", **measuring)
        packets = int(size.get("packets") or 0)
        if packets <= 1:
            return True
        preset = str(size.get("preset") or "LONG_FAST")
        seconds = (size.get("airtime_ms") or {}).get(preset, 0) / 1000
        chars = await fitting_characters(measuring)
        question = t("confirm_multi", self.lang, packets=packets, preset=preset,
                     seconds=decimal(seconds, self.lang), chars="?" if chars is None else chars)  # fmt: skip
        answer: bool = await self.app.push_screen_wait(ConfirmScreen(question, self.lang))
        return answer

    def show_delivery(self, delivery: str | None, held_by: int | None) -> None:
        self.delivery = (delivery, held_by)
        self.query_one("#delivery", Static).update(delivery_text(delivery, held_by, self.lang))

    def relabel(self) -> None:
        super().relabel()
        self.show_meter()
        self.show_delivery(*self.delivery)

    def delivery_changed(self, message: DeliveryChanged) -> None:
        if message.bulletin_id == self.sent_id:
            self.show_delivery(message.delivery, message.held_by)


async def fitting_characters(params: dict[str, Any]) -> int | None:
    """How many characters of this text fit one packet (a few signatures, off the event loop)."""
    try:
        draft = draft_from_params({**params, "ref": params.get("ref") or "00" * 8})
    except DraftError:
        return None
    return await asyncio.to_thread(one_packet_characters, draft, int(time.time()))
