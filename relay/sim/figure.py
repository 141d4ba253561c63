"""The run's figure as PNG bytes, drawn by matplotlib when the ``plots`` extra is installed.

:func:`render_png` draws the map, delivery against time and airtime per node of a run
(relay.sim.plot), with other runs of the same scenario (flooding, say) beside it on the curves.
Without matplotlib it raises :class:`PlotsUnavailable`, whose message says how to get it.
"""

from __future__ import annotations

import importlib.util
import io
from collections.abc import Sequence

from relay.sim.core import SimResult
from relay.sim.png import encode_rgb
from relay.sim.report import Report

INSTALL_HINT = "python3 -m pip install 'jarshy[plots]'  (or: python3 -m pip install matplotlib)"


class PlotsUnavailable(RuntimeError):
    """matplotlib is not installed: figures need the optional ``plots`` extra."""

    def __init__(self) -> None:
        super().__init__(f"figures need matplotlib, the optional 'plots' extra: {INSTALL_HINT}")


def plots_available() -> bool:
    """True when matplotlib can be imported."""
    return importlib.util.find_spec("matplotlib") is not None


def render_png(
    result: SimResult, report: Report, compare: Sequence[tuple[SimResult, Report]] = ()
) -> bytes:
    """The figure of ``result`` (its map), with ``compare``'s runs beside it on the curves."""
    if not plots_available():
        raise PlotsUnavailable
    from relay.sim.plot import figure

    fig = figure([(result, report), *compare])
    raw = io.BytesIO()
    fig.savefig(raw, format="rgba")
    width, height = round(fig.bbox.width), round(fig.bbox.height)
    return encode_rgb(width, height, raw.getvalue())
