"""Projects (`/api/{teamSlug}/projects`): versionless (one rolling version) or versioned."""

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from chalicelib.models.base import Audit, Name, RequestModel, ResponseModel
from chalicelib.models.versions import VersionResponse

Description = Annotated[str, StringConstraints(max_length=2000)]
Changelog = Annotated[str, StringConstraints(max_length=10000)]


class ProjectType(StrEnum):
    versionless = "versionless"
    versioned = "versioned"


class CreateProjectRequest(RequestModel):
    type: ProjectType
    name: Name
    description: Description | None = None
    # For a versionless project: the changelog of its rolling version.
    changelog: Changelog | None = None


class UpdateProjectRequest(RequestModel):
    name: Name
    description: Description | None = None
    changelog: Changelog | None = None


class ProjectResponse(ResponseModel):
    type: ProjectType
    description: str | None
    version_count: int
    audit: Audit
    id: str
    name: str


class ProjectDetailsResponse(ResponseModel):
    type: ProjectType
    description: str | None
    deletable: bool
    versions: list[VersionResponse]
    audit: Audit
    id: str
    name: str
