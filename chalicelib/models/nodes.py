"""Nodes (`/api/{teamSlug}/nodes`), their install scripts, audit log and containers."""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, model_validator

from chalicelib.models.base import Name, RequestModel, ResponseModel, Skip, UtcDateTime

Description = Annotated[str, StringConstraints(max_length=2000)]
Icon = Annotated[str, StringConstraints(max_length=200)]


class NodeType(StrEnum):
    docker = "docker"
    k8s = "k8s"


class NodeStatus(StrEnum):
    unreachable = "unreachable"
    connected = "connected"
    outdated = "outdated"
    updating = "updating"


class ScriptType(StrEnum):
    shell = "shell"
    powershell = "powershell"


class CreateNodeRequest(RequestModel):
    name: Name
    description: Description | None = None
    icon: Icon | None = None


class UpdateNodeRequest(CreateNodeRequest):
    pass


class Traefik(RequestModel):
    acme_email: EmailStr


class GenerateScriptRequest(RequestModel):
    type: NodeType
    script_type: ScriptType
    root_path: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^'\"`$\\\n\r]+$")] | None = (
        None
    )
    dagent_traefik: Traefik | None = None

    @model_validator(mode="after")
    def _kubernetes_uses_shell(self) -> "GenerateScriptRequest":
        if self.type == NodeType.k8s and self.script_type == ScriptType.powershell:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("script_type", "Kubernetes nodes are installed with the shell script")
        return self


class NodeResponse(ResponseModel):
    type: NodeType
    status: NodeStatus
    description: str | None
    icon: str | None
    address: str | None
    connected_at: UtcDateTime | None
    version: str | None
    updating: bool
    id: str
    name: str


class InstallResponse(ResponseModel):
    command: str
    script: str
    expire_at: UtcDateTime


class NodeDetailsResponse(NodeResponse):
    has_token: bool
    install: InstallResponse | None
    in_use: bool


class NodeAuditQuery(RequestModel):
    skip: Skip = 0
    take: int = Field(100, ge=1, le=1000)
    from_: UtcDateTime | None = Field(None, alias="from")
    to: UtcDateTime | None = None
    filter_event_type: Annotated[str, StringConstraints(max_length=64)] | None = None


class NodeAuditEntry(ResponseModel):
    created_at: UtcDateTime
    event: str
    data: Any | None


class NodeAuditResponse(ResponseModel):
    items: list[NodeAuditEntry]
    total: int


class ContainersQuery(RequestModel):
    prefix: Annotated[str, StringConstraints(max_length=63)] | None = None


class ContainerId(ResponseModel):
    prefix: str
    name: str


class ContainerPortResponse(ResponseModel):
    internal: int
    external: int | None


class ContainerResponse(ResponseModel):
    state: str
    id: ContainerId
    command: str
    created_at: UtcDateTime | None
    reason: str | None
    image_name: str
    image_tag: str
    ports: list[ContainerPortResponse]
