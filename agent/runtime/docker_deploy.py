"""Deploying workloads on Docker (dyrector §6): pull, replace, configure, start, wait.

Each workload becomes the container `<prefix>-<name>`: any previous one is removed first
(Docker redeploys are always stop-and-recreate), its init containers run to completion, then
it is created with the merged config and must reach its expected state (running by default;
with a health check, running *and* healthy within the expected state's timeout). Workloads run
in order and the first failure stops the deployment. Secret values arrive sealed to this
agent's key and are opened only to become container environment variables. An exposed workload
carries the Traefik labels that route to it (`traefik`); a config naming a storage has its files
imported into a volume before the init containers run (`storage_import`). `planned` builds all of
it without the engine.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from docker import DockerClient
from docker.errors import APIError, ImageNotFound, NotFound
from docker.types import LogConfig

from agent import settings as node_settings
from agent.runtime import storage_import, storage_sync, traefik
from agent.runtime.base import PREFIX_LABEL, OpenSealed, Report
from agent.runtime.docker_spec import ContainerSpec, DeployError, InitSpec, check_names, container_spec
from chalicelib.contracts.agent import Deploy, DeploymentEvent, Workload
from chalicelib.contracts.containers import ContainerState, ExpectedState, Routing
from chalicelib.contracts.naming import container_name

EXPECTED_TIMEOUT = 60
RUNNING_TIMEOUT = 10
# How long a container with a health check may take to become healthy, unless its expected
# state gives a timeout (dyrector's default for expected states).
HEALTHY_TIMEOUT = 120
__all__ = ["DeployError", "deploy"]


def log(*lines: str, level: str = "info") -> DeploymentEvent:
    return DeploymentEvent(type="log", log=list(lines), level=level)


@dataclass
class _Run:
    """What one deployment learns once and reuses: the container names present when it began
    (so absent ones cost no lookup) and the images already pulled (each is pulled once)."""

    prefix: str
    present: set[str]
    pulled: set[str] = field(default_factory=set)
    settings: node_settings.DockerSettings = field(default_factory=node_settings.DockerSettings)


def deploy(
    client: DockerClient,
    request: Deploy,
    report: Report,
    open_sealed: OpenSealed,
    settings: node_settings.DockerSettings | None = None,
) -> bool:
    """Runs the deployment, reporting as it goes; returns True when every workload is up and
    each running one is still running, without a restart, at the end (and for the node's crash window
    after its start, `CRASH_WINDOW_SECONDS`, when one is set)."""
    started: list[tuple[Workload, str, float]] = []
    present = client.api.containers(all=True, filters={"name": request.prefix})
    names = {name.lstrip("/") for c in present for name in c.get("Names") or []}
    run = _Run(request.prefix, names, settings=settings or node_settings.DockerSettings())
    for workload in request.workloads:
        try:
            state = _deploy_one(client, run, workload, report, open_sealed)
            if state == "running":
                started.append((workload, container_name(request.prefix, workload.name), time.monotonic()))
        except DeployError as error:
            report(
                [
                    log(f"{workload.name}: {error}", level="error"),
                    DeploymentEvent(
                        type="container-state",
                        instance_id=workload.instance_id,
                        state="exited",
                        reason=str(error)[:200],
                    ),
                ]
            )
            return False
        except APIError as error:
            report([log(f"{workload.name}: the Docker engine refused: {error.explanation or error}", level="error")])
            return False
    return _still_running(client, started, report, run.settings.crash_window)


def _still_running(
    client: DockerClient, started: list[tuple[Workload, str, float]], report: Report, window: float
) -> bool:
    """A container that exits at once (bad arguments, a missing file) shows as exited or restarted
    by now; the crash windows overlap the later workloads' deployment, so only the last one is
    waited for. A restart counts as a crash even when the engine has already brought it back."""
    if not started:
        return True
    time.sleep(max(0.0, started[-1][2] + window - time.monotonic()))
    for workload, name, _ in started:
        attrs = client.api.inspect_container(name)
        state = attrs["State"]
        if state.get("Status") != "running" or state.get("Restarting") or attrs.get("RestartCount"):
            report(
                [
                    log(
                        f"{workload.name}: the container stopped right after starting (exit code "
                        f"{state.get('ExitCode')}, restarts {attrs.get('RestartCount') or 0})",
                        level="error",
                    ),
                    DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="exited"),
                ]
            )
            return False
    return True


def _deploy_one(client: DockerClient, run: _Run, workload: Workload, report: Report, open_sealed: OpenSealed) -> str:
    check_names(run.prefix, workload.name)
    _pull(client, run, workload, report, open_sealed)
    _remove(client, run, container_name(run.prefix, workload.name))
    spec, storage_job = planned(run.prefix, workload, open_sealed, run.settings)
    _prepare(client, run.prefix, spec)
    if storage_job is not None:  # dagent's pre-start hooks, in order: the storage import, then init containers
        storage_import.run_import(client, storage_job, report)
    for init in spec.init_containers:
        _run_init(client, run, init, report)
    container_id = _create(client, spec)
    client.api.start(container_id)
    state = _wait_expected(client, container_id, spec)
    report(
        [
            log(f"{spec.short_name}: container {spec.name} is {state}"),
            DeploymentEvent(type="container-state", instance_id=workload.instance_id, state=state),
        ]
    )
    return state


def planned(
    prefix: str, workload: Workload, open_sealed: OpenSealed, settings: node_settings.DockerSettings
) -> tuple[ContainerSpec, storage_import.ImportSpec | None]:
    """What the engine is asked for, for one workload, before any call (pure): its container, with the
    Traefik labels of an exposed workload, and the import of its storage, if its config names one."""
    spec = _routed(container_spec(prefix, workload, open_sealed), prefix, workload, settings)
    return spec, _import_job(prefix, workload, spec, open_sealed, settings)


def _routed(
    spec: ContainerSpec, prefix: str, workload: Workload, settings: node_settings.DockerSettings
) -> ContainerSpec:
    """The spec with the Traefik labels of an exposed workload (`traefik`), under its own labels: the
    user's dockerLabels still win, as on dagent."""
    routing = workload.config.routing or Routing()
    labels = traefik.routing_labels(
        prefix=prefix,
        name=spec.short_name,
        expose=workload.config.expose,
        domain=routing.domain,
        path=routing.path,
        strip_path=bool(routing.strip_path),
        upload_limit=routing.upload_limit,
        port=routing.port,
        internal_ports=spec.exposed,
        root_domain=settings.root_domain,
    )
    return replace(spec, labels={**labels, **spec.labels}) if labels else spec


def _import_job(
    prefix: str,
    workload: Workload,
    spec: ContainerSpec,
    open_sealed: OpenSealed,
    settings: node_settings.DockerSettings,
) -> storage_import.ImportSpec | None:
    """The import container for the workload's `config.storage` (`storage_import`); none without one."""
    try:
        sync = storage_sync.planned(workload, open_sealed, settings.rclone_image)
    except ValueError as error:
        raise DeployError(str(error)) from None
    if sync is None:
        return None
    return storage_import.import_spec(
        prefix=prefix,
        name=spec.short_name,
        container=spec.name,
        sync=sync,
        volumes=spec.mounts.by_name,
        network_mode=settings.rclone_network,
    )


def _prepare(client: DockerClient, prefix: str, spec: ContainerSpec) -> None:
    """The named volumes and networks the container uses exist before it (and its init containers) run."""
    for volume in spec.mounts.volumes:
        _ensure_volume(client, volume, prefix)
    for network in spec.networks:
        _ensure_network(client, network, prefix)


def _create(client: DockerClient, spec: ContainerSpec) -> str:
    """Creates the container and joins its networks; returns its id."""
    # The SDK's parameter types are wider than ours (and dict keys/values are invariant): read-only views.
    bindings = cast("dict[int | str, int]", spec.port_bindings)
    binds = cast("dict[str, Mapping[str, str]]", spec.mounts.binds)
    host_config = client.api.create_host_config(
        port_bindings=bindings or None,
        binds=binds or None,
        tmpfs=spec.mounts.tmpfs or None,
        restart_policy={"Name": spec.restart_policy},
        network_mode=spec.host_network_mode,
        log_config=LogConfig(**spec.log_config) if spec.log_config else None,
        extra_hosts={"host.docker.internal": "host-gateway"},
        nano_cpus=spec.nano_cpus,
        mem_limit=spec.mem_limit,
    )
    attached = spec.attached_networks
    endpoints = {attached[0]: client.api.create_endpoint_config(aliases=spec.aliases)} if attached else None
    # A dict of network → endpoint, whatever the stubs say.
    networking = client.api.create_networking_config(endpoints) if endpoints else None  # type: ignore[arg-type]
    created = client.api.create_container(
        spec.image,
        name=spec.name,
        hostname=spec.name,
        environment=spec.environment,
        labels=spec.labels,
        ports=spec.exposed or None,
        host_config=host_config,
        detach=True,
        tty=spec.tty,
        entrypoint=spec.entrypoint,
        command=spec.command,
        user=spec.user,
        working_dir=spec.working_dir,
        networking_config=networking,
        healthcheck=spec.healthcheck,
    )
    container_id: str = created["Id"]
    for extra in attached[1:]:
        client.api.connect_container_to_network(container_id, extra, aliases=spec.aliases)
    return container_id


def _pull(client: DockerClient, run: _Run, workload: Workload, report: Report, open_sealed: OpenSealed) -> None:
    reference = workload.image
    if reference in run.pulled:
        return
    has_registry = "/" in reference and re.match(r"^[^/]+[.:][^/]*/|^localhost/", reference) is not None
    if not has_registry:
        try:
            client.api.inspect_image(reference)  # type: ignore[no-untyped-call]  # untyped in types-docker
            run.pulled.add(reference)
            return  # a local image (e.g. an unchecked local registry): use it as it is
        except ImageNotFound:
            pass
    auth = None
    if workload.registry_auth:
        auth = {
            "username": workload.registry_auth.user,
            "password": open_sealed(workload.registry_auth.sealed_password),
            "serveraddress": workload.registry_auth.server,
        }
    repository, _, tag = reference.rpartition(":") if ":" in reference.rsplit("/", 1)[-1] else (reference, "", "latest")
    report([log(f"{workload.name}: pulling {reference}")])
    try:
        client.images.pull(repository, tag=tag, auth_config=auth)
        run.pulled.add(reference)
    except (APIError, NotFound) as error:
        reason = getattr(error, "explanation", None) or error
        raise DeployError(f"the image {reference} could not be pulled: {reason}") from None


def _remove(client: DockerClient, run: _Run, full_name: str) -> None:
    if full_name not in run.present:
        return
    with contextlib.suppress(NotFound):  # removed meanwhile: the goal is reached
        client.containers.get(full_name).remove(force=True)


def _ensure_volume(client: DockerClient, source: str, prefix: str) -> None:
    try:
        client.volumes.get(source)
    except NotFound:
        client.volumes.create(source, labels={PREFIX_LABEL: prefix})


def _ensure_network(client: DockerClient, network: str, prefix: str) -> None:
    if not client.networks.list(names=[network]):
        client.networks.create(network, driver="bridge", labels={PREFIX_LABEL: prefix})


def _run_init(client: DockerClient, run: _Run, init: InitSpec, report: Report) -> None:
    """Runs an init container to completion; its last output lines explain a failure."""
    _remove(client, run, init.name)
    report([log(f"{init.parent}: running init container {init.short_name}")])
    container = client.containers.run(
        init.image,
        command=init.command,
        entrypoint=init.entrypoint,
        name=init.name,
        detach=True,
        environment=init.environment,
        labels=init.labels,
        volumes=init.binds or None,
        network=init.network,
    )
    try:
        code = container.wait(timeout=EXPECTED_TIMEOUT).get("StatusCode")
    except Exception as error:  # noqa: BLE001 - requests' timeout or an engine error
        raise DeployError(f"init container {init.short_name} did not finish: {error}") from None
    finally:
        output = container.logs(tail=20).decode(errors="replace")
        container.remove(force=True)
    if code != 0:
        raise DeployError(f"init container {init.short_name} exited with {code}: {output.strip()[-500:]}")


@dataclass(frozen=True)
class _Goal:
    """What a started container must reach, and how long it has."""

    state: str
    exit_code: int
    healthy: bool  # running is not enough: the health check must pass
    timeout: int


def _goal(spec: ContainerSpec) -> _Goal:
    expected = spec.expected_state or ExpectedState(state=ContainerState.running)
    running = expected.state == ContainerState.running
    healthy = spec.healthcheck is not None and running
    default = HEALTHY_TIMEOUT if healthy else RUNNING_TIMEOUT if running else EXPECTED_TIMEOUT
    return _Goal(expected.state.value, expected.exit_code or 0, healthy, expected.timeout or default)


def _wait_expected(client: DockerClient, container_id: str, spec: ContainerSpec) -> str:
    """Waits until the container is running (and healthy, with a health check) or exited with the
    expected code; returns its state."""
    goal = _goal(spec)
    deadline = time.monotonic() + goal.timeout
    pause = 0.02  # a started container is usually running at once: look again soon, then less often
    while True:
        state = client.api.inspect_container(container_id)["State"]
        reached = _reached(goal, state)
        if reached is not None:
            return reached
        if time.monotonic() > deadline:
            raise DeployError(_not_reached(goal, state))
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _reached(goal: _Goal, state: dict[str, Any]) -> str | None:
    """The goal's state when the engine's container state shows it; None to keep waiting.
    Raises when it can no longer be reached (exited with another code, or stopped for good)."""
    stopped = state.get("Status") in ("exited", "dead")
    if goal.state == "exited" and stopped:
        if state.get("ExitCode") != goal.exit_code:
            raise DeployError(f"exited with code {state.get('ExitCode')}, expected {goal.exit_code}")
        return "exited"
    if goal.state == "running" and (stopped or state.get("Restarting")):  # restarting: it crashed already
        raise DeployError(f"the container stopped (exit code {state.get('ExitCode')}) instead of running")
    return "running" if goal.state == "running" and _up(goal, state) else None


def _up(goal: _Goal, state: dict[str, Any]) -> bool:
    health = (state.get("Health") or {}).get("Status")
    return state.get("Status") == "running" and (not goal.healthy or health == "healthy")


def _not_reached(goal: _Goal, state: dict[str, Any]) -> str:
    """Why the wait ended, in words: for a health check, what its last probe said."""
    if not goal.healthy or state.get("Status") != "running":
        return f"did not reach the state {goal.state} in time (it is {state.get('Status')})"
    health = state.get("Health") or {}
    probes = health.get("Log") or []
    said = " ".join(str(probes[-1].get("Output") or "").split())[:300] if probes else "no probe has finished yet"
    return f"did not become healthy within {goal.timeout} s (health {health.get('Status', 'unknown')}: {said})"
