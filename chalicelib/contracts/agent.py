"""What node agents and the platform say to each other over HTTPS (`/api/agent/...`).

Agents connect outbound only (architecture.md): they register with a single-use install
token, report in once per start, then hold a WebSocket on which commands are pushed
(`contracts/push.py`); each command is acknowledged and its result reported over HTTPS.
Commands are delivered at least once, so every command is safe to execute twice. This module
is the one definition both sides use: the agent package ships it by path; it imports only
pydantic.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializationInfo, TypeAdapter, field_serializer
from pydantic.alias_generators import to_camel

from chalicelib.contracts.containers import ContainerConfig

# 0.3: workloads carry the typed container config (Docker applies health checks and limits) and
# their storage (imported by the agent before the container starts); Docker agents route exposed
# containers through Traefik. The wire shape is 0.2's, so 0.2 agents still deploy, except what they
# would run without its storage import or route (domain/nodes.py unsupported_features).
# 0.4: a container's log and inspection (`container-log`, `container-inspect`); older agents would not
# read such a command, so the platform does not send it to them (domain/nodes.py container_reads_error).
# Also 0.4: Kubernetes storage imports and config containers, and reports that name their positions.
AGENT_VERSION = "0.4.0"
NodeType = Literal["docker", "k8s"]
ContainerStateName = Literal["running", "waiting", "exited", "removed"]


class Message(BaseModel):
    # Unknown fields are ignored so an older agent and a newer platform still understand each other.
    # defer_build: validators are built on first use, not at import (Lambda cold starts, agent start).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class RegisterRequest(Message):
    version: str
    type: NodeType
    hostname: str = ""
    public_key: str
    address: str | None = None


class AgentSettings(Message):
    """Where and how the agent holds its push channel (the answer to register and to heartbeat)."""

    socket_url: str
    ping_seconds: int = 480
    seen_every_pings: int = 2
    reconnect_seconds: int = 6600  # a fresh connection before API Gateway's 2-hour limit ends this one


class RegisterResponse(AgentSettings):
    node_id: str
    token: str


class Heartbeat(Message):
    version: str
    public_key: str | None = None
    address: str | None = None


class ContainerPort(Message):
    internal: int
    external: int | None = None


class ContainerInfo(Message):
    prefix: str
    name: str
    state: ContainerStateName
    reason: str | None = None
    image_name: str = ""
    image_tag: str = ""
    command: str = ""
    created_at: datetime | None = None
    ports: list[ContainerPort] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class _Command(Message):
    id: str = ""


class ListContainers(_Command):
    kind: Literal["list-containers"] = "list-containers"
    prefix: str | None = None


class ContainerCommand(_Command):
    kind: Literal["container-command"] = "container-command"
    prefix: str
    name: str
    operation: Literal["start", "stop", "restart"]


class DeleteContainer(_Command):
    kind: Literal["delete-container"] = "delete-container"
    prefix: str
    name: str


class DeletePrefix(_Command):
    kind: Literal["delete-prefix"] = "delete-prefix"
    prefix: str


# A container's log as the API answers it: the newest `tail` lines (default 100, at most 1000), at most
# LOG_MAX_BYTES of them as JSON text (the agent reports through a 1 MiB request and the result is kept in a
# 400 KB table item until read). Secret values never appear: the agent masks them where a line holds one.
LOG_TAIL_DEFAULT = 100
LOG_TAIL_MAX = 1000
LOG_MAX_BYTES = 256 * 1024
# Every string of an inspection is cut to fit INSPECT_MAX_BYTES as JSON (an environment or labels that
# large are rare; the answer says `truncated`).
INSPECT_MAX_BYTES = 128 * 1024
MASKED = "******"  # the value shown for a secret variable, and in place of a secret value in a log line


class ReadContainerLog(_Command):
    kind: Literal["container-log"] = "container-log"
    prefix: str
    name: str
    tail: int = LOG_TAIL_DEFAULT
    since: datetime | None = None  # only lines written at or after it


class InspectContainer(_Command):
    kind: Literal["container-inspect"] = "container-inspect"
    prefix: str
    name: str


class UpdateAgent(_Command):
    """Replace the agent program with the one at `url` and restart it."""

    kind: Literal["update"] = "update"
    version: str
    url: str


class Shutdown(_Command):
    """The node was deleted or kicked: stop for good."""

    kind: Literal["shutdown"] = "shutdown"
    reason: str


class RegistryAuth(Message):
    """Pull credentials; the password is sealed to the agent's public key (never plain in storage)."""

    server: str
    user: str
    sealed_password: str


class StorageSource(Message):
    """The storage a workload's `config.storage` names: its S3 endpoint and, for a private storage,
    its keys sealed to the agent's public key (dyrector §6 item 9; never plain in storage)."""

    url: str
    sealed_access_key: str | None = None
    sealed_secret_key: str | None = None


class Workload(Message):
    instance_id: str
    name: str
    image: str  # full pull reference, e.g. 127.0.0.1:5000/acme/web:1.0 (no registry part: a local image)
    storage: StorageSource | None = None  # set when the config imports files from a storage
    registry_auth: RegistryAuth | None = None
    # The effective container config; secret values are sealed to the agent's public key.
    config: ContainerConfig = Field(default_factory=ContainerConfig)

    @field_serializer("config")
    def _config_as_set(self, config: ContainerConfig, info: SerializationInfo) -> dict[str, Any]:
        """Only what is set travels (nulls mean "not set"): the shape agents before 0.3 read, and small commands."""
        return config.model_dump(mode=info.mode, by_alias=bool(info.by_alias), exclude_none=True)


class Deploy(_Command):
    kind: Literal["deploy"] = "deploy"
    deployment_id: str
    attempt: int
    prefix: str
    version_name: str = ""
    workloads: list[Workload]


Command = Annotated[
    ListContainers
    | ContainerCommand
    | DeleteContainer
    | DeletePrefix
    | ReadContainerLog
    | InspectContainer
    | UpdateAgent
    | Shutdown
    | Deploy,
    Field(discriminator="kind"),
]
COMMAND = TypeAdapter(Command, config=ConfigDict(defer_build=True))  # one fetched by reference
COMMANDS = TypeAdapter(list[Command], config=ConfigDict(defer_build=True))


def read_commands(data: Any) -> list[Command]:
    """Commands as the agent reads them: fields a newer platform added (even inside a container
    config, which the API validates strictly) are ignored, so an older agent keeps working."""
    commands: list[Command] = COMMANDS.validate_python(data, extra="ignore")
    return commands


def read_command(data: Any) -> Command:
    command: Command = COMMAND.validate_python(data, extra="ignore")
    return command


class LogLine(Message):
    time: datetime | None = None  # when the engine received it
    stream: Literal["stdout", "stderr"] | None = None  # None where the engine does not tell (Kubernetes); a TTY: stdout
    text: str  # decoded as UTF-8 (invalid bytes replaced), without its line break


class ContainerLog(Message):
    lines: list[LogLine] = Field(default_factory=list)  # oldest first
    # Older lines were left out, or a line was cut, to keep within LOG_MAX_BYTES (or 16 KiB a line).
    truncated: bool = False


class ContainerMount(Message):
    type: str  # Docker: bind, volume, tmpfs; Kubernetes: the volume's source (persistentVolumeClaim, emptyDir...)
    source: str = ""  # the host path, volume name or claim name
    destination: str
    read_only: bool = False


class EnvironmentVariable(Message):
    key: str
    value: str  # MASKED for a secret
    secret: bool = False


class ContainerInspection(Message):
    """What a user reads about one container: curated, never the engine's raw dump (which holds secret
    values in clear)."""

    prefix: str
    name: str
    state: ContainerStateName
    status: str = ""  # the engine's own word: running, exited, CrashLoopBackOff, scaled to 0...
    exit_code: int | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    image: str = ""
    image_id: str = ""
    created_at: datetime | None = None
    restart_count: int = 0
    health: Literal["starting", "healthy", "unhealthy"] | None = None  # None: no health check
    ports: list[ContainerPort] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    mounts: list[ContainerMount] = Field(default_factory=list)
    environment: list[EnvironmentVariable] = Field(default_factory=list)
    truncated: bool = False  # a list or a value was cut to keep within INSPECT_MAX_BYTES


class CommandResult(Message):
    ok: bool
    error: str | None = None
    not_found: bool = False  # the addressed container does not exist (→ 404 for the waiting caller)
    containers: list[ContainerInfo] | None = None
    log: ContainerLog | None = None
    inspection: ContainerInspection | None = None


class DeploymentEvent(Message):
    """What the agent reports while deploying: log lines, container states, the final status."""

    type: Literal["log", "container-state", "deployment-status"]
    log: list[str] | None = None
    level: Literal["info", "warn", "error"] = "info"
    instance_id: str | None = None
    state: ContainerStateName | None = None
    reason: str | None = None
    status: Literal["in-progress", "successful", "failed"] | None = None


class DeploymentReport(Message):
    attempt: int
    # Position of the first event within the try: a resent report whose events were stored already
    # (the reply was lost) is not stored twice. Agents before 0.4 send none: stored as sent.
    seq: int | None = Field(default=None, ge=0)
    events: list[DeploymentEvent]
