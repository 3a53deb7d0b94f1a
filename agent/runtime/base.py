"""What every runtime offers the agent's command loop.

Containers are addressed by prefix and name: on Docker the container `<prefix>-<name>`
labelled `org.dyrectorio.container.prefix=<prefix>`; on Kubernetes the Deployment `<name>`
in the namespace `<prefix>`. Every operation is idempotent: commands are delivered at least
once, so a repeated start, stop or delete must be harmless (reading a log or inspecting is).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from chalicelib.contracts.agent import ContainerInfo, ContainerInspection, ContainerLog, Deploy, DeploymentEvent

PREFIX_LABEL = "org.dyrectorio.container.prefix"
NAME_LABEL = "org.dyrectorio.container.name"

# Sends a batch of deployment events to the platform (buffered, in order).
Report = Callable[[list[DeploymentEvent]], None]
# Opens a value sealed to this agent's public key.
OpenSealed = Callable[[str], str]


class ContainerNotFound(LookupError):
    """The addressed container does not exist on this node."""


class Runtime(Protocol):
    def list_containers(self, prefix: str | None) -> list[ContainerInfo]: ...

    def container_command(self, prefix: str, name: str, operation: str) -> None:
        """`start`, `stop` or `restart` one container."""

    def delete_container(self, prefix: str, name: str) -> None: ...

    def delete_prefix(self, prefix: str) -> None: ...

    def container_log(self, prefix: str, name: str, tail: int, since: datetime | None) -> ContainerLog:
        """The newest `tail` lines (since `since`), bounded and with secret values masked (`container_logs`)."""

    def inspect_container(self, prefix: str, name: str) -> ContainerInspection:
        """State, image, ports, labels, mounts, restarts, health and environment, secret values masked."""

    def deploy(self, request: Deploy, report: Report, open_sealed: OpenSealed) -> bool:
        """Deploys every workload in order, reporting as it goes; True when all reached their expected state."""


def split_image(image: str) -> tuple[str, str]:
    """`host:5000/acme/web:1.0` → (`host:5000/acme/web`, `1.0`); no tag → `latest`.

    Lives here, not in a runtime, because both runtimes need it and neither may import the other's SDK.
    """
    if "@" in image:
        image = image.split("@", 1)[0]
    head, sep, tag = image.rpartition(":")
    if sep and "/" not in tag:
        return head, tag
    return image, "latest"
