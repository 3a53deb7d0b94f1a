"""Who overrides whom when a deployment runs (dyrector §4.6): instance > deployment > image.

The merge walks the container config model's fields; each field declares its rule
(`contracts.containers.Merge`) and this module holds the rule. A rule takes one field's values,
strongest level first (None where a level leaves it unset), and returns the merged value:
whole values go to the strongest level that sets them; keyed lists are unions by key (env-like
ones let a non-empty weaker value fill an empty stronger one); ports are keyed by internal
port; port ranges and volumes of a weaker level are dropped where they clash with a stronger
one; capabilities are never passed on. dyrector takes user, tty, proxyHeaders and
useLoadBalancer from the first level holding a real number or boolean: the model's types
guarantee that, so they are plain FIRST fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from chalicelib.contracts.containers import (
    ConcreteSecret,
    ConfigModel,
    ContainerConfig,
    ImageConfig,
    Merge,
    PortRangeBinding,
    UniqueKeyValue,
    UniqueSecretKey,
    Volume,
    merge_rule,
)

T = TypeVar("T")
Rule = Callable[[list[Any]], Any]


def _first(values: Iterable[T | None]) -> T | None:
    return next((value for value in values if value is not None), None)


def _union(lists: Iterable[list[T] | None], key: Callable[[T], Any]) -> list[T]:
    """Entries of every level, strongest first, a weaker entry dropped when its key is taken."""
    result: list[T] = []
    seen: set[Any] = set()
    for entries in lists:
        for entry in entries or []:
            if key(entry) not in seen:
                seen.add(key(entry))
                result.append(entry)
    return result


def _keyed(lists: list[list[Any] | None]) -> list[Any]:
    return _union(lists, lambda entry: entry.key)


def _ports(lists: list[list[Any] | None]) -> list[Any]:
    return _union(lists, lambda port: port.internal)


def _fill_union(lists: list[list[UniqueKeyValue] | None]) -> list[UniqueKeyValue]:
    """Union by key where an empty stronger value is replaced by a non-empty weaker one."""
    result: dict[str, UniqueKeyValue] = {}
    for entries in lists:
        for entry in entries or []:
            current = result.get(entry.key)
            if current is None:
                result[entry.key] = entry
            elif not current.value and entry.value:
                result[entry.key] = current.model_copy(update={"value": entry.value})
    return list(result.values())


def _without_overlaps(lists: list[list[PortRangeBinding] | None]) -> list[PortRangeBinding]:
    kept: list[PortRangeBinding] = []
    for entries in lists:
        stronger = list(kept)
        kept += [
            entry
            for entry in entries or []
            if not any(entry.internal.overlaps(s.internal) or entry.external.overlaps(s.external) for s in stronger)
        ]
    return kept


def _without_clashes(lists: list[list[Volume] | None]) -> list[Volume]:
    kept: list[Volume] = []
    for entries in lists:
        paths, names = {v.path for v in kept}, {v.name for v in kept}
        kept += [v for v in entries or [] if v.path not in paths and v.name not in names]
    return kept


def _per_part(values: list[ConfigModel | None]) -> ConfigModel | None:
    """Labels and annotations: each part (deployment, service, ingress) whole from the strongest level."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    kind = type(present[0])
    return kind.model_validate({name: _first(getattr(v, name) for v in present) for name in kind.model_fields})


def _never(values: list[Any]) -> list[Any]:
    return []


def _secrets(values: list[list[Any] | None]) -> list[ConcreteSecret]:
    """Concrete secrets: instance over deployment by key; the image (the weakest level) declares
    which keys exist. With no concrete secrets at all, every declared key is taken with an empty
    value; otherwise missing *required* keys are added empty and undeclared optional ones are kept."""
    *concrete_levels, declared_level = values
    declared: list[UniqueSecretKey] = declared_level or []
    concrete: list[ConcreteSecret] = _union(concrete_levels, lambda s: s.key)
    if not concrete:
        return [_empty_secret(entry) for entry in declared]
    present = {entry.key for entry in concrete}
    return concrete + [_empty_secret(e) for e in declared if e.required and e.key not in present]


def _empty_secret(declared: UniqueSecretKey) -> ConcreteSecret:
    return ConcreteSecret(id=declared.id, key=declared.key, required=declared.required)


RULES: dict[Merge, Rule] = {
    Merge.FIRST: _first,
    Merge.FILL: _fill_union,
    Merge.KEYED: _keyed,
    Merge.PORTS: _ports,
    Merge.PORT_RANGES: _without_overlaps,
    Merge.VOLUMES: _without_clashes,
    Merge.PER_PART: _per_part,
    Merge.SECRETS: _secrets,
    Merge.NEVER: _never,
}


def merge(
    image: ImageConfig | None, deployment: ContainerConfig | None = None, instance: ContainerConfig | None = None
) -> ContainerConfig:
    """The effective config of one container: every field merged by the rule it declares."""
    levels = (instance, deployment, image)  # strongest first; the image is last (it declares secret keys)
    merged = {
        name: RULES[merge_rule(name, field)]([getattr(level, name) if level else None for level in levels])
        for name, field in ContainerConfig.model_fields.items()
    }
    return ContainerConfig.model_validate({name: value for name, value in merged.items() if value is not None})
