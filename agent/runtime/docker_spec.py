"""What the Docker engine is asked to create for one workload (dyrector §6): pure, no I/O, no SDK.

`container_spec` turns a workload's merged config (API shape) into a `ContainerSpec`: name,
environment with the opened secrets, labels, exposed and published ports, mounts, networks,
restart and log policies, command line; `init_spec` does the same for one of its init
containers. `docker_deploy` carries them out on the engine, so every rule about *what* a
container looks like is here and can be checked without an engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from agent.runtime.base import NAME_LABEL, PREFIX_LABEL
from chalicelib.contracts.agent import Workload
from chalicelib.contracts.naming import DNS_LABEL, SECRET_KEYS_LABEL, container_name

RESTART = {"always": "always", "unlessStopped": "unless-stopped", "no": "no", "onFailure": "on-failure"}
DEFAULT_RESTART = "unless-stopped"
OWN_NETWORK_MODES = ("host", "none")  # modes that replace the container's networks
Config = dict[str, Any]


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
    expected_state: Config

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
    return ContainerSpec(
        name=container_name(prefix, name),
        short_name=name,
        image=workload.image,
        environment=environment,
        labels=_labels(prefix, name, secret_keys, config),
        exposed=exposed,
        port_bindings=bindings,
        mounts=mounts(prefix, name, config),
        restart_policy=_restart_policy(config),
        network_mode=_own_network_mode(config),
        networks=_keys(config.get("networks")),
        log_config=_log_config(config),
        tty=bool(config.get("tty")),
        entrypoint=_keys(config.get("commands")) or None,
        command=_keys(config.get("args")) or None,
        user=_user(config),
        working_dir=config.get("workingDirectory") or None,
        expected_state=config.get("expectedState") or {},
    )


def init_spec(parent: ContainerSpec, prefix: str, init: Config) -> InitSpec:
    """An init container sees its parent's environment and first network only with `useParentConfig`;
    it may mount the parent's volumes by their config name. It carries its prefix's labels: if the agent
    dies while it runs, the node still lists it under the prefix and deleting the prefix removes it."""
    inherit = bool(init.get("useParentConfig"))
    own_env = _key_values(init.get("environment"))
    binds = {}
    for volume in init.get("volumes") or []:
        source = parent.mounts.by_name.get(volume["name"])
        if source is None:
            raise DeployError(f"init container {init['name']}: no volume named {volume['name']!r} in the container")
        binds[source] = {"bind": volume["path"], "mode": "rw"}
    return InitSpec(
        name=f"{parent.name}-{init['name']}",
        short_name=init["name"],
        parent=parent.name,
        image=init["image"],
        environment={**parent.environment, **own_env} if inherit else own_env,
        labels={PREFIX_LABEL: prefix, NAME_LABEL: f"{parent.short_name}-{init['name']}"},
        entrypoint=_keys(init.get("command")) or None,
        command=_keys(init.get("args")) or None,
        binds=binds,
        network=parent.networks[0] if parent.networks and inherit else None,
    )


def ports(config: Config) -> tuple[list[int], dict[int, int]]:
    """Every internal port is exposed; only those with an external port are published. A range
    publishes each internal port on its external counterpart while the external range lasts."""
    exposed: list[int] = []
    bindings: dict[int, int] = {}
    for port in config.get("ports") or []:
        exposed.append(port["internal"])
        if port.get("external"):
            bindings[port["internal"]] = port["external"]
    for rng in config.get("portRanges") or []:
        internal, external = rng["internal"], rng["external"]
        for offset in range(internal["to"] - internal["from"] + 1):
            exposed.append(internal["from"] + offset)
            if external["from"] + offset <= external["to"]:
                bindings[internal["from"] + offset] = external["from"] + offset
    return exposed, bindings


def mounts(prefix: str, name: str, config: Config) -> Mounts:
    found = Mounts()
    for volume in config.get("volumes") or []:
        if volume.get("type") in ("mem", "tmp"):
            found.tmpfs[volume["path"]] = f"size={volume['size']}" if volume.get("size") else ""
            continue
        source = volume["name"] if volume["name"].startswith("/") else f"{prefix}-{name}-{volume['name']}"
        if not source.startswith("/"):
            found.volumes.append(source)
        found.binds[source] = {"bind": volume["path"], "mode": "ro" if volume.get("type") == "ro" else "rw"}
        found.by_name[volume["name"]] = source
    return found


def _environment(config: Config, open_sealed: Callable[[str], str]) -> tuple[dict[str, str], list[str]]:
    """Plain variables, then the secrets that have a value (opened; they win over a plain one)."""
    environment = _key_values(config.get("environment"))
    secrets = [s for s in config.get("secrets") or [] if s.get("value")]
    for secret in secrets:
        environment[secret["key"]] = open_sealed(secret["value"])
    return environment, [s["key"] for s in secrets]


def _labels(prefix: str, name: str, secret_keys: list[str], config: Config) -> dict[str, str]:
    """Ours (prefix, name, the secret keys but never their values), then the user's Docker labels."""
    secret_label = {SECRET_KEYS_LABEL: ",".join(secret_keys)} if secret_keys else {}
    return {PREFIX_LABEL: prefix, NAME_LABEL: name, **secret_label, **_key_values(config.get("dockerLabels"))}


def _restart_policy(config: Config) -> str:
    return RESTART.get(config.get("restartPolicy") or "unlessStopped", DEFAULT_RESTART)


def _own_network_mode(config: Config) -> str | None:
    mode = config.get("networkMode")
    return mode if mode in OWN_NETWORK_MODES else None


def _log_config(config: Config) -> dict[str, Any] | None:
    log_config = config.get("logConfig") or {}
    if log_config.get("driver") in (None, "nodeDefault"):
        return None
    return {"Type": log_config["driver"], "Config": _key_values(log_config.get("options"))}


def _user(config: Config) -> str | None:
    user = config.get("user")
    return str(user) if isinstance(user, int) and user >= 0 else None


def _keys(entries: Iterable[Config] | None) -> list[str]:
    return [entry["key"] for entry in entries or []]


def _key_values(entries: Iterable[Config] | None) -> dict[str, str]:
    return {entry["key"]: entry.get("value", "") for entry in entries or []}
