"""`jarshy status` for a person: the daemon's status answer as lines in the user's language.

No Python values reach the reader (no None, dicts, epoch seconds): a missing figure says "not
reported", times are local, durations in words.  Strings the daemon reports (radio names,
addresses, the bridge's last error) are made inert by the caller (`say`).
"""

from __future__ import annotations

from typing import Any

from relay.cli.human import language, lasting, when
from relay.i18n import translate

STATUS_WORDS = ("trusted", "unknown_key", "pending_key", "revoked", "invalid")
LINK_STATES = ("up", "down", "connecting")
BRIDGE_STATES = ("connected", "connecting", "down")


def duration(seconds: float, lang: str | None = None) -> str:
    """A duration in words a person reads: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    return lasting(seconds, lang or language())


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percent(value: Any, lang: str) -> str:
    return f"{value:.1f} %" if _number(value) else translate("st_not_reported", lang)


def _count(value: Any) -> str:
    return str(value) if _number(value) else "?"


def _counted(items: dict[str, Any], lang: str, prefix: str | None = None) -> str:
    """ "3 trusted, 1 unknown key" from a dict of counts; "none" when every count is 0."""

    def name(key: str) -> str:
        return translate(prefix + key, lang) if prefix and key in STATUS_WORDS else str(key)

    shown = [f"{n} {name(k)}" for k, n in items.items() if _number(n) and n]
    return ", ".join(shown) if shown else translate("st_none", lang)


def status_lines(s: dict[str, Any], roots: int, now: float, lang: str | None = None) -> list[str]:
    """The ``status`` answer as lines of human text: no Python values, durations in words."""
    lang = lang or language()
    link = s.get("link") or {}
    state = link.get("state")
    state_word = translate(f"link_state_{state}", lang) if state in LINK_STATES else str(state)
    sim = translate("st_simulated", lang) if link.get("simulated") else ""
    lines = [translate("st_link", lang, state=state_word, address=link.get("address", "?"),
                       sim=sim, uptime=duration(s.get("uptime_s") or 0, lang))]  # fmt: skip
    lines.append(_radio_line(s.get("radio") or {}, lang))
    lines.append(translate("st_channel", lang, cu=_percent(s.get("channel_utilization"), lang),
                           tx=_percent(s.get("air_util_tx"), lang)))  # fmt: skip
    air = s.get("airtime") or {}
    lines.append(
        translate("st_airtime", lang, used=f"{air.get('used_s', 0):g}",
                  budget=f"{air.get('budget_s', 0):g}",
                  window=duration(air.get("window_s") or 0, lang))
        + (translate("st_busy", lang) if air.get("busy") else "")
    )  # fmt: skip
    lines.append(_queue_line(s.get("queue") or {}, lang))
    lines.append(translate("st_nodes", lang, nodes=len(s.get("nodes") or []),
                           held=_counted(s.get("counts") or {}, lang, "st_w_")))  # fmt: skip
    held = s.get("untrusted") or {}
    if held:
        lines.append(
            translate("st_untrusted", lang, rows=_count(held.get("rows")),
                      rows_limit=_count(held.get("rows_limit")),
                      kib=_count((held.get("bytes") or 0) // 1024),
                      kib_limit=_count((held.get("bytes_limit") or 0) // 1024),
                      refused=_count(held.get("refused")), evicted=_count(held.get("evicted")))
            + (translate("st_rejudging", lang) if held.get("rejudging") else "")
        )  # fmt: skip
    for ignored in link.get("ignored_radios") or []:
        until = ignored.get("until")
        lines.append(translate("st_ignored", lang, node=ignored.get("node", "?"),
                               left=duration((until or now) - now, lang),
                               until=when(until, lang, now)))  # fmt: skip
    if "bridge" in s:
        lines += bridge_lines(s["bridge"], lang, now)
    lines.append(translate("st_no_roots" if not roots else "st_roots", lang, n=roots))
    return lines


def _radio_line(radio: dict[str, Any], lang: str) -> str:
    if not radio:
        return translate("st_radio_none", lang)
    known = [str(radio[k]) for k in ("name", "model") if radio.get(k)]
    detail = [translate(f"st_{k}", lang, v=radio[k])
              for k in ("firmware", "region", "preset", "role") if radio.get(k)]  # fmt: skip
    return translate("st_radio", lang, details=", ".join(known + detail))


def _queue_line(queue: dict[str, Any], lang: str) -> str:
    depth = queue.get("depth") or 0
    line = translate("st_queue", lang, depth=_count(depth))
    if depth:
        line += f" ({_counted(queue.get('by_priority') or {}, lang)})"
    if queue.get("dropped"):
        line += "; " + translate("st_dropped", lang, what=_counted(queue["dropped"], lang))
    return line


def bridge_state_word(state: Any, lang: str) -> str:
    return translate(f"bridge_{state}", lang) if state in BRIDGE_STATES else str(state)


def bridge_lines(bridge: dict[str, Any] | None, lang: str, now: float) -> list[str]:
    """The MQTT bridge between meshes: off, or its state, counters and last error."""
    if not bridge:
        return [translate("st_bridge_off", lang)]
    since = bridge.get("since")
    lines = [
        translate("st_bridge", lang, state=bridge_state_word(bridge.get("state"), lang),
                  url=bridge.get("url", "?"), since=when(since, lang, now),
                  queued=_count(bridge.get("queued", 0)), sent=_count(bridge.get("sent", 0)),
                  received=_count(bridge.get("received", 0)),
                  rejected=_count(bridge.get("rejected", 0)))
    ]  # fmt: skip
    if bridge.get("last_error"):
        lines.append(translate("st_bridge_error", lang, error=bridge["last_error"]))
    return lines
