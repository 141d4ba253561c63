"""Helpers for simulator tests: small deterministic line-of-nodes scenarios."""

from __future__ import annotations

from typing import Any

from relay.sim import Scenario, scenario_from_dict

# log-distance, exponent 3.3, no shadowing, 20 dBm + 2 + 2 dBi on LONG_FAST: decodable out to
# about 5.8 km, interference-only out to about 8.6 km.
PLAIN = {"model": "log_distance", "exponent": 3.3, "shadowing_db": 0}


def line(
    positions: list[float],
    *,
    roles: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    nodes: list[dict[str, Any]] | None = None,
    **top: Any,
) -> Scenario:
    """Nodes n0, n1, ... on the x axis, all running the silent test engine."""
    roles = roles or {}
    data: dict[str, Any] = {
        "name": "line",
        "duration": 600,
        "region": "US",
        "engine": "silent",
        "propagation": PLAIN,
        "nodes": nodes
        or [
            {"name": f"n{i}", "x": x, "y": 0, "role": roles.get(f"n{i}", "CLIENT")}
            for i, x in enumerate(positions)
        ],
    }
    data.update(top)
    if extra:
        for node in data["nodes"]:
            node.update(extra.get(node["name"], {}))
    return scenario_from_dict(data)
