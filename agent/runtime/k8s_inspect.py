"""A Deployment and its pod as a container's inspection (pure: the client's models in, the contract out).

The "container" is the Deployment (dyrector §5.6); what only a running container knows (state detail,
restarts, health, image id, start time) comes from its current pod's status of the Deployment's
container. The current pod (`current_pod`, whose log is the container's log too) is the newest of the
Deployment's current pod template: during a rollout the previous deploy's pod serves on (RollingUpdate)
until the new one is ready, but the new one is what the container now is, and shows why it is not ready.
Health is the readiness of a container that has a probe: ready is `healthy`, not yet started
`starting`, otherwise `unhealthy`; without a probe there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.runtime import inspection
from agent.runtime.k8s_objects import RESTARTED_AT
from chalicelib.contracts.agent import (
    ContainerInspection,
    ContainerMount,
    ContainerPort,
    ContainerStateName,
    EnvironmentVariable,
)

# Pod volume sources, as the client's model names them → their name in the API, and what names the source.
_SOURCES = (
    ("persistent_volume_claim", "persistentVolumeClaim", "claim_name"),
    ("config_map", "configMap", "name"),
    ("secret", "secret", "secret_name"),
    ("host_path", "hostPath", "path"),
    ("empty_dir", "emptyDir", None),
)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Detail:
    status: str
    exit_code: int | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


def build(
    deployment: Any, pod: Any, state: ContainerStateName, environment: list[EnvironmentVariable]
) -> ContainerInspection:
    meta, spec = deployment.metadata, deployment.spec
    container = spec.template.spec.containers[0]
    status = container_status(pod, container.name)
    detail = _detail(status, spec.replicas)
    return inspection.fit(
        ContainerInspection(
            prefix=meta.namespace,
            name=meta.name,
            state=state,
            status=detail.status,
            exit_code=detail.exit_code,
            error=detail.error,
            started_at=detail.started_at,
            finished_at=detail.finished_at,
            image=container.image or "",
            image_id=(status.image_id if status else "") or "",
            created_at=meta.creation_timestamp,
            restart_count=(status.restart_count if status else 0) or 0,
            health=_health(container, status),
            ports=[ContainerPort(internal=p.container_port) for p in container.ports or []],
            labels=dict(meta.labels or {}),
            mounts=_mounts(container, spec.template.spec.volumes or []),
            environment=environment,
        )
    )


def current_pod(deployment: Any, pods: list[Any]) -> Any:
    """The Deployment's pod that stands for its container (None without one): of its pods not going away
    (all of them when every one is), one of the current pod template first (its `restartedAt`, which every
    deploy and restart sets, is the Deployment's), then a ready one, then the newest. So the previous
    deploy's pod, still serving during a rollout, is only taken until the new one exists."""
    template = deployment.spec.template
    stamp = (template.metadata.annotations or {}).get(RESTARTED_AT) if template.metadata else None
    main = template.spec.containers[0].name

    def rank(pod: Any) -> tuple[bool, bool, bool, datetime]:
        status = container_status(pod, main)
        return (
            pod.metadata.deletion_timestamp is None,
            (pod.metadata.annotations or {}).get(RESTARTED_AT) == stamp,
            bool(status and status.ready),
            pod.metadata.creation_timestamp or _EPOCH,
        )

    return max(pods, key=rank, default=None)


def container_status(pod: Any, name: str) -> Any:
    """The pod's status of the container `name` (None without a pod or before it was scheduled)."""
    statuses = (pod.status.container_statuses or []) if pod is not None and pod.status else []
    return next((s for s in statuses if s.name == name), None)


def _detail(status: Any, replicas: int | None) -> _Detail:
    state = status.state if status is not None else None
    if state is None:
        return _Detail("scaled to 0" if replicas == 0 else "no pod running")
    if state.running is not None:
        return _Detail("running", started_at=state.running.started_at)
    if state.terminated is not None:
        return _ended(state.terminated)
    waiting = state.waiting
    return _Detail((waiting.reason if waiting else None) or "waiting", error=(waiting.message if waiting else None))


def _ended(terminated: Any) -> _Detail:
    return _Detail(
        terminated.reason or "terminated",
        exit_code=terminated.exit_code,
        error=terminated.message or None,
        started_at=terminated.started_at,
        finished_at=terminated.finished_at,
    )


def _health(container: Any, status: Any) -> str | None:
    if not (container.readiness_probe or container.liveness_probe or container.startup_probe) or status is None:
        return None
    if status.ready:
        return "healthy"
    return "starting" if status.started is False else "unhealthy"


def _mounts(container: Any, volumes: list[Any]) -> list[ContainerMount]:
    by_name = {volume.name: volume for volume in volumes}
    return [
        ContainerMount(
            **_source(by_name.get(mount.name), mount.name),
            destination=mount.mount_path,
            read_only=bool(mount.read_only),
        )
        for mount in container.volume_mounts or []
    ]


def _source(volume: Any, name: str) -> dict[str, str]:
    for attribute, kind, names in _SOURCES:
        source = getattr(volume, attribute, None) if volume is not None else None
        if source is not None:
            return {"type": kind, "source": (getattr(source, names) or "") if names else ""}
    return {"type": "volume", "source": name}
