"""Registries (`/api/{teamSlug}/registries`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.registries import (
    FoundImage,
    ImageSearchQuery,
    ImageTags,
    RegistryCheckResponse,
    RegistryListItem,
    RegistryRequest,
    RegistryResponse,
    TagQuery,
)
from chalicelib.services import registries

if TYPE_CHECKING:
    from chalicelib.db.items import RegistryItem

route = Router("Registries")
BASE = "/api/{teamSlug}/registries"


def _details(item: RegistryItem) -> dict[str, Any]:
    return {
        "type": item.kind,
        "details": item.details or {},
        "id": item.id,
        "name": item.name,
        "description": item.description,
        "icon": item.icon,
        "in_use": registries.in_use(item),
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def _item(r: RegistryItem) -> dict[str, Any]:
    return {
        "type": r.kind,
        "id": r.id,
        "name": r.name,
        "description": r.description,
        "icon": r.icon,
        "url": registries.display_url(r),
    }


@route.get(BASE, summary="List the team's registries", query=PageQuery, response=list[RegistryListItem])
def list_registries(ctx: RequestContext, team_slug: str, query: PageQuery):
    return registries.list_registries(ctx.team, query).map(_item)


@route.post(
    BASE,
    summary="Add a registry (its credentials are checked live and stored encrypted)",
    body=RegistryRequest,
    response=RegistryResponse,
    status=201,
    errors=(409,),
)
def create_registry(ctx: RequestContext, team_slug: str, body: Any):
    return _details(registries.create_registry(ctx.team, ctx.user, body))


@route.get(BASE + "/{registryId}", summary="A registry's details (never its token)", response=RegistryResponse)
def get_registry(ctx: RequestContext, team_slug: str, registry_id: str):
    return _details(registries.get_registry(ctx.team.team_id, registry_id))


@route.put(
    BASE + "/{registryId}",
    summary="Change a registry (without a token the stored one is kept)",
    body=RegistryRequest,
    status=204,
    errors=(409,),
)
def update_registry(ctx: RequestContext, team_slug: str, registry_id: str, body: Any) -> None:
    registries.update_registry(ctx.team, ctx.user, registry_id, body)


@route.delete(BASE + "/{registryId}", summary="Delete a registry no image uses", status=204, errors=(412,))
def delete_registry(ctx: RequestContext, team_slug: str, registry_id: str) -> None:
    registries.delete_registry(ctx.team, registry_id)


@route.post(
    BASE + "/check",
    summary="Check a registry's details and credentials live, as creating it would, without saving",
    body=RegistryRequest,
    response=RegistryCheckResponse,
)
def check_new_registry(ctx: RequestContext, team_slug: str, body: Any):
    return registries.check_registry(ctx.team, body)


@route.post(
    BASE + "/{registryId}/check",
    summary="Check a registry live: as stored, or with changes (the stored token kept as an update keeps it)",
    body=RegistryRequest,
    body_optional=True,
    response=RegistryCheckResponse,
)
def check_registry(ctx: RequestContext, team_slug: str, registry_id: str, body: Any = None):
    return registries.check_registry(ctx.team, body, registry_id)


@route.get(
    BASE + "/{registryId}/images",
    summary="Image names in the registry's catalog containing `q` (registries that list their images)",
    query=ImageSearchQuery,
    response=list[FoundImage],
)
def find_images(ctx: RequestContext, team_slug: str, registry_id: str, query: ImageSearchQuery):
    return [{"name": name} for name in registries.find_images(ctx.team, registry_id, query.q)]


@route.get(
    BASE + "/{registryId}/tags",
    summary="The tags of an image in the registry (`image` as added to a version, without the prefix)",
    query=TagQuery,
    response=ImageTags,
    errors=(404,),
)
def list_tags(ctx: RequestContext, team_slug: str, registry_id: str, query: TagQuery):
    tags = registries.list_tags(ctx.team, registry_id, query.image)
    return {"name": query.image, "tags": tags}
