"""Expanding scenario node entries (single nodes, grid/random/chain generators) and traffic."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

from relay.sim.firmware import MAX_HOP_LIMIT
from relay.sim.schema import Reader
from relay.sim.specs import NodeSpec, Publication

KINDS = ("news", "safety")  # what a traffic entry may publish

_NODE_KEYS = "name num x y waypoints role rebroadcast_mode jarshy tx_dbm gain_db off"
_GEN_COMMON = "generator prefix role role_mix jarshy tx_dbm gain_db power_cuts off"
_GEN_KEYS = {
    "grid": "rows cols spacing jitter origin",
    "random": "count area",
    "chain": "villages spacing per_village radius origin",
}


def expand_nodes(
    entries: Sequence[Any], path: str, defaults: Mapping[str, Any], rng: random.Random
) -> list[dict[str, Any]]:
    """Turn node entries into flat node dicts with ``_waypoints``, ``_off`` and ``_jarshy``."""
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        here = f"{path}[{i}]"
        r = Reader(entry, here + ".")
        if r.has("generator"):
            out.extend(_generate(r, here, defaults, rng, len(out)))
        else:
            r.only(_NODE_KEYS)
            out.append(_single(r, here, defaults, len(out)))
    return out


def _single(r: Reader, here: str, defaults: Mapping[str, Any], index: int) -> dict[str, Any]:
    node = {k: v for k, v in r.data.items()}
    node.setdefault("name", f"n{index}")
    node["name"] = str(node["name"])
    node["_path"] = here
    if r.has("waypoints"):
        points = []
        for j, w in enumerate(r.sequence("waypoints")):
            if (
                not isinstance(w, list)
                or len(w) != 3
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in w)
            ):
                raise ValueError(f"{here}.waypoints[{j}]: expected [t, x, y], got {w!r}")
            points.append((float(w[0]), float(w[1]), float(w[2])))
        if not points:
            raise ValueError(f"{here}.waypoints: needs at least one [t, x, y]")
        node["_waypoints"] = points
    else:
        node["_waypoints"] = [(0.0, r.number("x"), r.number("y"))]
    node["_off"] = _off_list(r, here)
    node.setdefault("tx_dbm", defaults["tx_dbm"])
    node.setdefault("gain_db", defaults["gain_db"])
    jar = r.get("jarshy", defaults["jarshy"])
    if not isinstance(jar, bool):
        raise ValueError(f"{here}.jarshy: expected true or false for a single node")
    node["_jarshy"] = jar
    return node


def _off_list(r: Reader, here: str) -> list[tuple[float, float]]:
    out = []
    for j, iv in enumerate(r.sequence("off")):
        a, b = Reader({"v": iv}, f"{here}.off[{j}]").pair("v")
        if b <= a:
            raise ValueError(f"{here}.off[{j}]: power-on time must follow power-off time")
        out.append((a, b))
    return out


def _generate(
    r: Reader, here: str, defaults: Mapping[str, Any], rng: random.Random, start: int
) -> list[dict[str, Any]]:
    kind = r.string("generator")
    if kind not in _GEN_KEYS:
        raise ValueError(f"{here}.generator: expected one of {', '.join(_GEN_KEYS)}, got {kind!r}")
    r.only(_GEN_COMMON + " " + _GEN_KEYS[kind])
    if kind == "grid":
        rows = r.integer("rows", minimum=1, maximum=200)
        cols = r.integer("cols", minimum=1, maximum=200)
        spacing = r.number("spacing", minimum=1.0)
        jitter = r.number("jitter", 0.0, minimum=0.0)
        ox, oy = r.pair("origin", (0.0, 0.0))
        points = [
            (
                ox + c * spacing + rng.uniform(-jitter, jitter),
                oy + row * spacing + rng.uniform(-jitter, jitter),
            )
            for row in range(rows)
            for c in range(cols)
        ]
    elif kind == "random":
        count = r.integer("count", minimum=1, maximum=20000)
        area = r.get("area", None)
        if (
            not isinstance(area, list)
            or len(area) != 2
            or not all(isinstance(p, list) and len(p) == 2 for p in area)
        ):
            raise ValueError(f"{here}.area: expected [[x0, y0], [x1, y1]]")
        (x0, y0), (x1, y1) = area
        points = [(rng.uniform(x0, x1), rng.uniform(y0, y1)) for _ in range(count)]
    else:  # chain of villages along the x axis
        villages = r.integer("villages", minimum=1, maximum=1000)
        spacing = r.number("spacing", minimum=1.0)
        per = r.integer("per_village", 1, minimum=1, maximum=1000)
        radius = r.number("radius", 0.0, minimum=0.0)
        ox, oy = r.pair("origin", (0.0, 0.0))
        points = []
        for v in range(villages):
            for _ in range(per):
                ang, dist = rng.uniform(0, 2 * math.pi), radius * math.sqrt(rng.random())
                points.append((ox + v * spacing + dist * math.cos(ang), oy + dist * math.sin(ang)))
    prefix = r.string("prefix", f"g{start}-")
    role = r.string("role", "CLIENT")
    mix = r.get("role_mix", {}) or {}
    if not isinstance(mix, Mapping) or sum(float(v) for v in mix.values()) > 1.0:
        raise ValueError(f"{here}.role_mix: expected ROLE: fraction entries summing to at most 1")
    jar = r.get("jarshy", defaults["jarshy"])
    if isinstance(jar, bool):
        jar_fraction = 1.0 if jar else 0.0
    else:
        jar_fraction = r.number("jarshy", minimum=0.0, maximum=1.0)
    cuts = r.sub("power_cuts")
    cuts.only("fraction duration start stop")
    cut_fraction = cuts.number("fraction", 0.0, minimum=0.0, maximum=1.0)
    if cut_fraction > 0.0:
        cut_len = cuts.number_or_range("duration")
        cut_span = (cuts.number("start", 0.0), cuts.number("stop", defaults.get("duration", 3600)))
    fixed_off = _off_list(r, here)
    out = []
    for k, (x, y) in enumerate(points):
        u, node_role = rng.random(), role
        for name, frac in mix.items():
            if u < float(frac):
                node_role = str(name)
                break
            u -= float(frac)
        off = list(fixed_off)
        if cut_fraction > 0.0 and rng.random() < cut_fraction:
            length = rng.uniform(*cut_len)
            t0 = rng.uniform(cut_span[0], max(cut_span[0], cut_span[1] - length))
            off.append((t0, t0 + length))
        out.append(
            {
                "name": f"{prefix}{k}",
                "role": node_role,
                "tx_dbm": r.number("tx_dbm", defaults["tx_dbm"]),
                "gain_db": r.number("gain_db", defaults["gain_db"]),
                "_path": f"{here}[{k}]",
                "_waypoints": [(0.0, x, y)],
                "_off": off,
                "_jarshy": rng.random() < jar_fraction,
            }
        )
    return out


def expand_traffic(
    entries: Sequence[Any],
    path: str,
    nodes: Sequence[NodeSpec],
    duration: float,
    rng: random.Random,
) -> list[Publication]:
    """Turn traffic entries into a time-ordered list of publications."""
    by_name = {n.name: n for n in nodes}
    engine_nodes = [n.index for n in nodes if n.jarshy]
    out: list[Publication] = []
    for i, entry in enumerate(entries):
        here = f"{path}[{i}]"
        r = Reader(entry, here + ".")
        r.only("from at count every start stop size label hop_limit kind")
        src = r.get("from", None)
        if src == "random":
            if not engine_nodes:
                raise ValueError(f"{here}.from: no node runs an engine")
            pick = None
        else:
            names = src if isinstance(src, list) else [src]
            pick = []
            for name in names:
                if not isinstance(name, str) or name not in by_name:
                    raise ValueError(f"{here}.from: unknown node {name!r}")
                if not by_name[name].jarshy:
                    raise ValueError(f"{here}.from: node {name!r} does not run an engine")
                pick.append(by_name[name].index)
        start = r.number("start", 0.0, minimum=0.0)
        stop = r.number("stop", max(duration, start), minimum=start)
        if r.has("at"):
            times = [r.number("at", minimum=0.0)]
        elif r.has("every"):
            every = r.number("every", minimum=0.1)
            n = int((stop - start) / every)
            times = [start + k * every for k in range(n + 1) if start + k * every < stop]
        else:
            times = sorted(
                rng.uniform(start, stop) for _ in range(r.integer("count", 1, minimum=0))
            )
        lo, hi = r.number_or_range("size", 100.0)
        if lo < 10 or hi > 4096:
            raise ValueError(f"{here}.size: payload sizes must lie within 10..4096 bytes")
        hop = r.get("hop_limit", None)
        if hop is not None:
            hop = r.integer("hop_limit", minimum=0, maximum=MAX_HOP_LIMIT)
        label = r.string("label", "item")
        kind = r.string("kind", "news")
        if kind not in KINDS:
            raise ValueError(f"{here}.kind: expected one of {', '.join(KINDS)}")
        for k, t in enumerate(times):
            node = rng.choice(engine_nodes) if pick is None else pick[k % len(pick)]
            size = round(rng.uniform(lo, hi))
            out.append(Publication(t, node, size, label, hop, kind))
    out.sort(key=lambda p: (p.time, p.node))
    return out
