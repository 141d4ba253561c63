"""Mesh status (link, radio, nodes heard, channel, airtime, queue) and the Help screen."""

from __future__ import annotations

import time
from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from relay.inert import inert_line
from tui.i18n import help_text, t
from tui.screens.base import BaseScreen
from tui.state import ago, safe


def mesh_text(s: dict[str, Any], lang: str, now: float) -> str:
    """The status object of the API, in words."""
    link = s.get("link") or {}
    radio = s.get("radio") or {}
    simulated = link.get("simulated", s.get("simulated"))
    mode = t("simulated" if simulated else "real_radio", lang)
    state = t("link_" + str(link.get("state", "down")), lang)
    lines = [f"[b]{t('link', lang)}:[/b] [reverse b] {mode} [/] {state} · "
             f"{safe(link.get('address') or '—')}"]  # fmt: skip
    if radio:
        lines.append(f"[b]{t('radio', lang)}:[/b] " + t(
            "radio_line", lang, name=safe(radio.get("name") or "—"),
            model=safe(radio.get("model") or "—"), firmware=safe(radio.get("firmware") or "—"),
            role=safe(radio.get("role") or "—")))  # fmt: skip
        lines.append("  " + t("region_line", lang, region=safe(radio.get("region") or "—"),
                              preset=safe(radio.get("preset") or "—")))  # fmt: skip
    cu, tx = s.get("channel_utilization"), s.get("air_util_tx")
    lines.append(t("channel", lang, cu="—" if cu is None else f"{cu:.1f}",
                   tx="—" if tx is None else f"{tx:.1f}"))  # fmt: skip
    air = s.get("airtime") or {}
    if air:
        lines.append(t("airtime", lang, used=f"{air.get('used_s', 0):.1f}",
                       budget=f"{air.get('budget_s', 0):.0f}",
                       window=int((air.get("window_s") or 3600) // 60)))  # fmt: skip
        if air.get("busy"):
            lines.append(f"  [b yellow]⚠ {t('busy', lang)}[/]")
    queue = s.get("queue") or {}
    by = " · ".join(f"{k} {v}" for k, v in (queue.get("by_priority") or {}).items())
    lines.append(t("queue", lang, depth=queue.get("depth", 0)) + (f" — {by}" if by else ""))
    dropped = " · ".join(f"{k} {v}" for k, v in (queue.get("dropped") or {}).items() if v)
    if dropped:
        lines.append(f"  {t('dropped', lang)}: {dropped}")
    for ignored in link.get("ignored_radios") or []:
        until = time.strftime("%H:%M", time.localtime(float(ignored.get("until", 0))))
        node = safe(ignored.get("node"))
        lines.append(f"  [b red]⛔ {t('spam_brake', lang, node=node, until=until)}[/]")
    bridge = s.get("bridge")
    if isinstance(bridge, dict):  # the MQTT bridge between meshes (docs/bridge.md)
        lines.append(t("bridge_line", lang, url=safe(inert_line(str(bridge.get("url") or "—"), 80)),
                       state=safe(inert_line(str(bridge.get("state") or "—"), 20)),
                       queued=int(bridge.get("queued") or 0)))  # fmt: skip
        if bridge.get("last_error"):
            lines.append(f"  [b yellow]⚠ {safe(inert_line(str(bridge['last_error']), 160))}[/]")
    nodes = sorted(s.get("nodes") or [], key=lambda n: -(n.get("last_heard") or 0))
    lines += ["", f"[b]{t('nodes', lang)} ({len(nodes)})[/b]"]
    if nodes:
        lines.append(f"[dim]  {t('node_head', lang)}[/dim]")
    for n in nodes:
        name = safe(inert_line(str(n.get("name") or f"!{n.get('num', 0):08x}"), 20).ljust(20))
        snr = "—" if n.get("snr") is None else f"{n['snr']:.1f}"
        hops = "—" if n.get("hops") is None else str(n["hops"])
        lines.append(f"  {name} {snr:>6}  {hops:>4}  {ago(n.get('last_heard'), now, lang)}")
    if not nodes:
        lines.append(f"  {t('no_nodes', lang)}")
    return "\n".join(lines)


class MeshScreen(BaseScreen):
    """Link state (real radio or SIMULATED), radio, nodes heard, channel, airtime, queue."""

    HEADING = "mesh"

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static("", id="mesh")

    def on_mount(self) -> None:
        super().on_mount()
        self.status_changed()
        self.query_one(VerticalScroll).focus()

    def status_changed(self) -> None:
        status = self.jarshy.status_data
        text = (
            mesh_text(status, self.lang, self.jarshy.clock())
            if status
            else t("connecting", self.lang)
        )
        self.query_one("#mesh", Static).update(text)

    def relabel(self) -> None:
        super().relabel()
        self.status_changed()


class HelpScreen(BaseScreen):
    """Keys, and what each badge means, in plain words."""

    HEADING = "help"

    def body(self) -> ComposeResult:
        with VerticalScroll(classes="panel"):
            yield Static(help_text(self.lang), id="help-text")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(VerticalScroll).focus()

    def relabel(self) -> None:
        super().relabel()
        self.query_one("#help-text", Static).update(help_text(self.lang))
