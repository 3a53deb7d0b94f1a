"""Templates (`/api/templates`): the catalog, its icons, and projects made from it."""

from __future__ import annotations

from chalice import Response

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.base import Audit
from chalicelib.models.projects import CreateProjectRequest
from chalicelib.models.templates import CreateFromTemplateRequest, TemplateProjectResponse, TemplateResponse
from chalicelib.services import templates

route = Router("Templates")


@route.get("/api/templates", summary="List the template catalog", response=list[TemplateResponse])
def list_templates(ctx: RequestContext):
    return [
        {"id": t.id, "name": t.name, "description": t.description, "technologies": t.technologies}
        for t in templates.list_templates()
    ]


@route.post(
    "/api/templates",
    summary="Create a project in a team from a template",
    body=CreateFromTemplateRequest,
    response=TemplateProjectResponse,
    status=201,
    errors=(404, 409),
)
def create_from_template(ctx: RequestContext, body: CreateFromTemplateRequest):
    team = ctx.require_team(body.team_slug)
    request = CreateProjectRequest(type=body.type, name=body.name, description=body.description)
    project = templates.create_project(team, ctx.user, body.id, request)
    return {
        "type": project.kind,
        "description": project.description,
        "audit": Audit.of(project),
        "id": project.id,
        "name": project.name,
    }


@route.get(
    "/api/templates/{templateId}/image",
    summary="The template's icon (SVG)",
    free_params=("templateId",),
    media_type="image/svg+xml",
)
def get_template_image(ctx: RequestContext, template_id: str) -> Response:
    return Response(
        body=templates.icon(template_id),
        status_code=200,
        headers={
            "Content-Type": "image/svg+xml",
            "Cache-Control": "private, max-age=86400",
            # An SVG is a document: never let one run script or be sniffed as something else.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )
