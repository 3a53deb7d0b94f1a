"""Deploying workloads on Docker (dyrector §6): pull, replace, configure, start, wait.

Each workload becomes the container `<prefix>-<name>`: any previous one is removed first
(Docker redeploys are always stop-and-recreate), its init containers run to completion, then
it is created with the merged config and must reach its expected state (running by default).
Workloads run in order and the first failure stops the deployment. Secret values arrive sealed
to this agent's key and are opened only to become container environment variables.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from docker.errors import APIError, ImageNotFound, NotFound

from agent.runtime.base import NAME_LABEL, PREFIX_LABEL
from chalicelib.contracts.agent import Deploy, DeploymentEvent, Workload
from chalicelib.contracts.naming import DNS_LABEL, SECRET_KEYS_LABEL, container_name

RESTART = {"always": "always", "unlessStopped": "unless-stopped", "no": "no", "onFailure": "on-failure"}
EXPECTED_TIMEOUT = 60
# How long each started container must stay up, counted from its own start. A container that
# cannot start (bad entrypoint, missing file, wrong arguments) dies within milliseconds, and the
# engine's first restart comes 100 ms later, so a crash shows as an exit or a restart by then.
SETTLE_SECONDS = 0.3
Report = Callable[[list[DeploymentEvent]], None]


class DeployError(Exception):
    """A workload could not be deployed; the message is shown in the deployment log."""


def log(*lines: str, level: str = "info") -> DeploymentEvent:
    return DeploymentEvent(type="log", log=list(lines), level=level)


@dataclass
class _Run:
    """What one deployment learns once and reuses: the container names present when it began
    (so absent ones cost no lookup) and the images already pulled (each is pulled once)."""

    prefix: str
    present: set[str]
    pulled: set[str] = field(default_factory=set)


def deploy(client: Any, request: Deploy, report: Report, open_sealed: Callable[[str], str]) -> bool:
    """Runs the deployment, reporting as it goes; returns True when every workload is up and
    each running one stayed up, without a restart, for SETTLE_SECONDS after its start (no crash loop)."""
    started: list[tuple[Workload, str, float]] = []
    present = client.api.containers(all=True, filters={"name": request.prefix})
    run = _Run(request.prefix, {name.lstrip("/") for c in present for name in c.get("Names") or []})
    for workload in request.workloads:
        try:
            state = _deploy_one(client, run, workload, report, open_sealed)
            if state == "running":
                started.append((workload, container_name(request.prefix, workload.name), time.monotonic()))
        except DeployError as error:
            report([log(f"{workload.name}: {error}", level="error"),
                    DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="exited",
                                    reason=str(error)[:200])])
            return False
        except APIError as error:
            report([log(f"{workload.name}: the Docker engine refused: {error.explanation or error}", level="error")])
            return False
    return _still_running(client, started, report)


def _still_running(client: Any, started: list[tuple[Workload, str, float]], report: Report) -> bool:
    """The settle windows overlap the later workloads' deployment, so only the last one is waited
    for; a restart counts as a crash even when the engine has already brought the container back."""
    if not started:
        return True
    time.sleep(max(0.0, started[-1][2] + SETTLE_SECONDS - time.monotonic()))
    for workload, name, _ in started:
        attrs = client.api.inspect_container(name)
        state = attrs["State"]
        if state.get("Status") != "running" or state.get("Restarting") or attrs.get("RestartCount"):
            report([log(f"{workload.name}: the container stopped right after starting (exit code "
                        f"{state.get('ExitCode')}, restarts {attrs.get('RestartCount') or 0})", level="error"),
                    DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="exited")])
            return False
    return True


def _deploy_one(client: Any, run: _Run, workload: Workload, report: Report, open_sealed) -> str:
    config = workload.config
    prefix = run.prefix
    name = workload.name
    for label, value in (("prefix", prefix), ("container name", name)):
        if not DNS_LABEL.fullmatch(value):
            raise DeployError(f"the {label} {value!r} is not a DNS-1123 label")
    full_name = container_name(prefix, name)
    _pull(client, run, workload, report, open_sealed)
    _remove(client, run, full_name)
    environment = {e["key"]: e.get("value", "") for e in config.get("environment") or []}
    secrets = [s for s in config.get("secrets") or [] if s.get("value")]
    for secret in secrets:
        environment[secret["key"]] = open_sealed(secret["value"])
    mounts = _mounts(client, prefix, name, config)
    networks = [n["key"] for n in config.get("networks") or []]
    for network in networks:
        _ensure_network(client, network, prefix)
    for init in config.get("initContainers") or []:
        _run_init(client, run, full_name, init, environment, mounts, networks, report,
                  labels={PREFIX_LABEL: prefix, NAME_LABEL: f"{name}-{init['name']}"})
    labels = {PREFIX_LABEL: prefix, NAME_LABEL: name,
              **({SECRET_KEYS_LABEL: ",".join(s["key"] for s in secrets)} if secrets else {}),
              **{label["key"]: label.get("value", "") for label in config.get("dockerLabels") or []}}
    exposed, bindings = _ports(config)
    network_mode = config.get("networkMode") if config.get("networkMode") in ("host", "none") else None
    log_config = config.get("logConfig") or {}
    host_config = client.api.create_host_config(
        port_bindings=bindings or None, binds=mounts["binds"] or None, tmpfs=mounts["tmpfs"] or None,
        restart_policy={"Name": RESTART.get(config.get("restartPolicy") or "unlessStopped", "unless-stopped")},
        network_mode=network_mode or (networks[0] if networks else "bridge"),
        log_config={"Type": log_config["driver"], "Config": {o["key"]: o.get("value", "")
                                                               for o in log_config.get("options") or []}}
        if log_config.get("driver") not in (None, "nodeDefault") else None,
        extra_hosts={"host.docker.internal": "host-gateway"})
    user = config.get("user")
    created = client.api.create_container(
        workload.image, name=full_name, hostname=full_name, environment=environment, labels=labels,
        ports=exposed or None, host_config=host_config, detach=True, tty=bool(config.get("tty")),
        entrypoint=[c["key"] for c in config.get("commands") or []] or None,
        command=[a["key"] for a in config.get("args") or []] or None,
        user=str(user) if isinstance(user, int) and user >= 0 else None,
        working_dir=config.get("workingDirectory") or None,
        networking_config=client.api.create_networking_config({networks[0]: client.api.create_endpoint_config(
            aliases=[full_name, name])}) if networks and not network_mode else None)
    for extra in networks[1:] if not network_mode else []:
        client.api.connect_container_to_network(created["Id"], extra, aliases=[full_name, name])
    client.api.start(created["Id"])
    state = _wait_expected(client, created["Id"], config.get("expectedState") or {})
    report([log(f"{name}: container {full_name} is {state}"),
            DeploymentEvent(type="container-state", instance_id=workload.instance_id, state=state)])
    return state


def _pull(client: Any, run: _Run, workload: Workload, report: Report, open_sealed) -> None:
    reference = workload.image
    if reference in run.pulled:
        return
    has_registry = "/" in reference and re.match(r"^[^/]+[.:][^/]*/|^localhost/", reference) is not None
    if not has_registry:
        try:
            client.api.inspect_image(reference)
            run.pulled.add(reference)
            return  # a local image (e.g. an unchecked local registry): use it as it is
        except ImageNotFound:
            pass
    auth = None
    if workload.registry_auth:
        auth = {"username": workload.registry_auth.user,
                "password": open_sealed(workload.registry_auth.sealed_password),
                "serveraddress": workload.registry_auth.server}
    repository, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "latest")
    report([log(f"{workload.name}: pulling {reference}")])
    try:
        client.images.pull(repository, tag=tag, auth_config=auth)
        run.pulled.add(reference)
    except (APIError, NotFound) as error:
        raise DeployError(f"the image {reference} could not be pulled: {getattr(error, 'explanation', None) or error}") \
            from None


def _remove(client: Any, run: _Run, full_name: str) -> None:
    if full_name not in run.present:
        return
    try:
        client.containers.get(full_name).remove(force=True)
    except NotFound:
        pass


def _mounts(client: Any, prefix: str, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Named volumes `<prefix>-<name>-<volume>` (kept across redeploys), host paths for absolute names,
    tmpfs for mem/tmp volumes."""
    binds, tmpfs, by_name = {}, {}, {}
    for volume in config.get("volumes") or []:
        if volume.get("type") in ("mem", "tmp"):
            tmpfs[volume["path"]] = f"size={volume['size']}" if volume.get("size") else ""
            continue
        source = volume["name"] if volume["name"].startswith("/") else f"{prefix}-{name}-{volume['name']}"
        if not source.startswith("/"):
            _ensure_volume(client, source, prefix)
        binds[source] = {"bind": volume["path"], "mode": "ro" if volume.get("type") == "ro" else "rw"}
        by_name[volume["name"]] = source
    return {"binds": binds, "tmpfs": tmpfs, "by_name": by_name}


def _ensure_volume(client: Any, source: str, prefix: str) -> None:
    try:
        client.volumes.get(source)
    except NotFound:
        client.volumes.create(source, labels={PREFIX_LABEL: prefix})


def _ensure_network(client: Any, network: str, prefix: str) -> None:
    if not client.networks.list(names=[network]):
        client.networks.create(network, driver="bridge", labels={PREFIX_LABEL: prefix})


def _ports(config: dict[str, Any]) -> tuple[list[int], dict[int, Any]]:
    """Every internal port is exposed; only those with an external port are published."""
    exposed: list[int] = []
    bindings: dict[int, Any] = {}
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


def _run_init(client: Any, run: _Run, parent: str, init: dict[str, Any], parent_env: dict[str, str],
              mounts: dict[str, Any], networks: list[str], report: Report, labels: dict[str, str]) -> None:
    """Runs an init container to completion. It carries its prefix's labels: if the agent dies while
    it runs, the node still lists it under the prefix and deleting the prefix removes it."""
    name = f"{parent}-{init['name']}"
    own_env = {e["key"]: e.get("value", "") for e in init.get("environment") or []}
    environment = {**parent_env, **own_env} if init.get("useParentConfig") else own_env
    binds = {}
    for volume in init.get("volumes") or []:
        source = mounts["by_name"].get(volume["name"])
        if source is None:
            raise DeployError(f"init container {init['name']}: no volume named {volume['name']!r} in the container")
        binds[source] = {"bind": volume["path"], "mode": "rw"}
    _remove(client, run, name)
    report([log(f"{parent}: running init container {init['name']}")])
    container = client.containers.run(
        init["image"], command=[a["key"] for a in init.get("args") or []] or None,
        entrypoint=[c["key"] for c in init.get("command") or []] or None, name=name, detach=True,
        environment=environment, labels=labels, volumes=binds or None,
        network=networks[0] if networks and init.get("useParentConfig") else None)
    try:
        code = container.wait(timeout=EXPECTED_TIMEOUT).get("StatusCode")
    except Exception as error:  # noqa: BLE001 - requests' timeout or an engine error
        raise DeployError(f"init container {init['name']} did not finish: {error}") from None
    finally:
        output = container.logs(tail=20).decode(errors="replace")
        container.remove(force=True)
    if code != 0:
        raise DeployError(f"init container {init['name']} exited with {code}: {output.strip()[-500:]}")


def _wait_expected(client: Any, container_id: str, expected: dict[str, Any]) -> str:
    """Waits until the container is running (or exited with the expected code); returns its state."""
    want = expected.get("state") or "running"
    deadline = time.monotonic() + (expected.get("timeout") or (10 if want == "running" else EXPECTED_TIMEOUT))
    while True:
        attrs = client.api.inspect_container(container_id)["State"]
        status = attrs.get("Status")
        if want == "exited" and status in ("exited", "dead"):
            if attrs.get("ExitCode") != (expected.get("exitCode") or 0):
                raise DeployError(f"exited with code {attrs.get('ExitCode')}, expected {expected.get('exitCode') or 0}")
            return "exited"
        if want == "running":
            if status in ("exited", "dead") and attrs.get("Restarting") is False:
                raise DeployError(f"the container stopped (exit code {attrs.get('ExitCode')}) instead of running")
            if status == "running":
                return "running"
        if time.monotonic() > deadline:
            raise DeployError(f"did not reach the state {want} in time (it is {status})")
        time.sleep(0.2)
