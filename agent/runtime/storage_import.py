"""Storage import on Docker (dyrector §6 item 9): a bucket's files copied into a volume before its container starts.

What the import runs — `rclone sync s3:<bucket> /data/output`, the remote and a private storage's
keys in its environment — is `storage_sync`'s, shared with the Kubernetes runtime. Here it is the
container `<container>-import`, with the volume that `storage.path` names mounted at `/data/output`,
run before the container is created, so the volume then holds exactly the bucket's files (sync also
removes files the bucket no longer has). It must exit 0; otherwise its last output lines go into
the deployment log and the deployment fails. It is removed either way. The image is the node's
`RCLONE_IMAGE`; `RCLONE_NETWORK=host` runs the import on the host's network for endpoints only
the host reaches (the import also resolves `host.docker.internal` to the host, as containers do).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from docker import DockerClient
from docker.errors import NotFound

from agent.runtime.base import NAME_LABEL, PREFIX_LABEL, Report
from agent.runtime.docker_images import ImageUnavailable, ensure_local
from agent.runtime.docker_spec import DeployError
from agent.runtime.storage_sync import TARGET, Sync
from chalicelib.contracts.agent import DeploymentEvent

TIMEOUT_SECONDS = 600
OUTPUT_LINES = 20


@dataclass(frozen=True)
class ImportSpec:
    """The import container of one workload: what `run_import` asks the engine for."""

    name: str  # `<prefix>-<name>-import`
    short_name: str  # `<name>-import`, the name label (the node lists it under the prefix)
    prefix: str
    image: str
    command: list[str]
    environment: dict[str, str]
    volume: str  # the container's volume (its engine name or host path), mounted at TARGET
    network_mode: str | None

    @property
    def labels(self) -> dict[str, str]:
        return {PREFIX_LABEL: self.prefix, NAME_LABEL: self.short_name}


def import_spec(
    *, prefix: str, name: str, container: str, sync: Sync, volumes: dict[str, str], network_mode: str | None
) -> ImportSpec:
    """The import for the workload `name` (engine name `container`) whose config volumes map to
    `volumes` (config name → engine name); `sync.volume` is the config's `storage.path`."""
    source = volumes.get(sync.volume or "")
    if source is None:
        known = ", ".join(sorted(volumes)) or "none"
        raise DeployError(
            f"storage.path {sync.volume!r} names no persistent volume of the container (its volumes: {known})"
        )
    return ImportSpec(
        name=f"{container}-import",
        short_name=f"{name}-import",
        prefix=prefix,
        image=sync.image,
        command=sync.args,
        environment=sync.environment,
        volume=source,
        network_mode=network_mode,
    )


def run_import(client: DockerClient, spec: ImportSpec, report: Report) -> None:
    """Runs the import to completion; a failure raises DeployError after logging its output."""
    with contextlib.suppress(NotFound):  # left by an agent that died mid-import
        client.containers.get(spec.name).remove(force=True)
    try:
        ensure_local(client, spec.image)
    except ImageUnavailable as error:
        raise DeployError(f"storage import: {error}") from None
    report([_log(f"{spec.short_name}: importing {spec.command[1]} into the volume {spec.volume}")])
    container = client.containers.run(
        spec.image,
        spec.command,
        name=spec.name,
        detach=True,
        environment=spec.environment,
        labels=spec.labels,
        volumes={spec.volume: {"bind": TARGET, "mode": "rw"}},
        network_mode=spec.network_mode,
        extra_hosts={"host.docker.internal": "host-gateway"},
    )
    try:
        code = container.wait(timeout=TIMEOUT_SECONDS).get("StatusCode")
    except Exception as error:  # noqa: BLE001 - requests' timeout or an engine error
        code, reason = None, f"did not finish in {TIMEOUT_SECONDS} s ({type(error).__name__})"
    else:
        reason = f"exited with {code}"
    finally:
        output = container.logs(tail=OUTPUT_LINES).decode(errors="replace").strip()
        container.remove(force=True)
    if code != 0:
        lines = [line for line in output.splitlines() if line.strip()] or ["(no output)"]
        report([_log(*(f"{spec.short_name}: {line}" for line in lines), level="error")])
        raise DeployError(f"the storage import {reason}")


def _log(*lines: str, level: str = "info") -> DeploymentEvent:
    return DeploymentEvent(type="log", log=list(lines), level=level)
