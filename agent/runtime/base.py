"""What every runtime offers the agent's command loop.

Containers are addressed by prefix and name: on Docker the container `<prefix>-<name>`
labelled `org.dyrectorio.container.prefix=<prefix>`; on Kubernetes the Deployment `<name>`
in the namespace `<prefix>`. Every operation is idempotent: commands are delivered at least
once, so a repeated start, stop or delete must be harmless.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.contracts.agent import ContainerInfo

PREFIX_LABEL = "org.dyrectorio.container.prefix"
NAME_LABEL = "org.dyrectorio.container.name"


class ContainerNotFound(LookupError):
    """The addressed container does not exist on this node."""


class Runtime(Protocol):
    def list_containers(self, prefix: str | None) -> list[ContainerInfo]: ...

    def container_command(self, prefix: str, name: str, operation: str) -> None:
        """`start`, `stop` or `restart` one container."""

    def delete_container(self, prefix: str, name: str) -> None: ...

    def delete_prefix(self, prefix: str) -> None: ...
