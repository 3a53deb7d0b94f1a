"""Kubernetes quantities (`100m`, `0.5`, `128Mi`, `1G`, `1e3`) as numbers: both runtimes read
resourceConfig and volume sizes in this notation, so they parse it one way. Pure, no SDK."""

from __future__ import annotations

import re
from decimal import Decimal

_QUANTITY = re.compile(
    r"^\+?(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}


def parse(value: str, what: str) -> Decimal:
    """The quantity's value in base units (cores, bytes); ValueError names `what` when it is not one."""
    match = _QUANTITY.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{what} {value!r} is not a Kubernetes quantity")
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    if suffix in _BINARY:
        return number * (1 << (10 * _BINARY[suffix]))
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:])) if suffix else number
