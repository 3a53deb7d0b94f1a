"""Storages (`/api/{teamSlug}/storages`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.storages import StorageListItem, StorageOption, StorageRequest, StorageResponse
from chalicelib.services import storages

if TYPE_CHECKING:
    from chalicelib.db.items import StorageItem

route = Router("Storages")
BASE = "/api/{teamSlug}/storages"


def _item(storage: StorageItem) -> dict[str, Any]:
    return {
        "description": storage.description,
        "icon": storage.icon,
        "url": storage.url,
        "id": storage.id,
        "name": storage.name,
    }


def _details(ctx: RequestContext, storage: StorageItem) -> dict[str, Any]:
    return {
        **_item(storage),
        "access_key": storages.access_key(ctx.team, storage),
        "secret_key": None,
        "in_use": storages.in_use(storage),
    }


@route.get(BASE, summary="List the team's storages (never their keys)", query=PageQuery, response=list[StorageListItem])
def list_storages(ctx: RequestContext, team_slug: str, query: PageQuery):
    return storages.list_storages(ctx.team, query).map(_item)


@route.post(
    BASE,
    summary="Add an S3-compatible storage (keys stored KMS-encrypted)",
    body=StorageRequest,
    response=StorageResponse,
    status=201,
    errors=(409,),
)
def create_storage(ctx: RequestContext, team_slug: str, body: StorageRequest):
    return _details(ctx, storages.create_storage(ctx.team, ctx.user, body))


@route.get(BASE + "/options", summary="Storage names for pickers", query=PageQuery, response=list[StorageOption])
def storage_options(ctx: RequestContext, team_slug: str, query: PageQuery):
    return storages.list_storages(ctx.team, query).map(lambda s: {"id": s.id, "name": s.name})


@route.get(
    BASE + "/{storageId}", summary="A storage's details (the secret key is never returned)", response=StorageResponse
)
def get_storage(ctx: RequestContext, team_slug: str, storage_id: str):
    return _details(ctx, storages.get_storage(ctx.team, storage_id))


@route.put(
    BASE + "/{storageId}",
    summary="Change a storage (without keys the stored ones are kept)",
    body=StorageRequest,
    status=204,
    errors=(409,),
)
def update_storage(ctx: RequestContext, team_slug: str, storage_id: str, body: StorageRequest) -> None:
    storages.update_storage(ctx.team, ctx.user, storage_id, body)


@route.delete(BASE + "/{storageId}", summary="Delete a storage no config uses", status=204, errors=(412,))
def delete_storage(ctx: RequestContext, team_slug: str, storage_id: str) -> None:
    storages.delete_storage(ctx.team, storage_id)
