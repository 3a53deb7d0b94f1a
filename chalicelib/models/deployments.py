"""Deployments (`/api/{teamSlug}/deployments`): a version's images on a node under a prefix."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from chalicelib.contracts.naming import DNS_LABEL_PATTERN
from chalicelib.models.base import Audit, RequestModel, ResponseModel, Skip, UtcDateTime, check_name
from chalicelib.models.containers import InstanceConfig, UniqueKeyValue
from chalicelib.models.images import ImageResponse, Uuid

# DNS-1123 label: it becomes part of container names and the Kubernetes namespace.
Prefix = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=DNS_LABEL_PATTERN)]
Note = Annotated[str, StringConstraints(max_length=2000)]


class DeploymentStatus(StrEnum):
    preparing = "preparing"
    in_progress = "in-progress"
    successful = "successful"
    failed = "failed"
    obsolete = "obsolete"
    downgraded = "downgraded"


class CreateDeploymentRequest(RequestModel):
    version_id: Uuid
    node_id: Uuid
    prefix: Prefix
    note: Note | None = None


class CopyDeploymentRequest(RequestModel):
    node_id: Uuid
    prefix: Prefix
    note: Note | None = None


class PatchDeploymentRequest(RequestModel):
    note: Note | None = None
    prefix: Prefix | None = None
    environment: list[UniqueKeyValue] | None = None


class PatchInstanceRequest(RequestModel):
    config: InstanceConfig


class StartDeploymentRequest(RequestModel):
    instances: Annotated[list[Uuid], Field(max_length=200)] | None = None


class DeploymentTokenRequest(RequestModel):
    name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=3, max_length=70), BeforeValidator(check_name)
    ]
    expiration_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class LogQuery(RequestModel):
    skip: Skip = 0
    take: int = Field(100, ge=1, le=1000)


class ProjectSummary(ResponseModel):
    type: str
    id: str
    name: str


class NodeRef(ResponseModel):
    type: str
    id: str
    name: str


class DeploymentResponse(ResponseModel):
    status: DeploymentStatus
    note: str | None
    audit: Audit
    project: ProjectSummary
    version: ProjectSummary
    node: NodeRef
    id: str
    prefix: str


class InstanceResponse(ResponseModel):
    id: str
    updated_at: UtcDateTime
    image: ImageResponse
    config: InstanceConfig


class DeploymentTokenSummary(ResponseModel):
    id: str
    name: str
    created_at: UtcDateTime
    expires_at: UtcDateTime | None


class DeploymentDetailsResponse(DeploymentResponse):
    environment: list[UniqueKeyValue]
    public_key: str | None
    instances: list[InstanceResponse]
    last_try: int
    token: DeploymentTokenSummary | None


class InstanceContainer(ResponseModel):
    prefix: str
    name: str


class InstanceSecretsResponse(ResponseModel):
    container: InstanceContainer
    public_key: str | None
    keys: list[str]


class ContainerStateSummary(ResponseModel):
    state: str | None
    instance_id: str | None


class DeploymentEventResponse(ResponseModel):
    type: str
    deployment_status: str | None
    created_at: UtcDateTime
    log: list[str] | None
    container_state: ContainerStateSummary | None

    @classmethod
    def of(cls, event: Any) -> "DeploymentEventResponse":
        """From a stored deployment event (`kind` and its `value`), for the log page and live followers."""
        value = event.value or {}
        return cls(
            type=event.kind,
            created_at=event.created_at,
            log=value.get("log") if event.kind == "log" else None,
            deployment_status=value.get("status") if event.kind == "deployment-status" else None,
            container_state=ContainerStateSummary(state=value.get("state"), instance_id=value.get("instanceId"))
            if event.kind == "container-state"
            else None,
        )


class DeploymentLogResponse(ResponseModel):
    items: list[DeploymentEventResponse]
    # Counted without reading the whole log: exact when the log ends on this page, else one more
    # than `skip + take` (more events follow).
    total: int = Field(
        description="Events up to the end of this page, plus one when more follow (exact on the last page)."
    )


class DeploymentTokenResponse(DeploymentTokenSummary):
    token: str
    curl: str
