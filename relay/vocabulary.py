"""The words Jarshy's layers share, defined once: kinds, CAP fields, verdicts, transmit priorities,
radio roles (pure, no imports).

The wire (relay.wire.fields) gives each its code by position in these tuples; the UI and the CLI
show them; the daemon's API speaks them. Orders are the wire's (code 0 first); a view that wants
another order (most urgent first) derives it from these.
"""

from __future__ import annotations

KIND_NAMES = (
    "news", "safety", "correction", "retraction", "certificate", "revocation", "announcement",
)  # fmt: skip
COMPOSE_KINDS = ("news", "safety", "correction", "retraction")  # what a person writes
SEVERITIES = ("unknown", "minor", "moderate", "severe", "extreme")
URGENCIES = ("unknown", "past", "future", "expected", "immediate")
CERTAINTIES = ("unknown", "unlikely", "possible", "likely", "observed")
CATEGORIES = (
    "other", "geo", "met", "safety", "security", "rescue", "fire",
    "health", "env", "transport", "infra", "cbrne",
)  # fmt: skip
EVENTS = (
    "other", "violence", "fire", "flood", "earthquake", "curfew", "evacuation",
    "shelter", "medical", "water", "power", "communications", "roads", "protest",
    "chemical", "missing-person", "weather", "checkpoint", "aid",
)  # fmt: skip
REVOCATION_REASONS = ("unspecified", "compromised", "superseded", "retired")
STATUSES = ("trusted", "unknown_key", "pending_key", "revoked", "invalid")  # verdicts

# Transmit priorities (higher goes first): what relay.sync.judge.priority_of gives each bulletin,
# and the sync engine's own frames. Named once for the engine, the transmit queue and `status`.
PRIORITY_REVOCATION = 100
PRIORITY_SAFETY = 50  # + 10 per severity step: extreme 90, severe 80, moderate 70, minor 60
PRIORITY_CORRECTION = 40
PRIORITY_KEYS = 30
PRIORITY_NEWS = 20
PRIORITY_SYNC = 0
PRIORITY_BEACON = -1


def safety_priority(severity: str) -> int:
    """The priority of a safety alert of ``severity`` (one of SEVERITIES)."""
    return PRIORITY_SAFETY + 10 * SEVERITIES.index(severity)


def priority_name(priority: int) -> str:
    """How `status` and the logs name a priority ("safety severe", "news", "beacon", ...)."""
    if priority > PRIORITY_SAFETY and priority < PRIORITY_REVOCATION:
        step = (priority - PRIORITY_SAFETY) // 10
        if 0 < step < len(SEVERITIES) and priority % 10 == 0:
            return f"safety {SEVERITIES[step]}"
    return _PRIORITY_NAMES.get(priority, str(priority))


_PRIORITY_NAMES = {
    PRIORITY_REVOCATION: "revocation", PRIORITY_SAFETY: "safety", PRIORITY_CORRECTION: "correction",
    PRIORITY_KEYS: "keys", PRIORITY_NEWS: "news", PRIORITY_SYNC: "sync", PRIORITY_BEACON: "beacon",
}  # fmt: skip

# Meshtastic device roles (config.proto DeviceConfig.Role) by name; the firmware's relaying rules
# for each are modelled in relay.sim.firmware and relay.radio (emulator).
ROLE_NAMES = (
    "CLIENT", "CLIENT_MUTE", "ROUTER", "ROUTER_CLIENT", "REPEATER", "TRACKER", "SENSOR", "TAK",
    "CLIENT_HIDDEN", "LOST_AND_FOUND", "TAK_TRACKER", "ROUTER_LATE", "CLIENT_BASE",
)  # fmt: skip
RELAYLESS_ROLES = frozenset({"CLIENT_MUTE"})  # radios whose firmware never rebroadcasts
