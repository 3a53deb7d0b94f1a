"""Versions of a project (`/api/{teamSlug}/projects/{projectId}/versions`)."""

from __future__ import annotations

from chalicelib.api import shapes
from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.versions import (
    CreateVersionRequest,
    IncreaseVersionRequest,
    UpdateVersionRequest,
    VersionDetailsResponse,
    VersionResponse,
)
from chalicelib.services import versions

route = Router("Versions")
BASE = "/api/{teamSlug}/projects/{projectId}/versions"


@route.get(BASE, summary="List a project's versions", query=PageQuery, response=list[VersionResponse])
def list_versions(ctx: RequestContext, team_slug: str, project_id: str, query: PageQuery):
    project, page = versions.list_versions(ctx.team, project_id, query)
    return page.map(lambda item: shapes.version(item, project))


@route.post(
    BASE,
    summary="Create a version (copies the default version's images)",
    body=CreateVersionRequest,
    response=VersionResponse,
    status=201,
    errors=(409, 412),
)
def create_version(ctx: RequestContext, team_slug: str, project_id: str, body: CreateVersionRequest):
    created = versions.create_version(ctx.team, ctx.user, project_id, body)
    return shapes.version(created.version, created.project)


@route.get(
    BASE + "/{versionId}", summary="Version details with its images and deployments", response=VersionDetailsResponse
)
def get_version(ctx: RequestContext, team_slug: str, project_id: str, version_id: str):
    details = versions.details(ctx.team, project_id, version_id)
    found = details.found
    return {
        **shapes.version(found.version, found.project),
        "mutable": found.mutable,
        "deletable": found.deletion_blocker is None,
        "auto_copy_deployments": bool(found.version.auto_copy_deployments),
        "images": [shapes.image(item, details.registries) for item in details.images],
        "deployments": shapes.version_deployments(details.deployments, details.nodes),
    }


@route.put(
    BASE + "/{versionId}",
    summary="Rename a version or change its changelog",
    body=UpdateVersionRequest,
    status=204,
    errors=(409, 412),
)
def update_version(
    ctx: RequestContext, team_slug: str, project_id: str, version_id: str, body: UpdateVersionRequest
) -> None:
    versions.update_version(ctx.team, ctx.user, project_id, version_id, body)


@route.delete(BASE + "/{versionId}", summary="Delete a version with its images", status=204, errors=(412,))
def delete_version(ctx: RequestContext, team_slug: str, project_id: str, version_id: str) -> None:
    versions.delete_version(ctx.team, project_id, version_id)


@route.put(BASE + "/{versionId}/default", summary="Make this the project's default version", status=204)
def set_default_version(ctx: RequestContext, team_slug: str, project_id: str, version_id: str) -> None:
    versions.set_default_version(ctx.team, project_id, version_id)


@route.post(
    BASE + "/{versionId}/increase",
    summary="Create the next incremental version with copies of the images",
    body=IncreaseVersionRequest,
    response=VersionResponse,
    status=201,
    errors=(409, 412),
)
def increase_version(
    ctx: RequestContext, team_slug: str, project_id: str, version_id: str, body: IncreaseVersionRequest
):
    created = versions.increase_version(ctx.team, ctx.user, project_id, version_id, body)
    return shapes.version(created.version, created.project)
