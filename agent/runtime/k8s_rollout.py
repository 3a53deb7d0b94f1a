"""Waiting for a workload's rollout on Kubernetes, so that a deploy reports what the cluster did.

Once a workload's objects are applied, it counts as deployed when its Deployment has rolled out as
`kubectl rollout status` decides: the controller has observed the new generation, every replica
runs the new pod template, no old one is left and all are available. The agent polls the API
server with growing pauses: the Deployment, then the pods of this deploy (told from the previous
deploy's by the pod template's `restartedAt` annotation, which every deploy sets). It stops early
when such a pod shows a problem that waiting does not cure: an init container (`config-loader`,
`import`, the config's own) that exited non-zero, an image that cannot be pulled, a main container
that exited (crash-looping or not), a container the kubelet cannot create. At the workload's
timeout (the expected state's, default 120 s, also the Deployment's `progressDeadlineSeconds`) it
fails with what the pod last showed: its phase, the conditions holding it back, its containers'
states and its last warning event (a readiness probe's failure, say). A failing container's last
log lines are added where the agent may read pod logs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from kubernetes.client import (
    AppsV1Api,
    CoreV1Api,
    CoreV1Event,
    V1ContainerStateTerminated,
    V1ContainerStatus,
    V1Deployment,
    V1DeploymentStatus,
    V1Pod,
    V1PodStatus,
)
from kubernetes.client.exceptions import ApiException

from agent.runtime.k8s_objects import RESTARTED_AT

# Waiting reasons that more waiting does not cure: the kubelet retries, with back-off, the same way.
STUCK = frozenset(
    {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "ErrImageNeverPull",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
        "CrashLoopBackOff",
    }
)
# Pod conditions that only sum up the containers' states, which the description names one by one.
CONTAINER_CONDITIONS = frozenset({"Initialized", "ContainersReady", "Ready", "PodReadyToStartContainers"})
LOG_LINES = 10
LINE_CHARS = 300
Verdict = Literal["done", "waiting", "stalled"]


@dataclass(frozen=True)
class Target:
    """One applied workload: its Deployment, the stamp its pods carry and the seconds they have."""

    namespace: str
    name: str
    stamp: str
    timeout: int


@dataclass(frozen=True)
class Failure:
    """Why a rollout will not finish: one line for the log and the container-state event's reason, the
    state that event reports (`exited`: the container ran and stopped; `waiting`: it never ran or never
    became ready) and the failing container's last output."""

    state: Literal["exited", "waiting"]
    reason: str
    output: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Crash:
    """A container of one of this deploy's pods that will not get better; `previous`: the run that
    failed is the one before the current (whose log the API serves with `previous=true`)."""

    pod: str
    container: str
    previous: bool
    failure: Failure


# A container's lasting problem, if it shows one, and whether it showed in its previous run.
_Check = Callable[[V1ContainerStatus], "tuple[Failure, bool] | None"]


def rollout_status(deployment: V1Deployment) -> tuple[Verdict, str]:
    """kubectl's verdict on a Deployment's rollout (`kubectl rollout status`), and what it waits for."""
    status = deployment.status or V1DeploymentStatus()
    if _generation(deployment) > (status.observed_generation or 0):
        return "waiting", "the Deployment controller has not seen the new spec yet"
    if _stalled(status):
        return "stalled", "the Deployment exceeded its progress deadline"
    spec = deployment.spec
    return _replicas_verdict(spec.replicas if spec else None, status)


def _generation(deployment: V1Deployment) -> int:
    return (deployment.metadata.generation if deployment.metadata else None) or 0


def _stalled(status: V1DeploymentStatus) -> bool:
    """The controller gave up on the rollout's progress (the Deployment's progressDeadlineSeconds)."""
    progressing = [c for c in status.conditions or [] if c.type == "Progressing"]
    return any(c.reason == "ProgressDeadlineExceeded" for c in progressing)


def _replicas_verdict(replicas: int | None, status: V1DeploymentStatus) -> tuple[Verdict, str]:
    """Every wanted replica updated, no old one left, every updated one available."""
    wanted = 1 if replicas is None else replicas
    updated, total, available = status.updated_replicas or 0, status.replicas or 0, status.available_replicas or 0
    if updated < wanted:
        return "waiting", f"{updated} of {wanted} new replicas have been updated"
    if total > updated:
        return "waiting", f"{total - updated} old replicas are pending termination"
    if available < updated:
        return "waiting", f"{available} of {updated} updated replicas are available"
    return "done", f"{available} of {wanted} replicas available"


def pod_crash(pod: V1Pod, main: str) -> _Crash | None:
    """The first container of the pod (init containers first, in order) that shows a lasting problem."""
    if pod.status is None or pod.metadata is None:
        return None
    for container, failure_of in _checks(pod.status, main):
        found = failure_of(container)
        if found:
            return _Crash(pod.metadata.name or "", container.name, found[1], found[0])
    return None


def _checks(status: V1PodStatus, main: str) -> list[tuple[V1ContainerStatus, _Check]]:
    """The pod's containers in the order they run, each with the check for its kind."""
    checks: list[tuple[V1ContainerStatus, _Check]] = [(c, _init_failure) for c in status.init_container_statuses or []]
    return checks + [(c, _main_failure) for c in status.container_statuses or [] if c.name == main]


def _ended(container: V1ContainerStatus) -> tuple[V1ContainerStateTerminated, bool] | None:
    """The container's last termination, and whether it is a previous run's (it has restarted since)."""
    if container.state and container.state.terminated:
        return container.state.terminated, False
    if container.last_state and container.last_state.terminated:
        return container.last_state.terminated, True
    return None


def _waiting(container: V1ContainerStatus) -> tuple[str, str]:
    """The reason and message the container waits with ('' when it does not wait)."""
    waiting = container.state.waiting if container.state else None
    return (waiting.reason or "", waiting.message or "") if waiting else ("", "")


def _init_failure(container: V1ContainerStatus) -> tuple[Failure, bool] | None:
    """An init container that exited non-zero (its restarts fail the same way) or cannot be started."""
    ended = _ended(container)
    if ended and ended[0].exit_code != 0:
        said = f" ({ended[0].reason})" if ended[0].reason not in (None, "Error") else ""
        return Failure(
            "waiting", f"init container {container.name} exited with code {ended[0].exit_code}{said}"
        ), ended[1]
    reason, message = _waiting(container)
    if reason in STUCK:
        return Failure("waiting", f"init container {container.name}: {_said(reason, message)}"), False
    return None


def _main_failure(container: V1ContainerStatus) -> tuple[Failure, bool] | None:
    """The container exited (a Deployment's container must keep running: it is restarted, and its
    restarts end in CrashLoopBackOff), or it cannot be started (its image cannot be pulled)."""
    ended = _ended(container)
    reason, message = _waiting(container)
    if ended:
        code, why = ended[0].exit_code, ended[0].reason
        said = f" ({why})" if why not in (None, "Error") else ""
        loop = f"{reason}: " if reason == "CrashLoopBackOff" else ""
        return Failure("exited", f"{loop}the container exited with code {code}{said}"), ended[1]
    if reason in STUCK:
        return Failure("waiting", _said(reason, message)), False
    return None


def _said(reason: str, message: str) -> str:
    return f"{reason} ({_line(message)})" if message else reason


def _line(text: str) -> str:
    return " ".join(text.split())[:LINE_CHARS]


class Rollout:
    """Polls the API server until a workload's rollout is done, cannot finish, or runs out of time."""

    def __init__(self, core: CoreV1Api, apps: AppsV1Api, first_pause: float, most_pause: float) -> None:
        self.core, self.apps = core, apps
        self.first_pause, self.most_pause = first_pause, most_pause

    def wait(self, target: Target) -> Failure | None:
        """None once the rollout is done; else why it failed (early, or at the target's timeout)."""
        deadline = time.monotonic() + target.timeout
        pause = self.first_pause
        while True:
            deployment = self.apps.read_namespaced_deployment(target.name, target.namespace)
            verdict, said = rollout_status(deployment)
            if verdict == "done":
                return None
            pods = self._pods(target)
            crash = next((c for c in (pod_crash(p, target.name) for p in pods) if c), None)
            if crash:
                return Failure(crash.failure.state, crash.failure.reason, self._output(target.namespace, crash))
            left = deadline - time.monotonic()
            if verdict == "stalled" or left <= 0:
                return self._timed_out(target, verdict, said, pods, deployment)
            time.sleep(min(pause, left))
            pause = min(pause * 2, self.most_pause)

    def _pods(self, target: Target) -> list[V1Pod]:
        """This deploy's pods (their template's restartedAt is this deploy's), not those being deleted."""
        found = self.core.list_namespaced_pod(target.namespace, label_selector=f"app={target.name}").items
        return [
            pod
            for pod in found
            if pod.metadata
            and not pod.metadata.deletion_timestamp
            and (pod.metadata.annotations or {}).get(RESTARTED_AT) == target.stamp
        ]

    def _output(self, namespace: str, crash: _Crash) -> tuple[str, ...]:
        """The failing run's last log lines; none where the agent may not read pod logs."""
        try:
            text = self.core.read_namespaced_pod_log(
                crash.pod, namespace, container=crash.container, tail_lines=LOG_LINES * 2, previous=crash.previous
            )
        except ApiException:
            return ()
        lines = [f"{crash.container} | {line.rstrip()[:LINE_CHARS]}" for line in text.splitlines() if line.strip()]
        return tuple(lines[-LOG_LINES:])

    def _timed_out(
        self, target: Target, verdict: Verdict, said: str, pods: list[V1Pod], deployment: V1Deployment
    ) -> Failure:
        """What the pod last showed (or, with no pod yet, what the Deployment says) when time ran out."""
        if verdict == "stalled":
            head = f"the rollout exceeded its progress deadline ({target.timeout} s)"
        else:
            head = f"not available within {target.timeout} s"
        if not pods:
            return Failure("waiting", f"{head}: no pod of this deploy yet; {said}{_replica_failure(deployment)}")
        pod = pods[-1]
        shown = "; ".join([describe_pod(pod, target.name), *self._last_warning(target.namespace, pod)])
        return Failure("waiting", f"{head}: {shown}")

    def _last_warning(self, namespace: str, pod: V1Pod) -> list[str]:
        """The pod's newest Warning event (a failing probe, a scheduling failure); none if unreadable."""
        name = pod.metadata.name if pod.metadata else None
        try:
            events = self.core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}").items
        except ApiException:
            return []
        warnings = [e for e in events if e.type == "Warning"]
        if not warnings:
            return []
        last = max(warnings, key=_when)
        return [f"last warning: {last.reason}: {_line(last.message or '')}"]


def _when(event: CoreV1Event) -> datetime:
    return event.last_timestamp or event.event_time or datetime.min.replace(tzinfo=UTC)


def _replica_failure(deployment: V1Deployment) -> str:
    """Why the Deployment's ReplicaSet could not create a pod (a quota, an admission webhook)."""
    conditions = deployment.status.conditions if deployment.status else None
    failed = [c for c in conditions or [] if c.type == "ReplicaFailure" and c.status == "True"]
    return "".join(f"; {c.reason}: {_line(c.message or '')}" for c in failed)


def describe_pod(pod: V1Pod, main: str) -> str:
    """The pod in one line: its phase, the conditions holding it back, its unfinished containers."""
    status = pod.status
    name = pod.metadata.name if pod.metadata else "?"
    if status is None:
        return f"pod {name}: no status yet"
    shown = ", ".join([*_held(status), *_containers(status, main)] or ["no container has started"])
    return f"pod {name} is {status.phase or 'Unknown'}: {shown}"


def _containers(status: V1PodStatus, main: str) -> list[str]:
    """The init containers not yet done and the container, each with its state."""
    inits = [f"init container {_state(c)}" for c in status.init_container_statuses or [] if not _completed(c)]
    return inits + [f"container {_state(c)}" for c in status.container_statuses or [] if c.name == main]


def _held(status: V1PodStatus) -> list[str]:
    """The pod's conditions that hold it back, beyond its containers' states (a scheduling failure)."""
    return [
        f"{c.type} {c.reason or c.status}: {_line(c.message)}"
        for c in status.conditions or []
        if c.status == "False" and c.message and c.type not in CONTAINER_CONDITIONS
    ]


def _completed(container: V1ContainerStatus) -> bool:
    terminated = container.state.terminated if container.state else None
    return terminated is not None and terminated.exit_code == 0


def _state(container: V1ContainerStatus) -> str:
    state = container.state
    if state and state.running:
        return f"{container.name} running{'' if container.ready else ', not ready'}"
    if state and state.terminated:
        return f"{container.name} exited with code {state.terminated.exit_code}"
    reason, message = _waiting(container)
    return f"{container.name} waiting ({_said(reason, message)})" if reason else f"{container.name} waiting"
