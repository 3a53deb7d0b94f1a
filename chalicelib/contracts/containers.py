"""The container configuration (dyrector §1.3): one model from the API edge to the agent's runtimes.

Image, instance and deployment configs are validated with it at the API, stored in its API
(camelCase) shape, merged field by field into the effective config (`domain/merge.py`), and
carried typed in the deploy command to both runtimes, which read attributes, not strings.
Every field declares its merge rule (§4.6) as `Annotated` metadata, so the merge walks the
model's fields and a field without a rule fails a test instead of being dropped at deploy time.

Every field is optional and `null` means "not set here, inherit from the weaker level", so a
stored config holds only what was set. List items carry their own `id` (clients generate
UUIDs; one is generated when a client leaves it out). Unknown fields and enum values are
refused (a typo is a 400, not a silent no-op); an agent reads commands with `extra="ignore"`
so a newer platform's fields do not break an older agent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from chalicelib.contracts.naming import check_name


class Merge(StrEnum):
    """Who overrides whom (§4.6), strongest level first: instance > deployment > image.
    `domain/merge.py` holds the rule for each."""

    FIRST = "first"  # the whole value of the strongest level that sets it
    FILL = "fill"  # union by key; an empty stronger value is filled by a non-empty weaker one
    KEYED = "keyed"  # union by key, stronger entries first
    PORTS = "ports"  # union keyed by internal port
    PORT_RANGES = "port-ranges"  # weaker ranges overlapping a stronger one (either side) are dropped
    VOLUMES = "volumes"  # weaker volumes with a taken path or name are dropped
    PER_PART = "per-part"  # each sub-field (deployment/service/ingress) whole from the strongest level
    SECRETS = "secrets"  # concrete secrets by key; the image declares the keys (required ones are added)
    NEVER = "never"  # never passed on (capabilities)


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


class ConfigModel(BaseModel):
    """camelCase on the wire; unknown fields refused; validators built on first use (cold starts)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)


class _Item(ConfigModel):
    """A list entry with a client-chosen id (generated when absent, and then stored)."""

    id: ItemId

    @model_validator(mode="before")
    @classmethod
    def _with_id(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("id") is None:
            return {**data, "id": str(uuid.uuid4())}
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


class Routing(ConfigModel):
    domain: ShortText | None = None
    path: ShortText | None = None
    strip_path: bool | None = None
    upload_limit: ShortText | None = None
    port: Port | None = None


class ConfigContainer(ConfigModel):
    image: ShortText
    volume: ShortText
    path: ShortText
    keep_files: bool = False


class PortBinding(_Item):
    internal: Port
    external: Port | None = None


class PortRange(ConfigModel):
    from_: Port = Field(alias="from")
    to: Port

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.from_ > self.to:
            raise PydanticCustomError("port_range", "'from' must not be greater than 'to'")
        return self

    def overlaps(self, other: PortRange) -> bool:
        return self.from_ <= other.to and other.from_ <= self.to


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


class Storage(ConfigModel):
    storage_id: ItemId | None = None
    path: ShortText | None = None
    bucket: ShortText | None = None


class LogConfig(ConfigModel):
    driver: LogDriver
    options: list[UniqueKeyValue] | None = None


class HealthCheckConfig(ConfigModel):
    """HTTP paths probed on `port` (else the first internal port)."""

    port: Port | None = None
    liveness_probe: ShortText | None = None
    readiness_probe: ShortText | None = None
    startup_probe: ShortText | None = None


class Resources(ConfigModel):
    """Kubernetes quantities (`100m`, `0.5`; `128Mi`, `1G`); checked by the runtime that applies them."""

    cpu: ShortText | None = None
    memory: ShortText | None = None


class ResourceConfig(ConfigModel):
    limits: Resources | None = None
    requests: Resources | None = None


class Markers(ConfigModel):
    """Kubernetes labels or annotations per object kind."""

    service: list[UniqueKeyValue] | None = None
    deployment: list[UniqueKeyValue] | None = None
    ingress: list[UniqueKeyValue] | None = None


class ExpectedState(ConfigModel):
    state: ContainerState
    timeout: Annotated[int, Field(ge=1, le=3600)] | None = None
    exit_code: Annotated[int, Field(ge=0, le=255)] | None = None


class Metrics(ConfigModel):
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


class _ConfigFields(ConfigModel):
    """Every field but `secrets`, each with its merge rule. Adding a field is one line here (the
    coverage test then asks each runtime to use it or declare it not applicable)."""

    name: Annotated[ContainerName | None, Merge.FIRST] = None
    environment: Annotated[list[UniqueKeyValue] | None, Merge.FILL] = None
    routing: Annotated[Routing | None, Merge.FIRST] = None
    expose: Annotated[Expose | None, Merge.FIRST] = None
    user: Annotated[Annotated[int, Field(ge=-1, le=2147483647)] | None, Merge.FIRST] = None
    working_directory: Annotated[ShortText | None, Merge.FIRST] = None
    tty: Annotated[bool | None, Merge.FIRST] = None
    config_container: Annotated[ConfigContainer | None, Merge.FIRST] = None
    ports: Annotated[list[PortBinding] | None, Merge.PORTS] = None
    port_ranges: Annotated[list[PortRangeBinding] | None, Merge.PORT_RANGES] = None
    volumes: Annotated[list[Volume] | None, Merge.VOLUMES] = None
    commands: Annotated[list[Argument] | None, Merge.KEYED] = None
    args: Annotated[list[Argument] | None, Merge.KEYED] = None
    init_containers: Annotated[list[InitContainer] | None, Merge.FIRST] = None
    capabilities: Annotated[list[UniqueKeyValue] | None, Merge.NEVER] = None
    storage: Annotated[Storage | None, Merge.FIRST] = None
    # Docker only (dyrector §1.3)
    log_config: Annotated[LogConfig | None, Merge.FIRST] = None
    restart_policy: Annotated[RestartPolicy | None, Merge.FIRST] = None
    network_mode: Annotated[NetworkMode | None, Merge.FIRST] = None
    networks: Annotated[list[UniqueKey] | None, Merge.KEYED] = None
    docker_labels: Annotated[list[UniqueKeyValue] | None, Merge.FILL] = None
    expected_state: Annotated[ExpectedState | None, Merge.FIRST] = None
    # Kubernetes only in dyrector; health checks and limits apply on Docker too here
    deployment_strategy: Annotated[DeploymentStrategy | None, Merge.FIRST] = None
    custom_headers: Annotated[list[UniqueKey] | None, Merge.KEYED] = None
    proxy_headers: Annotated[bool | None, Merge.FIRST] = None
    use_load_balancer: Annotated[bool | None, Merge.FIRST] = None
    extra_lb_annotations: Annotated[list[UniqueKeyValue] | None, Merge.FILL] = Field(None, alias="extraLBAnnotations")
    health_check_config: Annotated[HealthCheckConfig | None, Merge.FIRST] = None
    resource_config: Annotated[ResourceConfig | None, Merge.FIRST] = None
    labels: Annotated[Markers | None, Merge.PER_PART] = None
    annotations: Annotated[Markers | None, Merge.PER_PART] = None
    metrics: Annotated[Metrics | None, Merge.FIRST] = None

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


def _unique(entries: list[Any] | None, key: Callable[[Any], Any], what: str) -> list[Any] | None:
    seen: set[Any] = set()
    for entry in entries or ():
        value = key(entry)
        if value in seen:
            raise PydanticCustomError("duplicate", "duplicate {what} '{value}'", {"what": what, "value": str(value)})
        seen.add(value)
    return entries


class ImageConfig(_ConfigFields):
    """An image's config: secrets are declared by key only."""

    secrets: Annotated[list[UniqueSecretKey] | None, Merge.SECRETS] = None


class ContainerConfig(_ConfigFields):
    """A concrete config, with secret values sealed to the node agent's key: what an instance or a
    deployment stores, and the effective config a workload carries to the agent."""

    secrets: Annotated[list[ConcreteSecret] | None, Merge.SECRETS] = None

    @field_validator("secrets")
    @classmethod
    def _sealed(cls, secrets: list[ConcreteSecret] | None) -> list[ConcreteSecret] | None:
        for secret in secrets or ():
            if secret.value and secret.encrypted and not secret.public_key:
                raise PydanticCustomError("public_key", "an encrypted secret needs the publicKey it was sealed for")
        return secrets


def merge_rule(name: str, field: FieldInfo) -> Merge:
    """The merge rule a config field declares; a field without one is a bug the coverage test names."""
    rules = [entry for entry in field.metadata if isinstance(entry, Merge)]
    if len(rules) != 1:
        raise TypeError(f"the container config field {name!r} declares {len(rules)} merge rules, not one")
    return rules[0]


def _without_ids(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if not (k == "id" and isinstance(v, str))}
    return value
