"""A container's inspection as the agent reports it, whatever the engine: secret values masked, bounded.

The values of secret variables never leave the node: they are replaced by MASKED here, before the
inspection is reported. The answer is kept within INSPECT_MAX_BYTES as JSON (it is reported through
a 1 MiB request and kept in a 400 KB table item until read): at most MAX_ENTRIES variables and
labels, MAX_ITEMS mounts and ports, and every string cut to the longest that lets the whole fit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from typing import Any

from chalicelib.contracts.agent import INSPECT_MAX_BYTES, MASKED, ContainerInspection, EnvironmentVariable

MAX_ENTRIES = 200  # variables, labels
MAX_ITEMS = 100  # mounts, ports
_STRING_CAPS = (4096, 1024, 256, 64)  # a string's longest JSON text, tried in turn until the whole fits


def environment(pairs: Iterable[tuple[str, str]], secret_keys: Collection[str]) -> list[EnvironmentVariable]:
    """The variables in order, the values of secret keys masked."""
    return [
        EnvironmentVariable(key=key, value=MASKED, secret=True)
        if key in secret_keys
        else EnvironmentVariable(key=key, value=value)
        for key, value in pairs
    ]


def fit(inspection: ContainerInspection) -> ContainerInspection:
    """The inspection within INSPECT_MAX_BYTES as JSON; `truncated` when something was cut."""
    data = inspection.dump()
    truncated = inspection.truncated
    for field, most in (("environment", MAX_ENTRIES), ("mounts", MAX_ITEMS), ("ports", MAX_ITEMS)):
        if len(data[field]) > most:
            data[field], truncated = data[field][:most], True
    if len(data["labels"]) > MAX_ENTRIES:
        data["labels"], truncated = dict(list(data["labels"].items())[:MAX_ENTRIES]), True
    for cap in _STRING_CAPS:
        cut: list[str] = []
        clipped = _clip(data, cap, cut)
        if len(json.dumps(clipped)) <= INSPECT_MAX_BYTES:
            break
    return ContainerInspection.model_validate({**clipped, "truncated": truncated or bool(cut)})


def _clip(value: Any, cap: int, cut: list[str]) -> Any:
    """`value` with every string (keys too) cut to at most `cap` characters of JSON; each one cut is
    added to `cut`."""
    if isinstance(value, str):
        clipped = clip_text(value, cap)
        if clipped != value:
            cut.append(clipped)
        return clipped
    if isinstance(value, dict):
        return {_clip(key, cap, cut): _clip(item, cap, cut) for key, item in value.items()}
    if isinstance(value, list):
        return [_clip(item, cap, cut) for item in value]
    return value


def clip_text(text: str, cap: int) -> str:
    """The longest start of `text` whose JSON (escapes included, without quotes) takes at most `cap` bytes."""
    if len(json.dumps(text)) - 2 <= cap:
        return text
    low, high = 0, min(len(text), cap)
    while low < high:
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle])) - 2 <= cap:
            low = middle
        else:
            high = middle - 1
    return text[:low]
