"""The simulator's figure (matplotlib, the optional 'plots' extra)."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest

pytest.importorskip("matplotlib", reason="matplotlib (the optional 'plots' extra) not installed")

import relay.node.sim_node  # noqa: F401  (registers the "jarshy" engine)
from relay.sim import run_scenario
from relay.sim.figure import render_png
from relay.sim.plot import figure


@pytest.fixture(scope="module")
def runs():  # type: ignore[no-untyped-def]
    return [run_scenario("city-50", engine=e, duration=150) for e in ("jarshy", "flood")]


def panels(fig):  # type: ignore[no-untyped-def]
    """The figure's axes by title: the map's title starts with its engine."""
    titled = {ax.get_title().split(":")[0]: ax for ax in fig.axes if ax.get_title()}
    return titled["jarshy"], titled["delivery against time"], titled["airtime per node"]


def test_panels_compare_engines_at_true_scale(runs) -> None:  # type: ignore[no-untyped-def]
    fig = figure(runs)
    map_ax, delivery, airtime = panels(fig)
    assert map_ax.get_aspect() == 1.0  # metres are metres in both directions
    assert [line.get_label() for line in delivery.get_lines()] == ["jarshy", "flood"]
    labels = [line.get_label() for line in airtime.get_lines()]
    assert labels[0].startswith("jarshy:") and labels[1].startswith("flood:")
    assert "per pair" in labels[0]
    result = runs[0][0]
    assert len(airtime.get_lines()[0].get_xdata()) == len(result.nodes)


def test_missed_nodes_are_marked(runs) -> None:  # type: ignore[no-untyped-def]
    result, report = runs[0]
    nodes = [replace(f) for f in report.nodes]
    victim = next(i for i, f in enumerate(nodes) if f.engine and f.expected)
    nodes[victim].delivered = 0
    fig = figure([(result, replace(report, nodes=nodes))])
    legend = panels(fig)[0].get_legend()
    assert legend is not None
    assert any("missed" in t.get_text() and "(1)" in t.get_text() for t in legend.get_texts())


def test_png_is_rgb(runs) -> None:  # type: ignore[no-untyped-def]
    data = render_png(*runs[0], compare=runs[1:])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, colour_type = struct.unpack(">IIBB", data[16:26])
    assert (width, height, depth, colour_type) == (1300, 750, 8, 2)
