"""Registries in the team partition (`REGISTRY#<rid>`), name-guarded; images point at them via GSI1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.db import keys, named
from chalicelib.db.items import BaseItem, RegistryItem
from chalicelib.db.named import set_or_remove
from chalicelib.db.transactions import Transaction
from chalicelib.errors import PreconditionFailedError, not_found, taken
from chalicelib.models.paging import Page, PageQuery


def new_item(
    team_id: str,
    registry_id: str,
    name: str,
    description: str | None,
    icon: str | None,
    kind: str,
    details: dict[str, Any],
    sealed_token: bytes | None,
    by: str,
    now: datetime,
) -> RegistryItem:
    return RegistryItem(
        keys.team(team_id),
        keys.registry(registry_id),
        id=registry_id,
        name=name,
        description=description,
        icon=icon,
        kind=kind,
        details=details,
        sealed_token=sealed_token,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def get(team_id: str, registry_id: str) -> RegistryItem | None:
    return named.get(RegistryItem, team_id, keys.registry(registry_id))


def ids_by_name(team_id: str, names: list[str]) -> dict[str, str]:
    """The ids of the team's registries with these names (any case), from their name guards in one
    BatchGetItem; names without a registry are left out."""
    guards = named.batch(team_id, [keys.registry_name(name) for name in names])
    return {name: guards[keys.registry_name(name)].ref for name in names if keys.registry_name(name) in guards}


def page_for_team(team_id: str, query: PageQuery) -> Page[RegistryItem]:
    return named.page(RegistryItem, team_id, keys.REGISTRY_PREFIX, query)


def add_to(tx: Transaction, team_id: str, registry: RegistryItem) -> Transaction:
    conflict = taken("registry", value=registry.name)
    return tx.create(named.guard(team_id, keys.registry_name(registry.name), registry.id), conflict).create(
        registry, conflict
    )


def create(team_id: str, registry: RegistryItem) -> None:
    add_to(Transaction(), team_id, registry).commit()


def update(
    team_id: str,
    registry: RegistryItem,
    *,
    name: str,
    description: str | None,
    icon: str | None,
    kind: str,
    details: dict[str, Any],
    sealed_token: bytes | None,
    by: str,
    now: datetime,
) -> None:
    token_action = RegistryItem.sealed_token.set(sealed_token) if sealed_token else RegistryItem.sealed_token.remove()
    named.update(
        team_id,
        registry,
        keys.registry_name(registry.name),
        keys.registry_name(name),
        [
            RegistryItem.name.set(name),
            set_or_remove(RegistryItem.description, description),
            set_or_remove(RegistryItem.icon, icon),
            RegistryItem.kind.set(kind),
            RegistryItem.details.set(details),
            token_action,
            RegistryItem.updated_at.set(now),
            RegistryItem.updated_by.set(by),
        ],
        taken("registry", value=name),
        not_found("registry"),
    )


def in_use(registry_id: str) -> bool:
    return named.exists_in_index(BaseItem.gsi1, keys.registry(registry_id), keys.IMAGE_PREFIX)


def delete(team_id: str, registry: RegistryItem) -> None:
    if in_use(registry.id):
        raise PreconditionFailedError("The registry is used by images; remove them first.", property="registryId")
    named.delete(team_id, registry, keys.registry_name(registry.name))
