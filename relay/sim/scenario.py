"""Scenario files: YAML describing nodes, radio settings and traffic, validated with clear errors.

A scenario is expanded once (generators placed, traffic drawn) with a seeded random generator, so
the same file and seed always give the same network. The schema is documented in
docs/simulator.md; :func:`load_scenario` accepts a path or the name of a shipped scenario.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from relay.errors import UserError
from relay.lora import DEFAULT_FIRMWARE, Preset, Region, firmware_tuple, get_preset, get_region
from relay.sim.channel import Propagation, Waypoint
from relay.sim.firmware import DEFAULT_HOP_LIMIT, MAX_HOP_LIMIT, RebroadcastMode, Role
from relay.sim.generators import expand_nodes, expand_traffic
from relay.sim.meshrules import role_default_mode
from relay.sim.schema import Reader
from relay.sim.specs import NodeSpec as NodeSpec  # re-exported: the scenario's parts
from relay.sim.specs import Publication as Publication

CHANNEL_PLANS = ("shared", "secondary", "isolated")
"""How Jarshy's packets share the air with stock Meshtastic nodes (``channel_plan``):
``shared``: on a channel every node holds the key for (stock nodes decode them, and apply their
rebroadcast mode's port rule); ``secondary``: on a channel of their own with their own key, on
the public frequency slot (stock nodes hear them but cannot decrypt: opaque relay);
``isolated``: on a frequency slot of their own (stock nodes never hear them)."""


class ScenarioError(UserError):
    """A scenario file that cannot be used; the message names the offending field."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A fully expanded scenario."""

    name: str
    description: str
    seed: int
    duration: float  # traffic happens in [0, duration)
    preset: Preset
    region: Region
    loss: float
    propagation: Propagation
    hop_limit: int
    engine: str
    engine_options: Mapping[str, object]
    nodes: tuple[NodeSpec, ...]
    traffic: tuple[Publication, ...]
    oracle_step: float = 5.0
    drain: float = 600.0  # the run continues this long after the traffic window
    channel_plan: str = "shared"  # shared | secondary | isolated (docs/simulator.md)
    firmware: str = DEFAULT_FIRMWARE  # decides 2.8's signature on air and its opaque relay rule
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def node_index(self, name: str) -> int:
        """Index of the node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n.index
        raise KeyError(name)


def scenario_from_dict(
    data: Mapping[str, Any],
    *,
    seed: int | None = None,
    duration: float | None = None,
    source: str = "<scenario>",
) -> Scenario:
    """Validate and expand a scenario mapping (as read from YAML)."""
    try:
        return _build(data, seed, duration)
    except (ValueError, KeyError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise ScenarioError(f"{source}: {msg}") from None


def _build(data: Mapping[str, Any], seed: int | None, duration: float | None) -> Scenario:
    r = Reader(data, "")
    r.only(
        "name description seed duration preset region loss propagation radio hop_limit engine "
        "engine_options jarshy nodes traffic oracle_step drain channel_plan firmware"
    )
    seed_v = r.integer("seed", 1) if seed is None else seed
    duration_v = r.number("duration", 3600.0, minimum=1.0) if duration is None else duration
    drain_v = r.number("drain", 600.0, minimum=0.0)
    preset = _choice(r, "preset", "LONG_FAST", get_preset)
    region = _choice(r, "region", "EU_868", get_region)
    loss = r.number("loss", 0.0, minimum=0.0, maximum=1.0)
    hop_limit = r.integer("hop_limit", DEFAULT_HOP_LIMIT, minimum=0, maximum=MAX_HOP_LIMIT)
    prop = _propagation(r.sub("propagation"), region)
    radio = r.sub("radio")
    radio.only("tx_dbm gain_db")
    default_tx = radio.number("tx_dbm", min(region.power_limit_dbm, 20.0), maximum=30.0)
    default_gain = radio.number("gain_db", 2.0, minimum=-20.0, maximum=20.0)
    opts = r.get("engine_options", {})
    if not isinstance(opts, Mapping):
        raise ValueError("engine_options: expected a mapping")
    rng = random.Random(f"scenario:{seed_v}")
    defaults = {
        "tx_dbm": default_tx,
        "gain_db": default_gain,
        "jarshy": r.get("jarshy", True),
        "duration": duration_v,
    }
    raw_nodes = expand_nodes(r.sequence("nodes", required=True), "nodes", defaults, rng)
    if not raw_nodes:
        raise ValueError("nodes: a scenario needs at least one node")
    nodes = tuple(_node_spec(i, n) for i, n in enumerate(raw_nodes))
    names = [n.name for n in nodes]
    dupes = sorted({x for x in names if names.count(x) > 1})
    if dupes:
        raise ValueError(f"nodes: duplicate node names {dupes[:5]}")
    traffic = expand_traffic(r.sequence("traffic"), "traffic", nodes, duration_v, rng)
    return Scenario(
        name=r.string("name", "scenario"),
        description=r.string("description", ""),
        seed=seed_v,
        duration=duration_v,
        drain=drain_v,
        preset=preset,
        region=region,
        loss=loss,
        propagation=prop,
        hop_limit=hop_limit,
        engine=r.string("engine", "flood"),
        engine_options=dict(opts),
        nodes=nodes,
        traffic=tuple(p for p in traffic if p.time < duration_v),
        oracle_step=r.number("oracle_step", 5.0, minimum=0.1),
        channel_plan=_plan(r),
        firmware=_firmware(r),
        raw=dict(data),
    )


def _plan(r: Reader) -> str:
    plan = r.string("channel_plan", "shared")
    if plan not in CHANNEL_PLANS:
        raise ValueError(f"channel_plan: expected one of {', '.join(CHANNEL_PLANS)}, got {plan!r}")
    return plan


def _firmware(r: Reader) -> str:
    text = str(r.get("firmware", DEFAULT_FIRMWARE))
    if firmware_tuple(text) == firmware_tuple(None) and not text.startswith("2.8"):
        raise ValueError(f"firmware: expected a version such as 2.7.26 or 2.8.0, got {text!r}")
    return text


def _choice(r: Reader, key: str, default: str, parse: Any) -> Any:
    value = r.string(key, default)
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _propagation(r: Reader, region: Region) -> Propagation:
    r.only("model exponent ref_loss_db shadowing_db height_m")
    model = r.string("model", "log_distance")
    if model not in ("log_distance", "urban"):
        raise ValueError(f"{r.path}model: expected log_distance or urban, got {model!r}")
    ref = r.get("ref_loss_db", None)
    return Propagation(
        model=model,
        exponent=r.number("exponent", 2.7, minimum=1.5, maximum=6.0),
        ref_loss_db=None if ref is None else r.number("ref_loss_db", 0.0),
        shadowing_db=r.number("shadowing_db", 6.0, minimum=0.0, maximum=20.0),
        height_m=r.number("height_m", 1.5, minimum=0.5, maximum=200.0),
        freq_mhz=region.centre_mhz,
    )


def _node_spec(index: int, n: Mapping[str, Any]) -> NodeSpec:
    path = str(n["_path"])
    r = Reader(n, path + ".")
    try:
        role = Role.parse(r.string("role", "CLIENT"))
        default_mode = "ALL"
        if role is Role.ROUTER and not n["_jarshy"]:  # installRoleDefaults (NodeDB.cpp)
            default_mode = role_default_mode(role.value).value
        mode = RebroadcastMode(r.string("rebroadcast_mode", default_mode).upper())
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    points = tuple(Waypoint(float(t), float(x), float(y)) for t, x, y in n["_waypoints"])
    off = tuple((float(a), float(b)) for a, b in n.get("_off", ()))
    return NodeSpec(
        index=index,
        name=str(n["name"]),
        num=int(n.get("num", 0x10000 + index)),
        waypoints=points,
        role=role,
        mode=mode,
        jarshy=bool(n["_jarshy"]),
        tx_dbm=r.number("tx_dbm", 20.0, maximum=30.0),
        gain_db=r.number("gain_db", 2.0, minimum=-20.0, maximum=20.0),
        off=off,
    )


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with the package."""
    root = resources.files("relay.sim") / "scenarios"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def load_scenario(
    source: str | Path, *, seed: int | None = None, duration: float | None = None
) -> Scenario:
    """Load a scenario from a YAML path or by the name of a shipped scenario."""
    path = Path(source)
    if path.suffix in (".yaml", ".yml") or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ScenarioError(f"cannot read scenario {source}: {exc.strerror}") from None
        label = str(path)
    else:
        res = resources.files("relay.sim") / "scenarios" / f"{source}.yaml"
        if not res.is_file():
            known = ", ".join(shipped_scenarios())
            raise ScenarioError(
                f"no scenario file or shipped scenario {source!r}; shipped: {known}"
            )
        text = res.read_text(encoding="utf-8")
        label = f"{source}.yaml"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{label}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{label}: expected a mapping at the top level")
    return scenario_from_dict(data, seed=seed, duration=duration, source=label)


def with_duration(scenario: Scenario, duration: float) -> Scenario:
    """The same scenario cut to ``duration`` seconds (traffic after it dropped)."""
    return replace(
        scenario,
        duration=duration,
        traffic=tuple(p for p in scenario.traffic if p.time < duration),
    )
