"""Who overrides whom when a deployment runs (dyrector §4.6): instance > deployment > image.

Configs are stored API-shaped dicts in which an absent or null field means "inherit". Each
field has its own rule: whole values go to the strongest level that sets them; keyed lists
are unions by key (env-like ones let a non-empty weaker value fill an empty stronger one);
ports are keyed by internal port; port ranges and volumes of a weaker level are dropped where
they clash with a stronger one; capabilities are never passed on.
"""

from __future__ import annotations

from typing import Any

WHOLE = ("name", "workingDirectory", "expose", "routing", "configContainer", "initContainers", "healthCheckConfig",
         "resourceConfig", "deploymentStrategy", "metrics", "logConfig", "networkMode", "restartPolicy",
         "expectedState", "storage")
TYPED = {"user": int, "tty": bool, "proxyHeaders": bool, "useLoadBalancer": bool}
FILLABLE = ("environment", "dockerLabels", "extraLBAnnotations")
KEYED = ("commands", "args", "networks", "customHeaders")
MARKERS = ("labels", "annotations")


def merge(image: dict[str, Any] | None, deployment: dict[str, Any] | None = None,
          instance: dict[str, Any] | None = None) -> dict[str, Any]:
    """The effective config of one container; the arguments are never modified."""
    levels = [level or {} for level in (instance, deployment, image)]  # strongest first
    merged: dict[str, Any] = {}
    for field in WHOLE:
        value = _first(level.get(field) for level in levels)
        if value is not None:
            merged[field] = value
    for field, kind in TYPED.items():
        value = _first(v for v in (level.get(field) for level in levels)
                       if isinstance(v, kind) and (kind is bool or not isinstance(v, bool)))
        if value is not None:
            merged[field] = value
    for field in FILLABLE:
        merged[field] = _fill_union([level.get(field) for level in levels])
    for field in KEYED:
        merged[field] = _union([level.get(field) for level in levels], lambda e: e.get("key"))
    merged["ports"] = _union([level.get("ports") for level in levels], lambda p: p.get("internal"))
    merged["portRanges"] = _without_overlaps([level.get("portRanges") for level in levels])
    merged["volumes"] = _without_clashes([level.get("volumes") for level in levels])
    for field in MARKERS:
        merged[field] = {part: _first((level.get(field) or {}).get(part) for level in levels)
                         for part in ("deployment", "service", "ingress")}
    merged["capabilities"] = []
    merged["secrets"] = merge_secrets(image, deployment, instance)
    return merged


def merge_secrets(image: dict[str, Any] | None, deployment: dict[str, Any] | None,
                  instance: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Concrete secrets: instance over deployment by key; the image declares which keys exist.

    With no concrete secrets at all, every declared key is taken with an empty value;
    otherwise missing *required* keys are added empty and undeclared optional ones are kept.
    """
    declared = (image or {}).get("secrets") or []
    concrete = _union([(instance or {}).get("secrets"), (deployment or {}).get("secrets")], lambda s: s.get("key"))
    if not concrete:
        return [_empty_secret(entry) for entry in declared]
    present = {entry["key"] for entry in concrete}
    required = [_empty_secret(entry) for entry in declared if entry.get("required") and entry["key"] not in present]
    return concrete + required


def _empty_secret(declared: dict[str, Any]) -> dict[str, Any]:
    return {"id": declared.get("id"), "key": declared["key"], "value": "", "required": bool(declared.get("required")),
            "encrypted": False, "publicKey": None}


def _first(values) -> Any:
    return next((value for value in values if value is not None), None)


def _union(lists: list[list[dict[str, Any]] | None], key) -> list[dict[str, Any]]:
    """Entries of every level, strongest first, a weaker entry dropped when its key is taken."""
    result, seen = [], set()
    for entries in lists:
        for entry in entries or []:
            if key(entry) not in seen:
                seen.add(key(entry))
                result.append(entry)
    return result


def _fill_union(lists: list[list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
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


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["from"] <= b["to"] and b["from"] <= a["to"]


def _without_overlaps(lists: list[list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for entries in lists:
        stronger = list(kept)
        for entry in entries or []:
            if not any(_overlaps(entry["internal"], s["internal"]) or _overlaps(entry["external"], s["external"])
                       for s in stronger):
                kept.append(entry)
    return kept


def _without_clashes(lists: list[list[dict[str, Any]] | None]) -> list[dict[str, Any]]:
    kept: list[dict[str, Any]] = []
    for entries in lists:
        paths, names = {v["path"] for v in kept}, {v["name"] for v in kept}
        kept += [v for v in entries or [] if v["path"] not in paths and v["name"] not in names]
    return kept
