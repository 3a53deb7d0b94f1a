"""Templates (`/api/templates`): preset stacks that become a project in a team."""

from typing import Annotated

from pydantic import StringConstraints

from chalicelib.models.base import Audit, ResponseModel
from chalicelib.models.projects import CreateProjectRequest, ProjectType
from chalicelib.models.teams import Slug


class TemplateResponse(ResponseModel):
    id: str
    name: str
    description: str
    technologies: list[str]


class CreateFromTemplateRequest(CreateProjectRequest):
    id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9-]+$")]
    team_slug: Slug


class TemplateProjectResponse(ResponseModel):
    type: ProjectType
    description: str | None
    audit: Audit
    id: str
    name: str
