"""The Docker runtime: containers `<prefix>-<name>` on the local engine, through the `docker` SDK.

Containers the platform manages carry the prefix and name labels, so a prefix is found by
label, not by parsing names. dyrector's state mapping applies: created, restarting, removing
and paused are `waiting`; exited and dead are `exited`.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

import docker
from docker.errors import NotFound
from docker.models.containers import Container

from agent.runtime import docker_deploy
from agent.runtime.base import NAME_LABEL, PREFIX_LABEL, ContainerNotFound, OpenSealed, Report, split_image
from agent.settings import DockerSettings
from chalicelib.contracts.agent import ContainerInfo, ContainerPort, Deploy
from chalicelib.contracts.naming import container_name

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


def _created(value: str | None) -> datetime | None:
    if not value:
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
