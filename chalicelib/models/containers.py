"""The container configuration shared by image, instance and deployment configs (dyrector §1.3).

Every field is optional and `null` means "not set here, inherit from the weaker level", so a
stored config holds only what was set. List items carry their own `id` (clients generate
UUIDs; one is generated when a client leaves it out). Enums reject unknown values (400).
Image configs declare secret *keys*; instance and deployment configs hold concrete secrets
(ciphertext for the node's public key, never plain text once `encrypted` is true).
"""

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from chalicelib.ids import new_id
from chalicelib.models.base import RequestModel, check_name

Port = Annotated[int, Field(ge=0, le=65535)]
# Keys of env vars, labels, commands...: non-empty, no whitespace (dyrector start-time rule, checked early).
Key = Annotated[str, StringConstraints(min_length=1, max_length=512, pattern=r"^\S+$")]
Text = Annotated[str, StringConstraints(max_length=4096)]
ShortText = Annotated[str, StringConstraints(max_length=255)]
# Container and init-container names: dyrector's `^[a-zA-Z0-9][a-zA-Z0-9_.-]+$` (UI rule, enforced here).
ContainerName = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]+$", max_length=63)]
# Volume names: free text as dyrector allows, under the name rule (no control characters, not blank).
VolumeName = Annotated[str, StringConstraints(max_length=255), BeforeValidator(check_name)]
ItemId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Expose(StrEnum):
    none = "none"
    expose = "expose"
    expose_with_tls = "exposeWithTls"


class RestartPolicy(StrEnum):
    always = "always"
    unless_stopped = "unlessStopped"
    no = "no"
    on_failure = "onFailure"


class NetworkMode(StrEnum):
    none = "none"
    host = "host"
    bridge = "bridge"


class DeploymentStrategy(StrEnum):
    recreate = "recreate"
    rolling = "rolling"


class VolumeType(StrEnum):
    ro = "ro"
    rwo = "rwo"
    rwx = "rwx"
    mem = "mem"
    tmp = "tmp"


class LogDriver(StrEnum):
    node_default = "nodeDefault"
    none = "none"
    gcplogs = "gcplogs"
    local = "local"
    json_file = "json-file"
    syslog = "syslog"
    journald = "journald"
    gelf = "gelf"
    fluentd = "fluentd"
    awslogs = "awslogs"
    splunk = "splunk"
    etwlogs = "etwlogs"
    logentries = "logentries"


class ContainerState(StrEnum):
    running = "running"
    waiting = "waiting"
    exited = "exited"


class _Item(RequestModel):
    """A list entry with a client-chosen id (generated when absent, and then stored)."""

    id: ItemId

    @model_validator(mode="before")
    @classmethod
    def _with_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") is None:
            return {**data, "id": new_id()}
        return data


class UniqueKey(_Item):
    key: Key


class Argument(_Item):
    """A command or argument word: any non-empty text (spaces allowed, repeats allowed)."""

    key: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class UniqueKeyValue(_Item):
    key: Key
    value: Text = ""


class UniqueSecretKey(_Item):
    key: Key
    required: bool = False


class ConcreteSecret(_Item):
    """A secret value as stored on instances/deployments: ciphertext for the agent's key."""

    key: Key
    value: Annotated[str, StringConstraints(max_length=65536)] = ""
    required: bool = False
    encrypted: bool = False
    public_key: Annotated[str, StringConstraints(max_length=8192)] | None = None


class Routing(RequestModel):
    domain: ShortText | None = None
    path: ShortText | None = None
    strip_path: bool | None = None
    upload_limit: ShortText | None = None
    port: Port | None = None


class ConfigContainer(RequestModel):
    image: ShortText
    volume: ShortText
    path: ShortText
    keep_files: bool = False


class PortBinding(_Item):
    internal: Port
    external: Port | None = None


class PortRange(RequestModel):
    from_: Port = Field(alias="from")
    to: Port

    @model_validator(mode="after")
    def _ordered(self) -> "PortRange":
        if self.from_ > self.to:
            raise PydanticCustomError("port_range", "'from' must not be greater than 'to'")
        return self


class PortRangeBinding(_Item):
    internal: PortRange
    external: PortRange


class Volume(_Item):
    name: VolumeName
    path: ShortText
    type: VolumeType | None = None
    size: ShortText | None = None
    class_: ShortText | None = Field(None, alias="class")


class InitContainerVolume(_Item):
    name: VolumeName
    path: ShortText


class InitContainer(_Item):
    name: ContainerName
    image: ShortText
    command: list[Argument] | None = None
    args: list[Argument] | None = None
    environment: list[UniqueKeyValue] | None = None
    use_parent_config: bool = False
    volumes: list[InitContainerVolume] | None = None


class Storage(RequestModel):
    storage_id: ItemId | None = None
    path: ShortText | None = None
    bucket: ShortText | None = None


class LogConfig(RequestModel):
    driver: LogDriver
    options: list[UniqueKeyValue] | None = None


class HealthCheckConfig(RequestModel):
    port: Port | None = None
    liveness_probe: ShortText | None = None
    readiness_probe: ShortText | None = None
    startup_probe: ShortText | None = None


class Resources(RequestModel):
    cpu: ShortText | None = None
    memory: ShortText | None = None


class ResourceConfig(RequestModel):
    limits: Resources | None = None
    requests: Resources | None = None


class Markers(RequestModel):
    """Kubernetes labels or annotations per object kind."""

    service: list[UniqueKeyValue] | None = None
    deployment: list[UniqueKeyValue] | None = None
    ingress: list[UniqueKeyValue] | None = None


class ExpectedState(RequestModel):
    state: ContainerState
    timeout: Annotated[int, Field(ge=1, le=3600)] | None = None
    exit_code: Annotated[int, Field(ge=0, le=255)] | None = None


class Metrics(RequestModel):
    enabled: bool
    path: ShortText | None = None
    port: Port | None = None


# List fields whose entries must have distinct keys (and, for ports, distinct internal ports).
_KEYED_LISTS = (
    "environment",
    "secrets",
    "capabilities",
    "networks",
    "docker_labels",
    "custom_headers",
    "extra_lb_annotations",
)


class _ContainerConfigBase(RequestModel):
    name: ContainerName | None = None
    environment: list[UniqueKeyValue] | None = None
    routing: Routing | None = None
    expose: Expose | None = None
    user: Annotated[int, Field(ge=-1, le=2147483647)] | None = None
    working_directory: ShortText | None = None
    tty: bool | None = None
    config_container: ConfigContainer | None = None
    ports: list[PortBinding] | None = None
    port_ranges: list[PortRangeBinding] | None = None
    volumes: list[Volume] | None = None
    commands: list[Argument] | None = None
    args: list[Argument] | None = None
    init_containers: list[InitContainer] | None = None
    capabilities: list[UniqueKeyValue] | None = None
    storage: Storage | None = None
    # Docker only
    log_config: LogConfig | None = None
    restart_policy: RestartPolicy | None = None
    network_mode: NetworkMode | None = None
    networks: list[UniqueKey] | None = None
    docker_labels: list[UniqueKeyValue] | None = None
    expected_state: ExpectedState | None = None
    # Kubernetes only
    deployment_strategy: DeploymentStrategy | None = None
    custom_headers: list[UniqueKey] | None = None
    proxy_headers: bool | None = None
    use_load_balancer: bool | None = None
    extra_lb_annotations: list[UniqueKeyValue] | None = Field(None, alias="extraLBAnnotations")
    health_check_config: HealthCheckConfig | None = None
    resource_config: ResourceConfig | None = None
    labels: Markers | None = None
    annotations: Markers | None = None
    metrics: Metrics | None = None

    @field_validator(*_KEYED_LISTS, check_fields=False)
    @classmethod
    def _distinct_keys(cls, entries: list[Any] | None) -> list[Any] | None:
        return _unique(entries, lambda e: e.key, "key")

    @field_validator("ports")
    @classmethod
    def _distinct_ports(cls, entries: list[PortBinding] | None) -> list[PortBinding] | None:
        return _unique(entries, lambda p: p.internal, "internal port")

    @field_validator("volumes")
    @classmethod
    def _distinct_volumes(cls, entries: list[Volume] | None) -> list[Volume] | None:
        return _unique(_unique(entries, lambda v: v.path, "path"), lambda v: v.name, "name")

    @field_validator("init_containers")
    @classmethod
    def _distinct_init_containers(cls, entries: list[InitContainer] | None) -> list[InitContainer] | None:
        return _unique(entries, lambda c: c.name, "name")

    def stored(self) -> dict[str, Any]:
        """The fields that were set, in API shape: what a config item keeps."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def stored_with_new_ids(self) -> dict[str, Any]:
        """`stored()` with fresh list-item ids: for a config copied from a shared source (a template)."""
        return type(self).model_validate(_without_ids(self.stored())).stored()


def _unique(entries: list[Any] | None, key: Any, what: str) -> list[Any] | None:
    seen: set[Any] = set()
    for entry in entries or ():
        value = key(entry)
        if value in seen:
            raise PydanticCustomError("duplicate", "duplicate {what} '{value}'", {"what": what, "value": str(value)})
        seen.add(value)
    return entries


class ImageConfig(_ContainerConfigBase):
    """An image's config: secrets are declared by key only."""

    secrets: list[UniqueSecretKey] | None = None


class InstanceConfig(_ContainerConfigBase):
    """An instance's or deployment's config: secrets carry (encrypted) values."""

    secrets: list[ConcreteSecret] | None = None

    @field_validator("secrets")
    @classmethod
    def _sealed(cls, secrets: list[ConcreteSecret] | None) -> list[ConcreteSecret] | None:
        for secret in secrets or ():
            if secret.value and secret.encrypted and not secret.public_key:
                raise PydanticCustomError("public_key", "an encrypted secret needs the publicKey it was sealed for")
        return secrets


def _without_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if not (k == "id" and isinstance(v, str))}
    return value
