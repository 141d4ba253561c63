"""Figures from a finished run: delivery against the oracle, latency, airtime, losses, channel load.

Delivery counts (item, node) pairs over nodes that run an engine, excluding the item's origin,
among the nodes the oracle says were reachable. Airtime counts every transmission in the run
(engine control traffic included) and is compared with the sum of the per-item oracle bounds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from relay.lora import MAX_APP_PAYLOAD, packet_airtime
from relay.sim.core import SimResult
from relay.sim.firmware import UTIL_PERIOD, UTIL_PERIODS
from relay.sim.oracle import Oracle


@dataclass(slots=True)
class NodeFigure:
    """Per-node values for the map."""

    x: float
    y: float
    engine: bool
    expected: int = 0  # (item) pairs the oracle says this node could get
    delivered: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Report:
    """A run's figures; ``summary`` is JSON-ready."""

    summary: dict[str, Any]
    nodes: list[NodeFigure]
    curve: list[tuple[float, float]]  # (seconds since publication, fraction of pairs delivered)

    def to_json(self) -> str:
        """The summary as indented JSON."""
        return json.dumps(self.summary, indent=2, sort_keys=True)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of a sorted list (None when empty)."""
    if not values:
        return None
    k = max(0, min(len(values) - 1, math.ceil(q / 100.0 * len(values)) - 1))
    return values[k]


def build_report(result: SimResult) -> Report:
    """Compute every figure of a run, including the oracle per item."""
    sc = result.scenario
    oracle = Oracle(sc, result.channel)
    figs = [
        NodeFigure(*result.channel.position(i, 0.0), engine=result.nodes[i].engine is not None)
        for i in range(len(result.nodes))
    ]
    preset = sc.preset
    latencies: list[float] = []
    labels: dict[str, dict[str, float]] = {}
    label_latency: dict[str, list[float]] = {}
    reachable_total = delivered_total = beyond = 0
    lb_tx = 0
    lb_air = 0.0
    for key, item in result.items.items():
        o = oracle.item(item.origin, item.time, result.end_time)
        frames = max(1, math.ceil(item.size / MAX_APP_PAYLOAD))
        per_frame = packet_airtime(min(item.size, MAX_APP_PAYLOAD), preset, firmware=sc.firmware)
        lb_tx += o.min_transmitters * frames
        lb_air += o.min_transmitters * frames * per_frame
        held = result.deliveries.get(key, {})
        lab = labels.setdefault(item.label, {"items": 0, "reachable": 0, "delivered": 0})
        lab["items"] += 1
        for i, fig in enumerate(figs):
            if not fig.engine or i == item.origin:
                continue
            got = held.get(i)
            if i in o.reach_time:
                fig.expected += 1
                reachable_total += 1
                lab["reachable"] += 1
            elif got is not None:
                beyond += 1
                fig.expected += 1
                reachable_total += 1
                lab["reachable"] += 1
            if got is not None:
                fig.delivered += 1
                delivered_total += 1
                lab["delivered"] += 1
                lat = got - item.time
                fig.latencies.append(lat)
                latencies.append(lat)
                label_latency.setdefault(item.label, []).append(lat)
    latencies.sort()
    c = result.counters
    n_items = len(result.items)
    util = _utilisation(result)
    duty_limit = sc.region.duty_cycle
    max_duty = max((n.max_duty_fraction for n in result.nodes), default=0.0)
    summary: dict[str, Any] = {
        "scenario": sc.name,
        "engine": result.engine,
        "seed": result.extra.get("seed", sc.seed),
        "duration_s": sc.duration,
        "preset": preset.name,
        "region": sc.region.name,
        "channel_plan": sc.channel_plan,
        "firmware": sc.firmware,
        "nodes": len(result.nodes),
        "engine_nodes": sum(1 for f in figs if f.engine),
        "items": n_items,
        "events": result.extra.get("events", 0),
        "delivery": {
            "ratio": _ratio(delivered_total, reachable_total),
            "delivered": delivered_total,
            "reachable": reachable_total,
            "beyond_oracle": beyond,
            "by_label": {
                name: {
                    **v,
                    "ratio": _ratio(int(v["delivered"]), int(v["reachable"])),
                    "latency_p50_s": percentile(sorted(label_latency.get(name, [])), 50),
                    "latency_p90_s": percentile(sorted(label_latency.get(name, [])), 90),
                }
                for name, v in sorted(labels.items())
            },
        },
        "latency_s": {
            "p50": percentile(latencies, 50),
            "p90": percentile(latencies, 90),
            "p99": percentile(latencies, 99),
            "max": latencies[-1] if latencies else None,
        },
        "transmissions": {
            "total": c.transmissions,
            "originals": c.originals,
            "relays": c.relays,
            "lower_bound": lb_tx,
            "ratio_to_bound": _ratio(c.transmissions, lb_tx),
        },
        "airtime_s": {
            "total": round(c.airtime, 3),
            "per_item": _div(c.airtime, n_items),
            "per_delivery": _div(c.airtime, delivered_total),
            "lower_bound": round(lb_air, 3),
            "ratio_to_bound": _ratio(c.airtime, lb_air),
        },
        "losses": {
            "collisions": c.collisions,
            "half_duplex": c.half_duplex,
            "random": c.random_loss,
            "asleep": c.asleep,
            "duplicates_heard": c.duplicates,
            "relays_cancelled": c.relay_cancelled,
            "lbt_deferrals": c.lbt_deferrals,
            "queue_drops": c.queue_drops,
            "duty_cycle_drops": c.duty_cycle_drops,
            "oversize_drops": c.oversize_drops,
            "core_portnums_only_drops": c.core_only_drops,
            "ignored_drops": c.ignored_drops,
            "opaque_drops": c.opaque_drops,
            "opaque_relays": c.opaque_relays,
        },
        "channel": util,
        "duty_cycle": {
            "limit_pct": None if duty_limit >= 1.0 else round(100 * duty_limit, 2),
            "max_hourly_tx_pct": round(100 * max_duty, 3),
            "use_of_limit": None if duty_limit >= 1.0 else round(max_duty / duty_limit, 4),
        },
    }
    return Report(summary, figs, _curve(latencies, reachable_total, result.end_time))


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _div(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def _utilisation(result: SimResult) -> dict[str, float]:
    duration = max(result.end_time, 1e-9)
    buckets = max(1, math.ceil(duration / UTIL_PERIOD))
    means, peaks, tx = [], [], []
    for node in result.nodes:
        busy = node.busy
        means.append(100.0 * sum(busy.values()) / duration)
        window = sum(busy.get(k, 0.0) for k in range(min(UTIL_PERIODS, buckets)))
        peak = window
        for k in range(UTIL_PERIODS, buckets):
            window += busy.get(k, 0.0) - busy.get(k - UTIL_PERIODS, 0.0)
            peak = max(peak, window)
        peaks.append(100.0 * peak / (UTIL_PERIODS * UTIL_PERIOD))
        tx.append(100.0 * node.tx_time / duration)
    peaks_sorted = sorted(peaks)
    return {
        "utilization_mean_pct": round(sum(means) / len(means), 3) if means else 0.0,
        "utilization_peak_pct": round(max(peaks, default=0.0), 3),
        "utilization_p90_node_peak_pct": round(percentile(peaks_sorted, 90) or 0.0, 3),
        "air_util_tx_mean_pct": round(sum(tx) / len(tx), 4) if tx else 0.0,
        "air_util_tx_max_pct": round(max(tx, default=0.0), 4),
    }


def _curve(latencies: list[float], expected: int, end: float) -> list[tuple[float, float]]:
    if not expected:
        return []
    points, steps = [], 60
    horizon = max(latencies[-1] if latencies else 0.0, 1.0)
    horizon = min(horizon * 1.05, end)
    k = 0
    for s in range(steps + 1):
        t = horizon * s / steps
        while k < len(latencies) and latencies[k] <= t:
            k += 1
        points.append((round(t, 3), round(k / expected, 4)))
    return points


def format_text(report: Report) -> str:
    """A human-readable summary."""
    s = report.summary
    d, lat, air, tx = s["delivery"], s["latency_s"], s["airtime_s"], s["transmissions"]
    ch, dc, loss = s["channel"], s["duty_cycle"], s["losses"]

    def num(v: float | None, fmt: str = "{:.1f}") -> str:
        return "n/a" if v is None else fmt.format(v)

    lines = [
        f"scenario {s['scenario']}  engine {s['engine']}  seed {s['seed']}  "
        f"{s['nodes']} nodes ({s['engine_nodes']} with engine)  {s['duration_s']:g} s  "
        f"{s['preset']} {s['region']}  channel plan {s['channel_plan']}  firmware {s['firmware']}",
        f"items {s['items']}  delivery {num(d['ratio'], '{:.1%}')} "
        f"({d['delivered']}/{d['reachable']} reachable node-items)",
    ]
    for name, v in d["by_label"].items():
        lines.append(
            f"  {name}: {num(v['ratio'], '{:.1%}')} ({v['delivered']}/{v['reachable']}, "
            f"{v['items']} items), latency p50 {num(v['latency_p50_s'])} s "
            f"p90 {num(v['latency_p90_s'])} s"
        )
    lines += [
        f"latency p50 {num(lat['p50'])} s  p90 {num(lat['p90'])} s  p99 {num(lat['p99'])} s",
        f"transmissions {tx['total']} ({tx['originals']} originals, {tx['relays']} relays), "
        f"{num(tx['ratio_to_bound'], '{:.2f}')}x the bound {tx['lower_bound']}",
        f"airtime {air['total']:.1f} s  per item {num(air['per_item'], '{:.2f}')} s  "
        f"per delivery {num(air['per_delivery'], '{:.3f}')} s  "
        f"{num(air['ratio_to_bound'], '{:.2f}')}x the bound {air['lower_bound']:.1f} s",
        f"lost receptions: collisions {loss['collisions']}  half-duplex {loss['half_duplex']}  "
        f"random {loss['random']}  asleep {loss['asleep']}; relays cancelled "
        f"{loss['relays_cancelled']}; drops: queue {loss['queue_drops']}  "
        f"duty cycle {loss['duty_cycle_drops']}  CORE_PORTNUMS_ONLY "
        f"{loss['core_portnums_only_drops']}  undecryptable {loss['opaque_drops']}; "
        f"relayed undecrypted {loss['opaque_relays']}",
        f"channel utilisation mean {ch['utilization_mean_pct']:.2f} %  peak 60 s "
        f"{ch['utilization_peak_pct']:.1f} %  air_util_tx max {ch['air_util_tx_max_pct']:.2f} %",
        "duty cycle: "
        + (
            "no limit in this region"
            if dc["limit_pct"] is None
            else f"limit {dc['limit_pct']:g} %, busiest node {dc['max_hourly_tx_pct']:.2f} % "
            f"of an hour ({dc['use_of_limit']:.0%} of the limit)"
        ),
    ]
    return "\n".join(lines)
