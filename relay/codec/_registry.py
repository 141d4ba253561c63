"""The frozen table of codec ids and the package data files each one depends on.

A codec id names a wire format forever: never change a row or a data file in place; add a new id.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    STORED = "stored"
    DEFLATE = "deflate"
    PPM = "ppm"


@dataclass(frozen=True, slots=True)
class CodecSpec:
    codec_id: int
    name: str
    kind: Kind
    charset: str | None  # "utf-8" or "kz1048" for stored/deflate; None for PPM (code points)
    family: str | None  # language family of the dictionary/model
    data_file: str | None  # file under relay/codec/dictionaries/
    order: int = 0  # PPM maximum context order


FAMILIES = ("ru", "kk", "kk-latn", "en", "mixed")
PPM_ORDER = 3


def _specs() -> tuple[CodecSpec, ...]:
    rows = [
        CodecSpec(0, "utf8", Kind.STORED, "utf-8", None, None),
        CodecSpec(1, "kz1048", Kind.STORED, "kz1048", None, None),
    ]
    kz_families = ("ru", "kk", "en", "mixed")
    for i, fam in enumerate(kz_families):
        rows.append(
            CodecSpec(
                2 + i, f"deflate-{fam}-kz1048", Kind.DEFLATE, "kz1048", fam, f"deflate-{fam}.txt"
            )
        )
    for i, fam in enumerate((*kz_families, "kk-latn")):
        rows.append(
            CodecSpec(
                6 + i, f"deflate-{fam}-utf8", Kind.DEFLATE, "utf-8", fam, f"deflate-{fam}.txt"
            )
        )
    for i, fam in enumerate(FAMILIES):
        rows.append(
            CodecSpec(
                16 + i, f"ppm{PPM_ORDER}-{fam}", Kind.PPM, None, fam, f"ppm-{fam}.txt", PPM_ORDER
            )
        )
    return tuple(rows)


SPECS: dict[int, CodecSpec] = {spec.codec_id: spec for spec in _specs()}
