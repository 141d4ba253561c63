"""`jarshy sim` through its own argparse registration."""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path

import pytest

from relay.cli import sim as sim_cli
from relay.errors import UserError
from relay.sim import figure

needs_plots = pytest.mark.skipif(
    not figure.plots_available(), reason="matplotlib (the optional 'plots' extra) not installed"
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jarshy")
    sim_cli.register(parser.add_subparsers())
    args = parser.parse_args(["sim", *argv])
    result: int = args.handler(args)
    return result


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["city-50", "--duration", "300", "--seed", "2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seed"] == 2 and summary["engine"] == "flood"


@needs_plots
def test_png_beside_the_other_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "fig.png"
    assert run(["city-50", "--duration", "200", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert f"figure written to {png} (flood beside jarshy)" in out
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 600


def test_png_without_matplotlib_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figure, "plots_available", lambda: False)
    png = tmp_path / "fig.png"
    with pytest.raises(UserError, match=r"pip install 'jarshy\[plots\]'"):
        run(["city-50", "--duration", "100", "--png", str(png)])
    assert not png.exists()


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["loss-10", "--duration", "200"]) == 0
    out = capsys.readouterr().out
    assert "delivery" in out and "latency p50" in out


def test_unknown_engine_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown engine"):
        run(["city-50", "--engine", "nope"])


def test_unknown_compare_engine_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown engine"):
        run(["city-50", "--png", str(tmp_path / "f.png"), "--compare", "nope"])
