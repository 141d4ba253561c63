"""A run's figure drawn with matplotlib (the optional ``plots`` extra): what a planner reads.

Three panels: the map at true scale (metres, equal aspect) with engine nodes coloured by their
median delivery latency and the nodes that missed what the oracle says they could get marked;
delivery against time since publication for every run given (Jarshy and flooding on the same
axes); airtime per node, busiest first, for every run.  Only :mod:`matplotlib.figure` is used
(no pyplot, no global state, no display).  Import this module only when matplotlib is installed:
:func:`relay.sim.figure.render_png` checks that and says how to get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import median

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from relay.sim.core import SimResult
from relay.sim.report import Report

Run = tuple[SimResult, Report]
MAX_LINKS = 400  # nodes up to which the map draws the links between static nodes
COLOURS = {"jarshy": "#1f6fb4", "flood": "#d9641c"}
_OTHER = ("#2a9d4a", "#8e44ad", "#7f7f7f")


def colour(engine: str, k: int) -> str:
    """A steady colour per engine (Jarshy blue, flooding orange), others in turn."""
    return COLOURS.get(engine, _OTHER[k % len(_OTHER)])


def figure(runs: Sequence[Run]) -> Figure:
    """The figure of ``runs[0]`` (its map), compared with the other runs of the same scenario."""
    if not runs:
        raise ValueError("no run to draw")
    fig = Figure(figsize=(13.0, 7.5), dpi=100, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=(1.15, 1.0))
    draw_map(fig, fig.add_subplot(grid[:, 0]), *runs[0])
    draw_delivery(fig.add_subplot(grid[0, 1]), runs)
    draw_airtime(fig.add_subplot(grid[1, 1]), runs)
    s = runs[0][1].summary
    fig.suptitle(
        f"{s['scenario']} — seed {s['seed']}, {s['nodes']} nodes, {s['duration_s']:g} s, "
        f"{s['preset']} {s['region']}",
        fontsize=13,
    )
    return fig


def draw_map(fig: Figure, ax: Axes, result: SimResult, report: Report) -> None:
    """Nodes at their start positions, true scale; latency colours, missed nodes, plain radios."""
    figs = report.nodes
    ch = result.channel
    if len(figs) <= MAX_LINKS:
        for i in ch.static:
            for j in ch.decodable_neighbours(i, 0.0):
                if j > i:
                    ax.plot((figs[i].x, figs[j].x), (figs[i].y, figs[j].y), color="#d5dbe5", lw=0.5)
    size = 28.0 if len(figs) <= 250 else max(3.0, 7000.0 / len(figs))
    plain = [f for f in figs if not f.engine]
    missed = [f for f in figs if f.engine and f.expected and f.delivered < f.expected]
    timed = [f for f in figs if f.engine and f.latencies]
    idle = [f for f in figs if f.engine and not f.latencies]
    if plain:
        ax.scatter(
            [f.x for f in plain], [f.y for f in plain], s=size * 0.6, c="#9a9a9a",
            marker="s", label="plain Meshtastic radio", zorder=2,
        )  # fmt: skip
    if idle:
        ax.scatter(
            [f.x for f in idle], [f.y for f in idle], s=size, c="white", edgecolors="#555",
            linewidths=0.6, label="received nothing timed (origin only)", zorder=2,
        )  # fmt: skip
    medians = [median(f.latencies) for f in timed]
    norm = Normalize(0.0, max(medians, default=1.0) or 1.0)  # the slowest node's median
    dots = ax.scatter(
        [f.x for f in timed], [f.y for f in timed], s=size,
        c=medians, cmap=colormaps["viridis"], norm=norm, zorder=3,
    )  # fmt: skip
    if missed:
        ax.scatter(
            [f.x for f in missed], [f.y for f in missed], s=size * 2.2, facecolors="none",
            edgecolors="#d62728", linewidths=1.2, zorder=4,
            label=f"missed some of what it could get ({len(missed)})",
        )  # fmt: skip
    bar = fig.colorbar(dots, ax=ax, shrink=0.7, pad=0.01)
    bar.set_label("median latency per node (s)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    s = report.summary
    ratio = s["delivery"]["ratio"]
    shown = "n/a" if ratio is None else f"{ratio:.1%}"
    ax.set_title(f"{s['engine']}: delivery {shown} of the oracle's reachable pairs")
    if plain or missed or idle:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.85)


def draw_delivery(ax: Axes, runs: Sequence[Run]) -> None:
    """Share of the oracle's reachable (item, node) pairs held, by time since publication."""
    for k, (_, report) in enumerate(runs):
        s = report.summary
        if not report.curve:
            continue
        ts = [t for t, _ in report.curve]
        fs = [100.0 * f for _, f in report.curve]
        ax.plot(ts, fs, color=colour(s["engine"], k), lw=2, label=s["engine"])
    ax.set_xlabel("time since publication (s)")
    ax.set_ylabel("delivered (% of reachable pairs)")
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.set_title("delivery against time")
    ax.legend(loc="lower right")


def draw_airtime(ax: Axes, runs: Sequence[Run]) -> None:
    """Each node's transmit time, busiest first, with the airtime per delivered pair."""
    for k, (result, report) in enumerate(runs):
        s = report.summary
        per_node = sorted((n.tx_time for n in result.nodes), reverse=True)
        per = s["airtime_s"]["per_delivery"]
        shown = "n/a" if per is None else f"{per:.3f} s"
        ax.plot(
            range(1, len(per_node) + 1), per_node, color=colour(s["engine"], k), lw=2,
            label=f"{s['engine']}: {s['airtime_s']['total']:.0f} s in all, {shown} per pair",
        )  # fmt: skip
    ax.set_xlabel("nodes, busiest first")
    ax.set_ylabel("airtime (s)")
    ax.set_xlim(left=1)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.set_title("airtime per node")
    ax.legend(loc="upper right", fontsize=9)
