"""The words Jarshy's layers share, defined once: kinds, CAP fields, verdicts (pure, no imports).

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
