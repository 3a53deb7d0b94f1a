"""Versions of a project (`/api/{teamSlug}/projects/{projectId}/versions`)."""

from enum import StrEnum
from typing import Annotated

from pydantic import StringConstraints

from chalicelib.models.base import Audit, Name, RequestModel, ResponseModel, UtcDateTime
from chalicelib.models.images import ImageResponse

Changelog = Annotated[str, StringConstraints(max_length=10000)]


class VersionType(StrEnum):
    incremental = "incremental"
    rolling = "rolling"


class CreateVersionRequest(RequestModel):
    type: VersionType
    name: Name
    changelog: Changelog | None = None
    # Copy the deployments of this version into its child on `increase` (incremental only).
    auto_copy_deployments: bool | None = None


class UpdateVersionRequest(RequestModel):
    name: Name
    changelog: Changelog | None = None
    auto_copy_deployments: bool | None = None


class IncreaseVersionRequest(RequestModel):
    name: Name
    changelog: Changelog | None = None


class VersionResponse(ResponseModel):
    type: VersionType
    audit: Audit
    changelog: str | None
    default: bool
    increasable: bool
    id: str
    name: str


class NodeSummary(ResponseModel):
    type: str
    status: str
    id: str
    name: str


class VersionDeploymentResponse(ResponseModel):
    status: str
    note: str | None
    updated_at: UtcDateTime
    node: NodeSummary
    id: str
    prefix: str


class VersionDetailsResponse(VersionResponse):
    mutable: bool
    deletable: bool
    auto_copy_deployments: bool
    images: list[ImageResponse]
    deployments: list[VersionDeploymentResponse]
