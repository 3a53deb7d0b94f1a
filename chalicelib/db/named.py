"""Team-scoped entities whose name is unique within the team (projects, registries, storages, ...).

Each lives in its team's partition (`TEAM#<tid>`) beside a name guard item
(`TEAM#<tid>` / `<KIND>NAME#<lower name>`, `ref` = entity id) written in the same
transaction with `attribute_not_exists(PK)`: two concurrent creates with one name give one
201 and one 409, never two entities. A rename moves the guard in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from pynamodb.expressions.condition import Condition

from chalicelib.db import keys, paging
from chalicelib.db.items import GuardItem
from chalicelib.db.table import BaseItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import AppError, NotFoundError
from chalicelib.models.paging import Page, PageQuery

T = TypeVar("T", bound=BaseItem)


def set_or_remove(attribute: Any, value: Any) -> Any:
    """An update action: set the attribute, or remove it when the new value is None."""
    return attribute.set(value) if value is not None else attribute.remove()


def guard(team_id: str, guard_sk: str, ref: str) -> GuardItem:
    return GuardItem(keys.team(team_id), guard_sk, ref=ref)


def get(model: type[T], team_id: str, sk: str) -> T | None:
    try:
        return model.get(keys.team(team_id), sk)
    except model.DoesNotExist:
        return None


def query(model: type[T], team_id: str, sk_prefix: str, **kwargs: Any) -> list[T]:
    return list(model.query(keys.team(team_id), model.SK.startswith(sk_prefix), **kwargs))


def batch(team_id: str, sort_keys: Iterable[str]) -> dict[str, Any]:
    """Items of the team's partition by sort key, in one BatchGetItem per 100 keys; missing ones left out."""
    wanted = set(sort_keys)
    if not wanted:
        return {}
    return {item.SK: item for item in BaseItem.batch_get([(keys.team(team_id), sk) for sk in wanted])}


def page(model: type[T], team_id: str, sk_prefix: str, query: PageQuery) -> Page[T]:
    """One page of the team's `model` items, in key order (`db/paging.py`)."""
    return paging.query_page(model, keys.team(team_id), sk_prefix, query.take, query.cursor)


def exists_in_index(index: Any, partition: str, sk_prefix: str) -> bool:
    """True when at least one item sits under `partition` in a GSI (e.g. images of a registry)."""
    attribute = getattr(BaseItem, f"{index.Meta.index_name}SK")
    return next(iter(index.query(partition, attribute.startswith(sk_prefix), limit=1)), None) is not None


def create(team_id: str, item: Any, guard_sk: str, conflict: AppError, tx: Transaction | None = None) -> None:
    """Entity + name guard (+ whatever `tx` already holds) in one transaction."""
    (tx or Transaction()).create(guard(team_id, guard_sk, item.id), conflict).create(item, conflict).commit()


def update(
    team_id: str,
    item: Any,
    old_guard_sk: str,
    new_guard_sk: str,
    actions: list[Any],
    conflict: AppError,
    missing: NotFoundError,
    condition: Condition | None = None,
    on_fail: AppError | None = None,
    tx: Transaction | None = None,
) -> None:
    """Applies `actions` to the item (which must still exist), moving its name guard if the name changed.

    A vanished item fails with `missing`; `condition` (e.g. "still mutable"), checked atomically
    with the write, fails with `on_fail` (callers have loaded the item, so a failure is the rule).
    """
    tx = tx or Transaction()
    if old_guard_sk != new_guard_sk:
        tx.create(guard(team_id, new_guard_sk, item.id), conflict)
        tx.delete(guard(team_id, old_guard_sk, item.id))
    exists = type(item).PK.exists()
    if condition is None:
        tx.update(item, actions, exists, missing)
    else:
        tx.update(item, actions, exists & condition, on_fail or missing)
    tx.commit()


def delete(
    team_id: str,
    item: Any,
    guard_sk: str,
    condition: Condition | None = None,
    on_fail: AppError | None = None,
    tx: Transaction | None = None,
) -> None:
    (tx or Transaction()).delete(item, condition, on_fail).delete(guard(team_id, guard_sk, item.id)).commit()
