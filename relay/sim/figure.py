"""The run's picture: a map of nodes coloured by median delivery latency, and delivery over time.

Map colours: green (fast) to red (slow, up to the run's p99 latency) for engine nodes that got at
least half of what the oracle says they could; black for nodes that got less; grey dots for plain
Meshtastic nodes. Links between static nodes are drawn faintly for networks up to 400 nodes.
"""

from __future__ import annotations

from statistics import median

from relay.sim.core import SimResult
from relay.sim.png import Canvas, ramp
from relay.sim.report import Report

_W, _H, _MAP = 1000, 640, 600
_GREY = (170, 170, 170)
_LINK = (228, 232, 240)
_INK = (30, 30, 30)


def render_png(result: SimResult, report: Report) -> bytes:
    """Draw the figure and return PNG bytes."""
    c = Canvas(_W, _H)
    s = report.summary
    ratio = s["delivery"]["ratio"]
    title = f"{s['scenario']}  {s['engine']}  delivery {'-' if ratio is None else f'{ratio:.1%}'}"
    c.text(10, 8, title, _INK, 2)
    _draw_map(c, result, report)
    _draw_curve(c, report)
    return c.to_png()


def _draw_map(c: Canvas, result: SimResult, report: Report) -> None:
    top, size = 30, _MAP - 20
    figs = report.nodes
    xs, ys = [f.x for f in figs], [f.y for f in figs]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1.0)

    def px(x: float, y: float) -> tuple[int, int]:
        return (
            10 + int((x - x0) / span * (size - 20)),
            top + 10 + int((y1 - y) / span * (size - 20)),
        )

    c.rect(0, top, _MAP, top + size, (250, 250, 252))
    ch = result.channel
    if len(figs) <= 400:
        for i in ch.static:
            a = px(figs[i].x, figs[i].y)
            for j in ch.decodable_neighbours(i, 0.0):
                if j > i:
                    c.line(*a, *px(figs[j].x, figs[j].y), _LINK)
    p99 = report.summary["latency_s"]["p99"] or 1.0
    r = 4 if len(figs) <= 250 else 2
    for f in figs:
        x, y = px(f.x, f.y)
        if not f.engine:
            c.disc(x, y, max(1, r - 1), _GREY)
        elif f.expected and f.delivered * 2 < f.expected:
            c.disc(x, y, r, (0, 0, 0))
        elif f.latencies:
            c.disc(x, y, r, ramp(median(f.latencies) / p99))
        else:
            c.disc(x, y, r, (90, 120, 200))  # origin only, or nothing was reachable
    # legend: latency colour bar
    lx, ly = _MAP + 30, _H - 60
    c.text(lx, ly - 16, "LATENCY", _INK, 2)
    for k in range(200):
        c.rect(lx + k, ly, lx + k, ly + 12, ramp(k / 199))
    c.text(lx, ly + 18, "0", _INK, 2)
    c.text(lx + 160, ly + 18, f"{p99:.0f}S", _INK, 2)
    c.disc(lx + 250, ly + 6, 5, (0, 0, 0))
    c.text(lx + 262, ly + 2, "MISSED", _INK, 2)


def _draw_curve(c: Canvas, report: Report) -> None:
    left, top, w, h = _MAP + 60, 60, _W - _MAP - 90, 380
    c.text(left - 20, top - 24, "DELIVERED VS TIME", _INK, 2)
    c.line(left, top, left, top + h, _INK)
    c.line(left, top + h, left + w, top + h, _INK)
    for frac in (0.25, 0.5, 0.75, 1.0):
        y = top + h - int(frac * h)
        c.line(left, y, left + w, y, (225, 225, 225))
        c.text(left - 44, y - 5, f"{int(frac * 100)}%", _INK, 2)
    curve = report.curve
    if not curve:
        return
    horizon = max(curve[-1][0], 1e-9)
    prev = None
    for t, f in curve:
        p = (left + int(t / horizon * w), top + h - int(f * h))
        if prev is not None:
            c.line(*prev, *p, (200, 40, 40))
            c.line(prev[0], prev[1] - 1, p[0], p[1] - 1, (200, 40, 40))
        prev = p
    c.text(left, top + h + 10, "0", _INK, 2)
    c.text(left + w - 50, top + h + 10, f"{horizon:.0f}S", _INK, 2)
