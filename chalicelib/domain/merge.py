"""Who overrides whom when a deployment runs (dyrector §4.6): instance > deployment > image.

Configs are stored API-shaped dicts in which an absent or null field means "inherit". Each
field has its own rule: whole values go to the strongest level that sets them; keyed lists
are unions by key (env-like ones let a non-empty weaker value fill an empty stronger one);
ports are keyed by internal port; port ranges and volumes of a weaker level are dropped where
they clash with a stronger one; capabilities are never passed on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

Entry = dict[str, Any]
# A rule takes one field's values, strongest level first (None where a level leaves it unset), and
# returns the merged value; None leaves the field out of the merged config.
Rule = Callable[[list[Any]], Any]

WHOLE = (
    "name",
    "workingDirectory",
    "expose",
    "routing",
    "configContainer",
    "initContainers",
    "healthCheckConfig",
    "resourceConfig",
    "deploymentStrategy",
    "metrics",
    "logConfig",
    "networkMode",
    "restartPolicy",
    "expectedState",
    "storage",
)
TYPED = {"user": int, "tty": bool, "proxyHeaders": bool, "useLoadBalancer": bool}
FILLABLE = ("environment", "dockerLabels", "extraLBAnnotations")
KEYED = ("commands", "args", "networks", "customHeaders")
MARKERS = ("labels", "annotations")
PARTS = ("deployment", "service", "ingress")


def _first(values: Iterable[Any]) -> Any:
    return next((value for value in values if value is not None), None)


def _typed(kind: type) -> Rule:
    """The first value of the right type (a bool is not taken for an int)."""
    return lambda values: _first(v for v in values if isinstance(v, kind) and (kind is bool or not isinstance(v, bool)))


def _keyed_by(key: str) -> Rule:
    return lambda values: _union(values, lambda entry: entry.get(key))


def _by_part(values: list[dict[str, Any] | None]) -> dict[str, Any]:
    """Labels and annotations: each part (deployment, service, ingress) whole from the strongest level."""
    return {part: _first((value or {}).get(part) for value in values) for part in PARTS}


def _never(values: list[Any]) -> list[Any]:
    return []


def _union(lists: list[list[Entry] | None], key: Callable[[Entry], Any]) -> list[Entry]:
    """Entries of every level, strongest first, a weaker entry dropped when its key is taken."""
    result: list[Entry] = []
    seen: set[Any] = set()
    for entries in lists:
        for entry in entries or []:
            if key(entry) not in seen:
                seen.add(key(entry))
                result.append(entry)
    return result


def _fill_union(lists: list[list[Entry] | None]) -> list[Entry]:
    """Union by key where an empty stronger value is replaced by a non-empty weaker one."""
    result: dict[str, dict[str, Any]] = {}
    for entries in lists:
        for entry in entries or []:
            current = result.get(entry["key"])
            if current is None:
                result[entry["key"]] = entry
            elif not current.get("value") and entry.get("value"):
                result[entry["key"]] = {**current, "value": entry["value"]}
    return list(result.values())


def _overlaps(a: dict[str, int], b: dict[str, int]) -> bool:
    return a["from"] <= b["to"] and b["from"] <= a["to"]


def _without_overlaps(lists: list[list[Entry] | None]) -> list[Entry]:
    kept: list[Entry] = []
    for entries in lists:
        stronger = list(kept)
        for entry in entries or []:
            if not any(
                _overlaps(entry["internal"], s["internal"]) or _overlaps(entry["external"], s["external"])
                for s in stronger
            ):
                kept.append(entry)
    return kept


def _without_clashes(lists: list[list[Entry] | None]) -> list[Entry]:
    kept: list[Entry] = []
    for entries in lists:
        paths, names = {v["path"] for v in kept}, {v["name"] for v in kept}
        kept += [v for v in entries or [] if v["path"] not in paths and v["name"] not in names]
    return kept


# Every config field but `secrets` and the rule that merges it, in the merged config's field order.
RULES: dict[str, Rule] = {
    **dict.fromkeys(WHOLE, _first),
    **{field: _typed(kind) for field, kind in TYPED.items()},
    **dict.fromkeys(FILLABLE, _fill_union),
    **dict.fromkeys(KEYED, _keyed_by("key")),
    "ports": _keyed_by("internal"),
    "portRanges": _without_overlaps,
    "volumes": _without_clashes,
    **dict.fromkeys(MARKERS, _by_part),
    "capabilities": _never,  # never passed on
}


def merge(
    image: dict[str, Any] | None, deployment: dict[str, Any] | None = None, instance: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The effective config of one container; the arguments are never modified."""
    levels = [level or {} for level in (instance, deployment, image)]  # strongest first
    merged: dict[str, Any] = {}
    for field, rule in RULES.items():
        value = rule([level.get(field) for level in levels])
        if value is not None:
            merged[field] = value
    merged["secrets"] = merge_secrets(image, deployment, instance)
    return merged


def merge_secrets(
    image: dict[str, Any] | None, deployment: dict[str, Any] | None, instance: dict[str, Any] | None
) -> list[Entry]:
    """Concrete secrets: instance over deployment by key; the image declares which keys exist.

    With no concrete secrets at all, every declared key is taken with an empty value;
    otherwise missing *required* keys are added empty and undeclared optional ones are kept.
    """
    declared = _secrets_of(image)
    concrete = _union([_secrets_of(instance), _secrets_of(deployment)], lambda s: s.get("key"))
    if not concrete:
        return [_empty_secret(entry) for entry in declared]
    present = {entry["key"] for entry in concrete}
    missing = [entry for entry in declared if entry.get("required") and entry["key"] not in present]
    return concrete + [_empty_secret(entry) for entry in missing]


def _secrets_of(level: dict[str, Any] | None) -> list[Entry]:
    secrets: list[Entry] = (level or {}).get("secrets") or []
    return secrets


def _empty_secret(declared: Entry) -> Entry:
    return {
        "id": declared.get("id"),
        "key": declared["key"],
        "value": "",
        "required": bool(declared.get("required")),
        "encrypted": False,
        "publicKey": None,
    }
