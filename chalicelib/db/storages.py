"""Storages in the team partition (`STORAGE#<sid>`), name-guarded; configs using one sit under
GSI2 `STORAGE#<sid>` (image and instance items, and a deployment's `STORAGEREF#<did>` item, each
indexed in the write that stores the config), so "in use" is one Query."""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import keys, named
from chalicelib.db.items import BaseItem, StorageItem
from chalicelib.db.named import set_or_remove
from chalicelib.db.transactions import Transaction
from chalicelib.errors import not_found, taken
from chalicelib.models.paging import Page, PageQuery


def new_item(
    team_id: str,
    storage_id: str,
    name: str,
    description: str | None,
    icon: str | None,
    url: str,
    credentials_key: str | None,
    by: str,
    now: datetime,
) -> StorageItem:
    return StorageItem(
        keys.team(team_id),
        keys.storage(storage_id),
        id=storage_id,
        name=name,
        description=description,
        icon=icon,
        url=url,
        credentials_key=credentials_key,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def get(team_id: str, storage_id: str) -> StorageItem | None:
    return named.get(StorageItem, team_id, keys.storage(storage_id))


def list_for_team(team_id: str) -> list[StorageItem]:
    return sorted(named.query(StorageItem, team_id, keys.STORAGE_PREFIX), key=lambda s: s.created_at)


def page_for_team(team_id: str, query: PageQuery) -> Page[StorageItem]:
    return named.page(StorageItem, team_id, keys.STORAGE_PREFIX, query)


def create(team_id: str, storage: StorageItem) -> None:
    named.create(team_id, storage, keys.storage_name(storage.name), taken("storage", value=storage.name))


def update(
    team_id: str,
    storage: StorageItem,
    *,
    name: str,
    description: str | None,
    icon: str | None,
    url: str,
    credentials_key: str | None,
    by: str,
    now: datetime,
) -> None:
    named.update(
        team_id,
        storage,
        keys.storage_name(storage.name),
        keys.storage_name(name),
        [
            StorageItem.name.set(name),
            set_or_remove(StorageItem.description, description),
            set_or_remove(StorageItem.icon, icon),
            StorageItem.url.set(url),
            set_or_remove(StorageItem.credentials_key, credentials_key),
            StorageItem.updated_at.set(now),
            StorageItem.updated_by.set(by),
        ],
        taken("storage", value=name),
        not_found("storage"),
    )


def in_use(storage_id: str) -> bool:
    return next(iter(BaseItem.gsi2.query(keys.storage(storage_id), limit=1)), None) is not None


def delete(team_id: str, storage: StorageItem) -> None:
    named.delete(team_id, storage, keys.storage_name(storage.name), tx=Transaction())
