"""A small typed reader over YAML mappings that reports errors with the field's path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Reader:
    """Typed access to one mapping of a scenario; errors name ``path + key``."""

    def __init__(self, data: Mapping[str, Any] | None, path: str) -> None:
        if data is not None and not isinstance(data, Mapping):
            raise ValueError(f"{path.rstrip('.') or 'scenario'}: expected a mapping")
        self.data: Mapping[str, Any] = data or {}
        self.path = path

    def only(self, keys: str) -> None:
        """Reject keys outside the space-separated list (catches typos early)."""
        allowed = set(keys.split())
        unknown = sorted(
            str(k) for k in self.data if k not in allowed and not str(k).startswith("_")
        )
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ValueError(f"{self.path}{unknown[0]}: unknown field; expected one of {known}")

    def get(self, key: str, default: Any) -> Any:
        """The raw value or ``default``."""
        return self.data.get(key, default)

    def has(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return key in self.data

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> float:
        """A real number within [minimum, maximum]."""
        value = self.data.get(key, default)
        if value is None:
            raise ValueError(f"{self.path}{key}: required")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{self.path}{key}: expected a number, got {value!r}")
        v = float(value)
        if minimum is not None and v < minimum:
            raise ValueError(f"{self.path}{key}: {v:g} is below the minimum {minimum:g}")
        if maximum is not None and v > maximum:
            raise ValueError(f"{self.path}{key}: {v:g} is above the maximum {maximum:g}")
        return v

    def integer(
        self,
        key: str,
        default: int | None = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        """An integer within [minimum, maximum]."""
        value = self.data.get(key, default)
        if value is None:
            raise ValueError(f"{self.path}{key}: required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{self.path}{key}: expected an integer, got {value!r}")
        if minimum is not None and value < minimum:
            raise ValueError(f"{self.path}{key}: {value} is below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{self.path}{key}: {value} is above the maximum {maximum}")
        return value

    def string(self, key: str, default: str | None = None) -> str:
        """A string."""
        value = self.data.get(key, default)
        if value is None:
            raise ValueError(f"{self.path}{key}: required")
        if not isinstance(value, str):
            raise ValueError(f"{self.path}{key}: expected a string, got {value!r}")
        return value

    def sequence(self, key: str, *, required: bool = False) -> list[Any]:
        """A list (empty when absent and not required)."""
        value = self.data.get(key)
        if value is None:
            if required:
                raise ValueError(f"{self.path}{key}: required")
            return []
        if not isinstance(value, list):
            raise ValueError(f"{self.path}{key}: expected a list")
        return value

    def sub(self, key: str) -> Reader:
        """A nested mapping (empty when absent)."""
        return Reader(self.data.get(key), f"{self.path}{key}.")

    def pair(self, key: str, default: tuple[float, float] | None = None) -> tuple[float, float]:
        """Two numbers ``[a, b]``."""
        value = self.data.get(key, default)
        if value is None:
            raise ValueError(f"{self.path}{key}: required")
        if (
            not isinstance(value, list | tuple)
            or len(value) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            raise ValueError(f"{self.path}{key}: expected two numbers [a, b], got {value!r}")
        return float(value[0]), float(value[1])

    def number_or_range(self, key: str, default: float | None = None) -> tuple[float, float]:
        """A number or ``[low, high]``; returned as a (low, high) pair."""
        value = self.data.get(key, default)
        if isinstance(value, list | tuple):
            lo, hi = self.pair(key)
            if hi < lo:
                raise ValueError(f"{self.path}{key}: range [{lo:g}, {hi:g}] is reversed")
            return lo, hi
        v = self.number(key, default)
        return v, v
