"""Nodes (`/api/{teamSlug}/nodes`), their install scripts, audit log and containers."""

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import EmailStr, Field, StringConstraints, model_validator

from chalicelib.contracts.agent import LOG_TAIL_DEFAULT, LOG_TAIL_MAX, MASKED
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


class ContainerLogQuery(RequestModel):
    tail: int = Field(
        LOG_TAIL_DEFAULT, ge=1, le=LOG_TAIL_MAX, description="How many of the newest lines (default 100, at most 1000)"
    )
    since: UtcDateTime | None = Field(None, description="Only lines written at or after this time (ISO 8601)")


class ContainerLogLine(ResponseModel):
    time: UtcDateTime | None = Field(description="When the engine received the line")
    stream: Literal["stdout", "stderr"] | None = Field(description="The stream that wrote it, where the engine tells")
    text: str = Field(description="The line, decoded as UTF-8 (invalid bytes replaced), secret values masked")


class ContainerLogResponse(ResponseModel):
    lines: list[ContainerLogLine] = Field(description="Oldest first")
    truncated: bool = Field(
        description="Older lines were left out, or a line cut at 16 KiB, to keep the answer within 256 KiB"
    )


class ContainerMountResponse(ResponseModel):
    type: str
    source: str
    destination: str
    read_only: bool


class EnvironmentVariableResponse(ResponseModel):
    key: str
    value: str = Field(description=f"`{MASKED}` for a secret")
    secret: bool


class ContainerInspectionResponse(ResponseModel):
    id: ContainerId
    state: str
    status: str = Field(description="The engine's own word for the state (running, exited, CrashLoopBackOff...)")
    exit_code: int | None
    error: str | None
    started_at: UtcDateTime | None
    finished_at: UtcDateTime | None
    image: str
    image_id: str
    created_at: UtcDateTime | None
    restart_count: int
    health: Literal["starting", "healthy", "unhealthy"] | None = Field(description="None: no health check")
    ports: list[ContainerPortResponse]
    labels: dict[str, str]
    mounts: list[ContainerMountResponse]
    environment: list[EnvironmentVariableResponse]
    truncated: bool = Field(description="A list or a value was cut to keep the answer within 128 KiB")
