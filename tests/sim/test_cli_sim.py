"""`jarshy sim` through its own argparse registration."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from relay.cli import sim as sim_cli
from relay.errors import UserError


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="jarshy")
    sim_cli.register(parser.add_subparsers())
    args = parser.parse_args(["sim", *argv])
    result: int = args.handler(args)
    return result


def test_json_report_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "fig.png"
    assert run(["city-50", "--duration", "300", "--seed", "2", "--json", "--png", str(png)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["seed"] == 2 and summary["engine"] == "flood"
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["loss-10", "--duration", "200"]) == 0
    out = capsys.readouterr().out
    assert "delivery" in out and "latency p50" in out


def test_unknown_engine_is_a_user_error() -> None:
    with pytest.raises(UserError, match="unknown engine"):
        run(["city-50", "--engine", "nope"])
