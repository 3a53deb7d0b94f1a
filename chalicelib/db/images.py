"""Images of a version (`IMAGE#<vid>#<iid>` in the team partition).

Each image is indexed by its registry (GSI1 `REGISTRY#<rid>`) and, while its config uses
a storage, by that storage (GSI2 `STORAGE#<sid>`), so "is this registry/storage in use"
is a one-item index Query.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from chalicelib.db import keys, named, stats
from chalicelib.db.items import ImageItem, RegistryItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import not_found
from chalicelib.models.images import MAX_IMAGES_PER_VERSION

_PER_TRANSACTION = 99  # DynamoDB's 100 items per transaction, less the team item
# A version's images (or a deployment's instances, one per image) in one Query: the cap and one more,
# so a full version needs no second, empty page.
ONE_PAGE = MAX_IMAGES_PER_VERSION + 1


def new_item(
    team_id: str,
    project_id: str,
    version_id: str,
    image_id: str,
    registry_id: str,
    name: str,
    tag: str | None,
    order: int,
    config: dict[str, Any],
    labels: dict[str, str] | None,
    now: datetime,
) -> ImageItem:
    item = ImageItem(
        keys.team(team_id),
        keys.image(version_id, image_id),
        id=image_id,
        project_id=project_id,
        version_id=version_id,
        registry_id=registry_id,
        name=name,
        tag=tag,
        order=order,
        labels=labels or None,
        config=config,
        created_at=now,
        updated_at=now,
    )
    index(item)
    return item


def index(item: ImageItem) -> None:
    """(Re)computes the image's index keys from its registry and config."""
    item.GSI1PK, item.GSI1SK = keys.registry(item.registry_id), keys.image_ref(item.id)
    storage_id = (item.config.get("storage") or {}).get("storageId")
    item.GSI2PK, item.GSI2SK = (keys.storage(storage_id), keys.image_ref(item.id)) if storage_id else (None, None)


def get(team_id: str, version_id: str, image_id: str) -> ImageItem | None:
    return named.get(ImageItem, team_id, keys.image(version_id, image_id))


def list_for_version(team_id: str, version_id: str) -> list[ImageItem]:
    """Every image of the version, in order: one Query page, as a version holds at most
    `MAX_IMAGES_PER_VERSION` (one from before the cap holding more costs more pages, never fewer images)."""
    found = named.query(ImageItem, team_id, keys.images_of(version_id), page_size=ONE_PAGE)
    return sorted(found, key=lambda i: (i.order, i.created_at))


def put_new(team_id: str, images: list[ImageItem]) -> None:
    """New images, all-or-nothing per 99 (a request adds far fewer); the first transaction also marks
    their version as the team's first one given images (the dashboard's onboarding), if none is."""
    for start in range(0, len(images), _PER_TRANSACTION):
        tx = Transaction()
        if start == 0:
            version = {"images_project_id": images[0].project_id, "images_version_id": images[0].version_id}
            stats.on_team(tx, team_id, first=version)
        for image in images[start : start + _PER_TRANSACTION]:
            tx.create(image)
        tx.commit()


def save(image: ImageItem, now: datetime) -> None:
    """Writes a changed tag/config (with its index keys) if the image still exists."""
    image.updated_at = now
    index(image)
    image.save(condition=ImageItem.PK.exists())


def reorder(team_id: str, version_id: str, order: list[str]) -> None:
    tx = Transaction()
    for position, image_id in enumerate(order):
        tx.update(
            ImageItem(keys.team(team_id), keys.image(version_id, image_id)),
            [ImageItem.order.set(position)],
            ImageItem.PK.exists(),
            not_found("image"),
        )
    tx.commit()


def delete(image: ImageItem) -> None:
    image.delete(condition=ImageItem.PK.exists())


def copy_all(
    team_id: str, source: list[ImageItem], project_id: str, version_id: str, new_id: Any, now: datetime
) -> list[ImageItem]:
    """Deep copies of a version's images (configs included) for another version."""
    return [
        new_item(
            team_id,
            project_id,
            version_id,
            new_id(),
            image.registry_id,
            image.name,
            image.tag,
            int(image.order),
            copy.deepcopy(image.config),
            image.labels,
            now,
        )
        for image in source
    ]


def registries_of(team_id: str, registry_ids: set[str]) -> dict[str, RegistryItem]:
    """The registries that images point at, for their `registry {type,id,name}` summary."""
    if not registry_ids:
        return {}
    found = RegistryItem.batch_get([(keys.team(team_id), keys.registry(rid)) for rid in registry_ids])
    return {item.id: item for item in found}
