"""Inputs found by the fuzzing campaign (bench/fuzz.py), kept as regression tests, and a small
smoke run of every fuzz target so the harness itself keeps working as entry points change.

Replay any finding with ``python bench/fuzz.py --seed S --repro TARGET:INDEX``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from relay.wire import fragments
from relay.wire.errors import WireError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def fuzz() -> ModuleType:
    return load_fuzz()


@pytest.fixture(scope="module")
def pool(fuzz: ModuleType) -> object:
    return fuzz.build_pool()


def load_fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jarshy_bench_fuzz", ROOT / "bench" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


FRAGMENT_HEAD = bytes([fragments.FRAGMENT_BYTE]) + b"\x11" * 8 + bytes([2])  # id, count 2


def add_quietly(reassembler: fragments.Reassembler, packet: bytes) -> bytes | None:
    """A stranger's packet may be refused (WireError) but never raise anything else."""
    try:
        return reassembler.add(packet, 0.0)
    except WireError:
        return None


def test_data_fragment_longer_than_the_repair_chunk() -> None:
    """Fuzz finding (fragments, seed 1, index 32): Reassembler._rebuild XORed a data fragment
    longer than the repair fragment's chunk into a chunk-sized buffer: IndexError out of the
    engine from two packets anyone with a radio can send.  Fixed in relay/wire/fragments.py."""
    reassembler = fragments.Reassembler()
    assert add_quietly(reassembler, FRAGMENT_HEAD + bytes([0]) + b"a" * 200) is None
    repair = FRAGMENT_HEAD + bytes([2]) + (4).to_bytes(2, "big") + b"xy"  # total 4: chunk 2
    assert add_quietly(reassembler, repair) is None  # two packets from anyone with a radio


def test_fuzz_fragments_seed_1_index_32(fuzz: ModuleType, pool: object) -> None:
    target = fuzz.FragmentsTarget(pool)
    target.run(target.generate(fuzz.rng_for(1, "fragments", 32)))


@pytest.mark.parametrize("name", ["wire", "fragments", "trust", "render", "api"])
def test_fuzz_targets_smoke(name: str, fuzz: ModuleType, pool: object) -> None:
    result = fuzz.campaign(seed=7, scale=1 / 1000, targets=[name], pool=pool)
    report = result["targets"][name]
    assert report["inputs"] >= 20
    assert result["crashes"] == 0 and result["violations"] == 0, report["findings"]
