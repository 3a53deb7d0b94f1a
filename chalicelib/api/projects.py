"""Projects (`/api/{teamSlug}/projects`)."""

from __future__ import annotations

from chalicelib.api import shapes
from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.projects import (
    CreateProjectRequest,
    ProjectDetailsResponse,
    ProjectResponse,
    UpdateProjectRequest,
)
from chalicelib.services import projects

route = Router("Projects")


@route.get(
    "/api/{teamSlug}/projects", summary="List the team's projects", query=PageQuery, response=list[ProjectResponse]
)
def list_projects(ctx: RequestContext, team_slug: str, query: PageQuery):
    return projects.list_projects(ctx.team, query).map(lambda found: shapes.project(*found))


@route.post(
    "/api/{teamSlug}/projects",
    summary="Create a project (a versionless one gets its rolling version)",
    body=CreateProjectRequest,
    response=ProjectResponse,
    status=201,
    errors=(409,),
)
def create_project(ctx: RequestContext, team_slug: str, body: CreateProjectRequest):
    return shapes.project(*projects.create_project(ctx.team, ctx.user, body))


@route.get(
    "/api/{teamSlug}/projects/{projectId}", summary="Project details with its versions", response=ProjectDetailsResponse
)
def get_project(ctx: RequestContext, team_slug: str, project_id: str):
    details = projects.get_project(ctx.team, project_id)
    return {
        **shapes.project(details.project, len(details.versions)),
        "deletable": details.deletable,
        "versions": [shapes.version(v, details.project) for v in details.versions],
    }


@route.put(
    "/api/{teamSlug}/projects/{projectId}",
    summary="Rename a project, change its description (and a versionless project's changelog)",
    body=UpdateProjectRequest,
    status=204,
    errors=(409, 412),
)
def update_project(ctx: RequestContext, team_slug: str, project_id: str, body: UpdateProjectRequest) -> None:
    projects.update_project(ctx.team, ctx.user, project_id, body)


@route.delete(
    "/api/{teamSlug}/projects/{projectId}",
    summary="Delete a project with its versions and images",
    status=204,
    errors=(412,),
)
def delete_project(ctx: RequestContext, team_slug: str, project_id: str) -> None:
    projects.delete_project(ctx.team, project_id)


@route.post(
    "/api/{teamSlug}/projects/{projectId}/convert", summary="Convert a versionless project to versioned", status=204
)
def convert_project(ctx: RequestContext, team_slug: str, project_id: str) -> None:
    projects.convert_project(ctx.team, ctx.user, project_id)
