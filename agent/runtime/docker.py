"""The Docker runtime: containers `<prefix>-<name>` on the local engine, through the `docker` SDK.

Containers the platform manages carry the prefix and name labels, so a prefix is found by
label, not by parsing names. dyrector's state mapping applies: created, restarting, removing
and paused are `waiting`; exited and dead are `exited`. A container's log is read per stream
(stdout, stderr) with the engine's timestamps, so each line says which stream wrote it; the
values of the variables its secret-keys label names are masked in the log and the inspection.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import docker
from docker.errors import APIError, NotFound
from docker.models.containers import Container

from agent.runtime import docker_deploy, inspection
from agent.runtime.base import NAME_LABEL, PREFIX_LABEL, ContainerNotFound, OpenSealed, Report, split_image
from agent.runtime.container_logs import LineReader, Stream, render
from agent.settings import DockerSettings
from chalicelib.contracts.agent import (
    ContainerInfo,
    ContainerInspection,
    ContainerLog,
    ContainerMount,
    ContainerPort,
    Deploy,
)
from chalicelib.contracts.naming import SECRET_KEYS_LABEL, container_name

_STATES = {"running": "running", "exited": "exited", "dead": "exited"}
STOP_SECONDS = 10


class DockerRuntime:
    def __init__(self, client: docker.DockerClient | None = None, settings: DockerSettings | None = None) -> None:
        self.client = client or docker.from_env()
        self.settings = settings or DockerSettings()

    def list_containers(self, prefix: str | None) -> list[ContainerInfo]:
        filters: dict[str, str | list[str] | bool] = {"label": [f"{PREFIX_LABEL}={prefix}"]} if prefix else {}
        # docker-py inspects each listed container: one removed in between (by anyone) is left out, not an error.
        listed = self.client.containers.list(all=True, filters=filters, ignore_removed=True)
        return [self._info(c) for c in listed]

    def container_command(self, prefix: str, name: str, operation: str) -> None:
        container = self._find(prefix, name)
        if operation == "start":
            container.start()
        elif operation == "stop":
            container.stop(timeout=STOP_SECONDS)
        elif operation == "restart":
            container.restart(timeout=STOP_SECONDS)
        else:
            raise ValueError(f"unknown operation {operation!r}")

    def delete_container(self, prefix: str, name: str) -> None:
        self._find(prefix, name).remove(force=True, v=False)

    def delete_prefix(self, prefix: str) -> None:
        for container in self.client.containers.list(all=True, filters={"label": [f"{PREFIX_LABEL}={prefix}"]}):
            with contextlib.suppress(NotFound):  # removed meanwhile: the goal is reached
                container.remove(force=True)

    def deploy(self, request: Deploy, report: Report, open_sealed: OpenSealed) -> bool:
        return docker_deploy.deploy(self.client, request, report, open_sealed, self.settings)

    def container_log(self, prefix: str, name: str, tail: int, since: datetime | None) -> ContainerLog:
        container = self._find(prefix, name)
        readers = [self._read_log(container, stream, tail, since) for stream in ("stdout", "stderr")]
        return render(readers, tail, _secret_values(container.attrs), since)

    def inspect_container(self, prefix: str, name: str) -> ContainerInspection:
        container = self._find(prefix, name)
        return _inspection(self._info(container), container.attrs)

    def _read_log(self, container: Container, stream: Stream, tail: int, since: datetime | None) -> LineReader:
        """One stream's newest lines, read as the engine sends them (never the whole log in memory)."""
        reader = LineReader(tail, stream)
        try:
            output = container.logs(
                stdout=stream == "stdout",
                stderr=stream == "stderr",
                timestamps=True,
                tail=tail,
                since=_whole_seconds(since),  # the engine takes seconds: `render` drops the earlier lines
                stream=True,
                follow=False,
            )
            try:
                for chunk in output:
                    reader.feed(chunk)
            finally:
                output.close()
        except NotFound:
            raise ContainerNotFound(f"container {container.name} not found") from None
        except APIError as error:  # e.g. a log driver the engine cannot read back (none, syslog)
            raise RuntimeError(f"the engine cannot read this log: {error.explanation or error}") from None
        return reader

    def _find(self, prefix: str, name: str) -> Container:
        try:
            return self.client.containers.get(container_name(prefix, name))
        except NotFound:
            raise ContainerNotFound(f"container {container_name(prefix, name)} not found") from None

    @staticmethod
    def _info(container: Container) -> ContainerInfo:
        attrs = container.attrs
        labels = dict(attrs.get("Config", {}).get("Labels") or {})
        prefix = labels.get(PREFIX_LABEL, "")
        name = labels.get(NAME_LABEL) or (container.name or "").removeprefix(f"{prefix}-" if prefix else "")
        image = attrs.get("Config", {}).get("Image", "")
        image_name, image_tag = split_image(image)
        state = attrs.get("State", {})
        status = state.get("Status", "")
        command = [*(attrs.get("Config", {}).get("Entrypoint") or []), *(attrs.get("Config", {}).get("Cmd") or [])]
        return ContainerInfo(
            prefix=prefix,
            name=name,
            state=_STATES.get(status, "waiting"),
            reason=status if status not in _STATES else (state.get("Error") or None),
            image_name=image_name,
            image_tag=image_tag,
            command=" ".join(command),
            created_at=_created(attrs.get("Created")),
            ports=_ports(attrs),
            labels=labels,
        )


def _whole_seconds(since: datetime | None) -> int | None:
    seconds = int(since.timestamp()) if since is not None else 0
    return seconds if seconds > 0 else None


def _environment(attrs: dict[str, Any]) -> list[tuple[str, str]]:
    """`Config.Env` (`KEY=value` strings) as pairs, in order."""
    return [
        (key, value) for key, _, value in (item.partition("=") for item in attrs.get("Config", {}).get("Env") or [])
    ]


def _secret_keys(labels: dict[str, str]) -> set[str]:
    return {key for key in labels.get(SECRET_KEYS_LABEL, "").split(",") if key}


def _secret_values(attrs: dict[str, Any]) -> list[str]:
    """The values of the container's secret variables (to mask them; never reported)."""
    keys = _secret_keys(attrs.get("Config", {}).get("Labels") or {})
    return [value for key, value in _environment(attrs) if key in keys]


def _inspection(info: ContainerInfo, attrs: dict[str, Any]) -> ContainerInspection:
    """The curated inspection of a container: the engine's dump holds secret values in clear."""
    state = attrs.get("State") or {}
    health = (state.get("Health") or {}).get("Status")
    return inspection.fit(
        ContainerInspection(
            prefix=info.prefix,
            name=info.name,
            state=info.state,
            status=state.get("Status", ""),
            exit_code=state.get("ExitCode") if info.state == "exited" else None,
            error=state.get("Error") or None,
            started_at=_created(state.get("StartedAt")),
            finished_at=_created(state.get("FinishedAt")),
            image=attrs.get("Config", {}).get("Image", ""),
            image_id=attrs.get("Image", ""),
            created_at=info.created_at,
            restart_count=int(attrs.get("RestartCount") or 0),
            health=health if health in ("starting", "healthy", "unhealthy") else None,
            ports=info.ports,
            labels=info.labels,
            mounts=[_mount(mount) for mount in attrs.get("Mounts") or []],
            environment=inspection.environment(_environment(attrs), _secret_keys(info.labels)),
        )
    )


def _mount(mount: dict[str, Any]) -> ContainerMount:
    kind = mount.get("Type", "")
    return ContainerMount(
        type=kind,
        source=(mount.get("Name") if kind == "volume" else mount.get("Source")) or "",
        destination=mount.get("Destination", ""),
        read_only=not mount.get("RW", True),
    )


def _created(value: str | None) -> datetime | None:
    """The engine's RFC 3339 time (nanoseconds cut to microseconds); its zero time (never) is None."""
    if not value or value.startswith("0001-01-01"):
        return None
    trimmed = value.rstrip("Z")
    if "." in trimmed:
        seconds, fraction = trimmed.split(".", 1)
        trimmed = f"{seconds}.{fraction[:6]}"
    return datetime.fromisoformat(trimmed + "+00:00")


def _ports(attrs: dict[str, Any]) -> list[ContainerPort]:
    """The published ports of a running container; a stopped one has none: what it was configured with."""
    found: dict[int, int | None] = {}
    for spec, bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).items():
        internal = _internal_port(spec)
        found[internal] = found.get(internal) or _host_port(bindings)  # 80/tcp and 80/udp are one port
    if not found:
        configured = (attrs.get("HostConfig") or {}).get("PortBindings") or {}
        found = {_internal_port(spec): _host_port(bindings) for spec, bindings in configured.items()}
    return [ContainerPort(internal=i, external=e) for i, e in sorted(found.items())]


def _internal_port(spec: str) -> int:
    """`8080/tcp` → 8080."""
    return int(spec.split("/", 1)[0])


def _host_port(bindings: list[dict[str, str]] | None) -> int | None:
    return next((int(b["HostPort"]) for b in bindings or [] if b.get("HostPort")), None)
