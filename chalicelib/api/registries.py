"""Registries (`/api/{teamSlug}/registries`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.registries import RegistryListItem, RegistryRequest, RegistryResponse
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
