"""What the Docker engine is asked to create for one workload (dyrector §6): pure, no I/O, no SDK.

`container_spec` turns a workload's effective config into a `ContainerSpec`: name, environment
with the opened secrets, labels, exposed and published ports, mounts, networks, restart and log
policies, command line, health check, CPU and memory limits, and its init containers.
`docker_deploy` carries them out on the engine, so every rule about *what* a container looks
like is here and can be checked without an engine. `NOT_APPLICABLE` names the config fields
Docker has no use for, and why (tests/unit/test_config_coverage.py holds the two to the model).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from agent.runtime import quantities
from agent.runtime.base import NAME_LABEL, PREFIX_LABEL
from chalicelib.contracts.agent import Workload
from chalicelib.contracts.containers import (
    Argument,
    ContainerConfig,
    ExpectedState,
    InitContainer,
    LogDriver,
    NetworkMode,
    RestartPolicy,
    UniqueKey,
    UniqueKeyValue,
    VolumeType,
)
from chalicelib.contracts.naming import DNS_LABEL, SECRET_KEYS_LABEL, container_name

RESTART = {
    RestartPolicy.always: "always",
    RestartPolicy.unless_stopped: "unless-stopped",
    RestartPolicy.no: "no",
    RestartPolicy.on_failure: "on-failure",
}
DEFAULT_RESTART = "unless-stopped"
OWN_NETWORK_MODES = (NetworkMode.host, NetworkMode.none)  # modes that replace the container's networks
IN_MEMORY = (VolumeType.mem, VolumeType.tmp)
# The health check probes often enough that a deploy waits seconds, not minutes, for `healthy`
# (engines before API 1.44 have no faster start interval); `docker_deploy` bounds the wait.
HEALTH_INTERVAL_NS = 2_000_000_000
HEALTH_TIMEOUT_NS = 2_000_000_000
HEALTH_RETRIES = 3
NANO = 1_000_000_000

NOT_APPLICABLE = {
    "name": "the platform names the workload (Workload.name)",
    "capabilities": "never passed on (dyrector §4.6)",
    "config_container": "dyrector ignores it on Docker (§6)",
    "deployment_strategy": "a Docker redeploy is always stop-and-recreate (§6)",
    "custom_headers": "a Kubernetes ingress setting",
    "proxy_headers": "a Kubernetes ingress setting",
    "use_load_balancer": "a Kubernetes Service type",
    "extra_lb_annotations": "annotations of a Kubernetes LoadBalancer Service",
    "labels": "Kubernetes object labels (Docker's are dockerLabels)",
    "annotations": "Kubernetes object annotations",
    "metrics": "a Prometheus ServiceMonitor on Kubernetes",
}


class DeployError(Exception):
    """A workload could not be deployed; the message is shown in the deployment log."""


@dataclass(frozen=True)
class Mounts:
    """Named volumes `<prefix>-<name>-<volume>` (kept across redeploys), host paths for absolute
    names, tmpfs for mem/tmp volumes. `volumes` lists the named volumes the engine must have."""

    binds: dict[str, dict[str, str]] = field(default_factory=dict)
    tmpfs: dict[str, str] = field(default_factory=dict)
    by_name: dict[str, str] = field(default_factory=dict)  # config volume name → bind source
    volumes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ContainerSpec:
    name: str  # on the engine: `<prefix>-<name>`, also the hostname and a network alias
    short_name: str  # the workload's own name, the other network alias
    image: str
    environment: dict[str, str]
    labels: dict[str, str]
    exposed: list[int]  # every internal port
    port_bindings: dict[int, int]  # internal → published host port
    mounts: Mounts
    restart_policy: str
    network_mode: str | None  # `host` or `none`; None: the networks below (or the default bridge)
    networks: list[str]
    log_config: dict[str, Any] | None  # None: the node's default logging
    tty: bool
    entrypoint: list[str] | None
    command: list[str] | None
    user: str | None
    working_dir: str | None
    expected_state: ExpectedState | None
    healthcheck: dict[str, Any] | None  # the SDK's `healthcheck=`; the deploy then waits for `healthy`
    nano_cpus: int | None
    mem_limit: int | None
    init_containers: list[InitSpec] = field(default_factory=list)  # run in order before the container

    @property
    def host_network_mode(self) -> str:
        """What the engine's HostConfig.NetworkMode gets: the own mode, else the first network."""
        return self.network_mode or (self.networks[0] if self.networks else "bridge")

    @property
    def attached_networks(self) -> list[str]:
        """Networks joined with aliases (the first at creation, the others afterwards)."""
        return [] if self.network_mode else self.networks

    @property
    def aliases(self) -> list[str]:
        return [self.name, self.short_name]


@dataclass(frozen=True)
class InitSpec:
    """An init container `<parent>-<init name>`: run to completion before its parent is created."""

    name: str
    short_name: str  # the init container's own name
    parent: str  # the container it prepares, `<prefix>-<name>`
    image: str
    environment: dict[str, str]
    labels: dict[str, str]
    entrypoint: list[str] | None
    command: list[str] | None
    binds: dict[str, dict[str, str]]
    network: str | None


def check_names(prefix: str, name: str) -> None:
    for label, value in (("prefix", prefix), ("container name", name)):
        if not DNS_LABEL.fullmatch(value):
            raise DeployError(f"the {label} {value!r} is not a DNS-1123 label")


def container_spec(prefix: str, workload: Workload, open_sealed: Callable[[str], str]) -> ContainerSpec:
    """The container for `workload` under `prefix`; sealed secret values are opened into its environment."""
    config = workload.config
    name = workload.name
    environment, secret_keys = _environment(config, open_sealed)
    exposed, bindings = ports(config)
    nano_cpus, mem_limit = _limits(config)
    spec = ContainerSpec(
        name=container_name(prefix, name),
        short_name=name,
        image=workload.image,
        environment=environment,
        labels=_labels(prefix, name, secret_keys, config),
        exposed=exposed,
        port_bindings=bindings,
        mounts=mounts(prefix, name, config),
        restart_policy=RESTART.get(config.restart_policy or RestartPolicy.unless_stopped, DEFAULT_RESTART),
        network_mode=config.network_mode if config.network_mode in OWN_NETWORK_MODES else None,
        networks=_keys(config.networks),
        log_config=_log_config(config),
        tty=bool(config.tty),
        entrypoint=_keys(config.commands) or None,
        command=_keys(config.args) or None,
        user=str(config.user) if config.user is not None and config.user >= 0 else None,
        working_dir=config.working_directory or None,
        expected_state=config.expected_state,
        healthcheck=healthcheck(config),
        nano_cpus=nano_cpus,
        mem_limit=mem_limit,
    )
    return replace(spec, init_containers=[init_spec(spec, prefix, init) for init in config.init_containers or []])


def init_spec(parent: ContainerSpec, prefix: str, init: InitContainer) -> InitSpec:
    """An init container sees its parent's environment and first network only with `useParentConfig`;
    it may mount the parent's volumes by their config name. It carries its prefix's labels: if the agent
    dies while it runs, the node still lists it under the prefix and deleting the prefix removes it."""
    inherit = init.use_parent_config
    own_env = _key_values(init.environment)
    binds = {}
    for volume in init.volumes or []:
        source = parent.mounts.by_name.get(volume.name)
        if source is None:
            raise DeployError(f"init container {init.name}: no volume named {volume.name!r} in the container")
        binds[source] = {"bind": volume.path, "mode": "rw"}
    return InitSpec(
        name=f"{parent.name}-{init.name}",
        short_name=init.name,
        parent=parent.name,
        image=init.image,
        environment={**parent.environment, **own_env} if inherit else own_env,
        labels={PREFIX_LABEL: prefix, NAME_LABEL: f"{parent.short_name}-{init.name}"},
        entrypoint=_keys(init.command) or None,
        command=_keys(init.args) or None,
        binds=binds,
        network=parent.networks[0] if parent.networks and inherit else None,
    )


def ports(config: ContainerConfig) -> tuple[list[int], dict[int, int]]:
    """Every internal port is exposed; only those with an external port are published. A range
    publishes each internal port on its external counterpart while the external range lasts."""
    exposed: list[int] = []
    bindings: dict[int, int] = {}
    for port in config.ports or []:
        exposed.append(port.internal)
        if port.external:
            bindings[port.internal] = port.external
    for rng in config.port_ranges or []:
        internal, external = rng.internal, rng.external
        for offset in range(internal.to - internal.from_ + 1):
            exposed.append(internal.from_ + offset)
            if external.from_ + offset <= external.to:
                bindings[internal.from_ + offset] = external.from_ + offset
    return exposed, bindings


def mounts(prefix: str, name: str, config: ContainerConfig) -> Mounts:
    found = Mounts()
    for volume in config.volumes or []:
        if volume.type in IN_MEMORY:
            found.tmpfs[volume.path] = f"size={volume.size}" if volume.size else ""
            continue
        source = volume.name if volume.name.startswith("/") else f"{prefix}-{name}-{volume.name}"
        if not source.startswith("/"):
            found.volumes.append(source)
        found.binds[source] = {"bind": volume.path, "mode": "ro" if volume.type == VolumeType.ro else "rw"}
        found.by_name[volume.name] = source
    return found


def healthcheck(config: ContainerConfig) -> dict[str, Any] | None:
    """An HTTP GET of the readiness path (else liveness, else startup) on the health port (else the
    first internal port), by wget or curl inside the container: Docker has one check for all three."""
    health = config.health_check_config
    path = health and (health.readiness_probe or health.liveness_probe or health.startup_probe)
    if not health or not path:
        return None
    port = health.port or next((p.internal for p in config.ports or []), None)
    if port is None:
        raise DeployError("the health check has no port: set healthCheckConfig.port or a container port")
    url = shlex.quote(f"http://localhost:{port}/{path.lstrip('/')}")
    probe = (
        f"if command -v wget >/dev/null 2>&1; then wget -q -O /dev/null {url}; else curl -fsS -o /dev/null {url}; fi"
    )
    return {
        "test": ["CMD-SHELL", probe],
        "interval": HEALTH_INTERVAL_NS,
        "timeout": HEALTH_TIMEOUT_NS,
        "retries": HEALTH_RETRIES,
        "start_period": 0,
    }


def _limits(config: ContainerConfig) -> tuple[int | None, int | None]:
    """resourceConfig.limits as the engine's NanoCpus and Memory (bytes); `cpu: "0"` or unset: no limit.
    Requests are a scheduler's notion: Docker has none to give them to."""
    limits = config.resource_config.limits if config.resource_config else None
    try:
        cpus = quantities.parse(limits.cpu, "the CPU limit") if limits and limits.cpu else None
        memory = quantities.parse(limits.memory, "the memory limit") if limits and limits.memory else None
    except ValueError as error:
        raise DeployError(str(error)) from None
    return (int(cpus * NANO) or None) if cpus is not None else None, int(memory) if memory else None


def _environment(config: ContainerConfig, open_sealed: Callable[[str], str]) -> tuple[dict[str, str], list[str]]:
    """Plain variables, then the secrets that have a value (opened; they win over a plain one)."""
    environment = _key_values(config.environment)
    secrets = [s for s in config.secrets or [] if s.value]
    for secret in secrets:
        environment[secret.key] = open_sealed(secret.value)
    return environment, [s.key for s in secrets]


def _labels(prefix: str, name: str, secret_keys: list[str], config: ContainerConfig) -> dict[str, str]:
    """Ours (prefix, name, the secret keys but never their values), then the user's Docker labels."""
    secret_label = {SECRET_KEYS_LABEL: ",".join(secret_keys)} if secret_keys else {}
    return {PREFIX_LABEL: prefix, NAME_LABEL: name, **secret_label, **_key_values(config.docker_labels)}


def _log_config(config: ContainerConfig) -> dict[str, Any] | None:
    log_config = config.log_config
    if log_config is None or log_config.driver == LogDriver.node_default:
        return None
    return {"Type": log_config.driver.value, "Config": _key_values(log_config.options)}


def _keys(entries: Iterable[UniqueKey | Argument] | None) -> list[str]:
    return [entry.key for entry in entries or []]


def _key_values(entries: Iterable[UniqueKeyValue] | None) -> dict[str, str]:
    return {entry.key: entry.value for entry in entries or []}
