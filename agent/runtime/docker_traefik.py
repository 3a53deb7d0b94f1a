"""The Traefik a Docker node's agent runs itself when `TRAEFIK_ENABLED` (dyrector §6 item 11).

As dagent starts it: one container (`traefik` by default) on the host network, restarted
always, watching the engine through its socket with the Docker provider, routing only the
containers that opt in (`traefik.enable=true`, written by `traefik.routing_labels`). With TLS
its ACME account and certificates live in the named volume `<container>-letsencrypt`, so they
survive a restart of the agent or of Traefik.

Started at every agent start, idempotently: a running container with the same settings (their
digest is a label) is left alone, a stopped one is started, a different one is replaced. A
Traefik that exits at once (its port taken, say) stops the agent with its last log lines.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time

from docker import DockerClient
from docker.errors import NotFound
from docker.models.containers import Container

from agent.runtime.docker_images import ensure_local
from agent.runtime.traefik import traefik_arguments
from agent.settings import TraefikSettings

CONFIG_LABEL = "org.dyrectorio.traefik.config"
SETTLE_SECONDS = 1.0  # long enough for Traefik to fail binding its entrypoints


class TraefikFailed(RuntimeError):
    """The agent's Traefik did not stay up; the message carries its last log lines."""


def ensure_traefik(client: DockerClient, settings: TraefikSettings) -> Container:
    """The node's Traefik container, running with `settings`."""
    arguments = traefik_arguments(
        port=settings.port,
        tls=settings.tls,
        tls_port=settings.tls_port,
        acme_email=settings.acme_email,
        log_level=settings.log_level,
    )
    volumes = {settings.docker_socket: {"bind": "/var/run/docker.sock", "mode": "ro"}}
    if settings.tls:
        volumes[f"{settings.container_name}-letsencrypt"] = {"bind": "/letsencrypt", "mode": "rw"}
    digest = hashlib.sha256(json.dumps([settings.image, arguments, volumes], sort_keys=True).encode()).hexdigest()
    container = _current(client, settings.container_name, digest)
    if container is None:
        ensure_local(client, settings.image)
        container = client.containers.create(
            settings.image,
            arguments,
            name=settings.container_name,
            network_mode="host",
            restart_policy={"Name": "always"},
            volumes=volumes,
            labels={CONFIG_LABEL: digest},
            extra_hosts={"host.docker.internal": "host-gateway"},
        )
    if container.status != "running":
        container.start()
        _settle(container)
    return container


def _current(client: DockerClient, name: str, digest: str) -> Container | None:
    """The existing container if it has these settings; a different one is removed."""
    try:
        container = client.containers.get(name)
    except NotFound:
        return None
    if container.labels.get(CONFIG_LABEL) == digest:
        return container
    with contextlib.suppress(NotFound):
        container.remove(force=True)
    return None


def _settle(container: Container) -> None:
    time.sleep(SETTLE_SECONDS)
    container.reload()
    if container.status != "running" or container.attrs["RestartCount"]:
        output = container.logs(tail=20).decode(errors="replace").strip()
        raise TraefikFailed(f"Traefik ({container.name}) did not stay up: {output[-1000:]}")
