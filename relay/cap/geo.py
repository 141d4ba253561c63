"""CAP geometry (circles and polygons in WGS 84) and Jarshy's point and geohash (pure).

CAP 1.2 writes a circle as ``"lat,lon radius_km"`` and a polygon as ``"lat,lon lat,lon ..."`` (at
least four pairs, the first and last the same). Jarshy carries one circle (latitude and longitude
in 1e-5 degrees, radius in metres, at most 1 000 km) and one geohash. A shape Jarshy cannot carry
exactly is replaced by one that **covers** it, never by a smaller one: a resident just outside a
shrunken area would wrongly believe the alert is not theirs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_PAIR = re.compile(rf"^({_NUMBER}),({_NUMBER})$")
MAX_POLYGON_POINTS = 10_000  # one polygon; the file bound limits the total


class GeoError(ValueError):
    """A circle or polygon that does not read as CAP 1.2 writes them."""


@dataclass(frozen=True, slots=True)
class Circle:
    """A circle in degrees and metres (a polygon vertex is a circle of radius 0)."""

    lat: float
    lon: float
    radius_m: float


def _pair(text: str) -> tuple[float, float]:
    match = _PAIR.match(text)
    if not match:
        raise GeoError(f"{text[:40]!r} is not LAT,LON")
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GeoError(f"{text[:40]!r} is outside ±90 latitude, ±180 longitude")
    return lat, lon


def parse_circle(text: str) -> Circle:
    """A CAP ``<circle>``: ``"lat,lon radius"`` with the radius in kilometres."""
    parts = text.split()
    if len(parts) != 2:
        raise GeoError(f"circle {text[:40]!r} is not 'LAT,LON RADIUS_KM'")
    lat, lon = _pair(parts[0])
    try:
        radius_km = float(parts[1])
    except ValueError:
        raise GeoError(f"circle radius {parts[1][:20]!r} is not a number") from None
    if not 0 <= radius_km < 1e6:
        raise GeoError(f"circle radius {parts[1][:20]!r} km is out of range")
    return Circle(lat, lon, radius_km * 1000)


def parse_polygon(text: str) -> list[tuple[float, float]]:
    """A CAP ``<polygon>``: at least four ``lat,lon`` pairs, closed (first = last)."""
    parts = text.split()
    if len(parts) > MAX_POLYGON_POINTS:
        raise GeoError(f"polygon of {len(parts)} points: at most {MAX_POLYGON_POINTS} are read")
    points = [_pair(part) for part in parts]
    if len(points) < 4 or points[0] != points[-1]:
        raise GeoError("a polygon needs at least 4 points, the first and last the same")
    return points


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on the mean sphere)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def covering_circle(shapes: Sequence[Circle]) -> Circle:
    """One circle that contains every circle of ``shapes`` (vertices are radius-0 circles).

    Its centre is the middle of the shapes' bounding box (rounded to Jarshy's 1e-5 degrees) and its
    radius the farthest shape edge from there, rounded up to a whole metre plus one: a superset,
    not the smallest one.
    """
    if not shapes:
        raise GeoError("no shape to cover")
    lat = round((min(s.lat for s in shapes) + max(s.lat for s in shapes)) / 2, 5)
    lon = round((min(s.lon for s in shapes) + max(s.lon for s in shapes)) / 2, 5)
    reach = max(distance_m(lat, lon, s.lat, s.lon) + s.radius_m for s in shapes)
    return Circle(lat, lon, float(math.ceil(reach) + 1))


def bounding_box(shapes: Sequence[Circle]) -> tuple[float, float, float, float]:
    """(south, north, west, east) in degrees around every shape, clamped to the globe."""
    metres_per_degree = math.pi * EARTH_RADIUS_M / 180
    spans = []
    for s in shapes:
        dlat = s.radius_m / metres_per_degree
        dlon = s.radius_m / (metres_per_degree * max(math.cos(math.radians(s.lat)), 1e-6))
        spans.append((s.lat - dlat, s.lat + dlat, s.lon - dlon, s.lon + dlon))
    return (
        max(-90.0, min(span[0] for span in spans)),
        min(90.0, max(span[1] for span in spans)),
        max(-180.0, min(span[2] for span in spans)),
        min(180.0, max(span[3] for span in spans)),
    )


def format_circle(lat_e5: int, lon_e5: int, radius_m: int) -> str:
    """Jarshy's point as a CAP ``<circle>`` (exact: 1e-5 degrees, the radius in km to the metre)."""
    km = f"{radius_m // 1000}.{radius_m % 1000:03d}".rstrip("0").rstrip(".")
    return f"{_degrees(lat_e5)},{_degrees(lon_e5)} {km}"


def _degrees(e5: int) -> str:
    sign = "-" if e5 < 0 else ""
    return f"{sign}{abs(e5) // 100_000}.{abs(e5) % 100_000:05d}"


def geohash_cell(geohash: str) -> tuple[float, float, float, float]:
    """The cell a geohash names: (south, north, west, east) in degrees."""
    south, north, west, east = -90.0, 90.0, -180.0, 180.0
    even = True
    for ch in geohash:
        bits = GEOHASH_ALPHABET.index(ch)
        for shift in range(4, -1, -1):
            on = bits >> shift & 1
            if even:
                mid = (west + east) / 2
                west, east = (mid, east) if on else (west, mid)
            else:
                mid = (south + north) / 2
                south, north = (mid, north) if on else (south, mid)
            even = not even
    return south, north, west, east


def geohash_polygon(geohash: str) -> str:
    """A geohash's cell as a closed CAP ``<polygon>`` (five corners, counter-clockwise)."""
    south, north, west, east = geohash_cell(geohash)
    corners = [(south, west), (south, east), (north, east), (north, west), (south, west)]
    return " ".join(f"{lat:.7f},{lon:.7f}" for lat, lon in corners)


def is_cell_polygon(points: Sequence[tuple[float, float]], geohash: str) -> bool:
    """Whether ``points`` is the polygon :func:`geohash_polygon` writes for ``geohash``."""
    expected = parse_polygon(geohash_polygon(geohash))
    return len(points) == len(expected) and all(
        abs(a[0] - b[0]) < 1e-6 and abs(a[1] - b[1]) < 1e-6
        for a, b in zip(points, expected, strict=True)
    )


def covering_geohash(south: float, north: float, west: float, east: float) -> str | None:
    """The longest geohash (at most 12 characters) whose cell contains the box, or None when
    not even one character does (a box across a first-level cell boundary)."""
    best = None
    for length in range(1, 13):
        prefix = _encode(south, west, length)
        if _encode(north, east, length) != prefix:
            break
        best = prefix
    return best


def _encode(lat: float, lon: float, length: int) -> str:
    south, north, west, east = -90.0, 90.0, -180.0, 180.0
    out: list[str] = []
    bits, count, even = 0, 0, True
    while len(out) < length:
        if even:
            mid = (west + east) / 2
            on = lon >= mid
            west, east = (mid, east) if on else (west, mid)
        else:
            mid = (south + north) / 2
            on = lat >= mid
            south, north = (mid, north) if on else (south, mid)
        bits, count, even = bits << 1 | on, count + 1, not even
        if count == 5:
            out.append(GEOHASH_ALPHABET[bits])
            bits, count = 0, 0
    return "".join(out)
