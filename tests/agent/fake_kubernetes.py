"""A small stateful stand-in for a Kubernetes API server: the few paths the agent uses, over
real HTTP, so the official client's URLs, serialization and status codes are exercised.

Objects are kept per (group/version, namespace, plural, name); POST creates (409 if present),
GET reads or lists (labelSelector terms `key` or `key=value`, comma-separated, all of which must
match), PATCH merges, DELETE removes (a namespace takes its objects with it).

Deployments are rolled out as by the Deployment controller and the kubelet, step by step: a
write that changes a Deployment's spec bumps its `generation`, one that changes its pod template
starts a rollout, and every read of the Deployment is one step of the cluster. How the pods of
the next rollouts behave is the test's to say (`FakeKubernetes.pods`, a `Pods`): by default the
new generation is observed and its pod ready at once; else the controller may lag some reads,
the pod become ready after some reads or never (with a warning event: a failing readiness
probe), an init container exit non-zero, an image not pull, the container crash-loop. The pods,
their logs (`pods/<name>/log`) and their events (fieldSelector `involvedObject.name=`) are
served from that; a ready pod of the previous template stays until the new one is ready (the
RollingUpdate strategy), and the Deployment's status counts both as the controller would.

Pods are kept as the cluster keeps them: once the controller has observed a rollout, its pod
(`<name>-<hash of its template>-<serial>`) exists while the Deployment is scaled above 0 (scaling to 0
or deleting removes it with its log; scaling up again makes a new one). The simulation rewrites a
pod's status only when its own view of the pod changes, so a test may change a pod's status
(`pod_of` finds the Deployment's current pod) and the change stays. A pod's log is kept per
container: what `write_log` appends (to the main container's, by default) and what the plan says a
failing container printed. `GET …/pods/<pod>/log` serves it as the API server does: `container`,
`tailLines`, `sinceSeconds`, `timestamps` (RFC 3339 with nanoseconds), 400 while the container is
waiting (with `previous`: until it has terminated once; the stand-in keeps one log per container, so
`previous` serves the same lines) and 403 where the plan forbids reading logs.

Server-side apply (PATCH `application/apply-patch+yaml` with a `fieldManager`) creates a missing
object; on an existing one it first removes the fields the manager's previous apply set, then
merges the new body, so what a manager stops sending disappears, while fields others set (a
scale, status) stay. Lists count as one field (the real server merges some by key; with one
manager the result is the same). Every object created or applied must survive a round trip
through the official client's model of its kind, as the real server's strict field validation
would demand (timestamps compared as the client writes them back); a custom resource needs its CRD
(`install_crd`). So must every pod and event the stand-in makes up (a 500 says which did not).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from kubernetes.client import ApiClient

ROUTE = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+/[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<plural>[a-z]+))?(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)
KINDS = {
    "configmaps": "ConfigMap",
    "secrets": "Secret",
    "services": "Service",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "deployments": "Deployment",
    "ingresses": "Ingress",
    "namespaces": "Namespace",
    "servicemonitors": "ServiceMonitor",
    "customresourcedefinitions": "CustomResourceDefinition",
    "pods": "Pod",
    "events": "Event",
}
BUILT_IN = ("v1", "apps/v1", "networking.k8s.io/v1", "apiextensions.k8s.io/v1")
CRDS = ("apiextensions.k8s.io/v1", "", "customresourcedefinitions")
MODELS = {
    "Namespace": "V1Namespace",
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Deployment": "V1Deployment",
    "Service": "V1Service",
    "Ingress": "V1Ingress",
    "Pod": "V1Pod",
    "Event": "CoreV1Event",
}
APPLY_PATCH = "application/apply-patch+yaml"


def merge(target: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return target


def disown(target: dict, owned: dict) -> None:
    """Removes from `target` every field `owned` sets (a manager's previous apply); maps it empties go too."""
    for key, value in owned.items():
        if key not in target:
            continue
        if isinstance(value, dict) and isinstance(target[key], dict):
            disown(target[key], value)
            if not target[key]:
                del target[key]
        else:
            del target[key]


def schema_problem(body: dict) -> str | None:
    """Why the official client's model of the object's kind would not hold it as it is (None: it would)."""
    model = MODELS.get(body.get("kind", ""))
    if model is None:
        return None
    client = ApiClient()
    try:
        typed = client.deserialize(json.dumps(body), model, "application/json")
    except ValueError as error:  # pydantic's ValidationError: a required field missing, a wrong type
        return f"the {body['kind']} does not fit the {model} schema: {error}"
    if _normal(client.sanitize_for_serialization(typed)) != _normal(body):
        return f"the {body['kind']} does not match the {model} schema (an unknown or misplaced field)"
    return None


TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$")


def _normal(value: object) -> object:
    """`value` with its timestamps as the client writes them back (`+00:00` where the API server says `Z`)."""
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    if isinstance(value, str) and TIMESTAMP.match(value):
        return value[:-1] + "+00:00"
    return value


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selected(objects: dict, gv: str, ns: str, plural: str, selector: str) -> list[dict]:
    """The objects of a list call: one kind, in `ns` (all namespaces when empty), matching the selector."""
    return [
        o
        for (g, n, p, _), o in objects.items()
        if g == gv and p == plural and (not ns or n == ns) and _matches(o["metadata"].get("labels", {}), selector)
    ]


def _matches(labels: dict, selector: str) -> bool:
    """Whether the labels match every comma-separated term (`key` or `key=value`) of the selector."""
    terms = [term.partition("=") for term in selector.split(",") if term]
    return all(key in labels and (not value or labels[key] == value) for key, _, value in terms)


@dataclass(frozen=True)
class Pods:
    """How the pods of a Deployment's next rollouts behave, in reads of the Deployment (steps).

    `observed_after`: reads before the controller observes a new generation (until then the status
    is the previous one); `ready_after`: steps, once observed, before the new pod is ready (None:
    never, a readiness probe that fails, with `warning` as its event); `init_fails`: (init container,
    exit code): it exits so, and then crash-loops; `pull_fails`: the container (init or main) whose
    image cannot be pulled (ErrImagePull, then ImagePullBackOff); `crash`: the main container's exit
    code, then CrashLoopBackOff; `log`: what a failing container printed, in its log once the pod is
    made (None: reading the pod's logs is forbidden, as without the RBAC right); `unschedulable`: the
    scheduler's message for a pod no node can take (it stays Pending); `stalls`: the controller
    reports ProgressDeadlineExceeded.
    """

    observed_after: int = 0
    ready_after: int | None = 0
    init_fails: tuple[str, int] | None = None
    pull_fails: str | None = None
    crash: int | None = None
    log: str | None = ""
    warning: str | None = None
    unschedulable: str | None = None
    stalls: bool = False

    def fails(self) -> bool:
        return bool(self.init_fails or self.pull_fails or self.crash is not None or self.unschedulable)

    def failing(self, spec: dict) -> str | None:
        """The name of the container of a pod of `spec` the plan makes fail (None: none does)."""
        return (
            self.pull_fails
            or (self.init_fails or (None,))[0]
            or (spec["containers"][0]["name"] if self.crash is not None else None)
        )


@dataclass
class _Rollout:
    """One Deployment's current rollout: its plan, its pod template and the steps since it began."""

    plan: Pods
    template: dict
    generation: int
    stale: dict  # the status before this rollout, shown until the controller observes it
    old: dict | None = None  # the previous template's ready pod, while it stays
    steps: int = 0
    pod: dict | None = None  # its pod, once the controller made it (none while scaled to 0)
    simulated: dict | None = None  # the pod's status as the simulation last set it (a test may change it since)
    log_reads: list[tuple[str, bool]] = field(default_factory=list)  # (container, previous) per log read

    @property
    def observed(self) -> bool:
        return self.steps >= self.plan.observed_after

    @property
    def ready(self) -> bool:
        after = self.plan.ready_after
        return (
            self.observed
            and not self.plan.fails()
            and after is not None
            and self.steps - self.plan.observed_after >= after
        )

    @property
    def since(self) -> int:
        """Steps since the new pod appeared."""
        return self.steps - self.plan.observed_after


def _hash(template: dict) -> str:
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _status_of(deployment: dict, rollout: _Rollout) -> dict:
    """The Deployment's status as the controller reports it at this step."""
    if not rollout.observed:
        return rollout.stale
    wanted = deployment["spec"].get("replicas", 1)
    new_ready = 1 if rollout.ready and wanted else 0
    old = 1 if rollout.old is not None and wanted and not new_ready else 0
    progressing = (
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "timed out"}
        if rollout.plan.stalls
        else {
            "type": "Progressing",
            "status": "True",
            "reason": "NewReplicaSetAvailable" if new_ready else "ReplicaSetUpdated",
        }
    )
    return {
        "observedGeneration": rollout.generation,
        "replicas": wanted + old,
        "updatedReplicas": wanted,
        "readyReplicas": new_ready + old,
        "availableReplicas": new_ready + old,
        "conditions": [progressing],
    }


def _terminated(code: int) -> dict:
    return {"terminated": {"exitCode": code, "reason": "Error" if code else "Completed"}}


def _container_status(
    container: dict, state: dict, ready: bool = False, last: dict | None = None, restarts: int = 0
) -> dict:
    status = {
        "name": container["name"],
        "image": container["image"],
        "imageID": "",
        "ready": ready,
        "restartCount": restarts,
        "state": state,
    }
    if last:
        status["lastState"] = last
    return status


def _failing(container: dict, plan: Pods, step: int) -> dict:
    """The status of the container the plan makes fail, `step` steps after its pod appeared."""
    if plan.pull_fails == container["name"]:
        reason = "ErrImagePull" if step == 0 else "ImagePullBackOff"
        return _container_status(
            container, {"waiting": {"reason": reason, "message": f'Back-off pulling image "{container["image"]}"'}}
        )
    code = plan.crash if plan.crash is not None else (plan.init_fails or ("", 1))[1]
    if step == 0:
        return _container_status(container, _terminated(code))
    loop = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container={container['name']}",
        }
    }
    return _container_status(container, loop, last=_terminated(code), restarts=step)


def _pod_status(spec: dict, plan: Pods, step: int, ready: bool) -> dict:
    """The kubelet's view of a pod of the rollout: init containers in order, then the container."""
    if plan.unschedulable:
        unscheduled = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": plan.unschedulable,
        }
        return {"phase": "Pending", "conditions": [unscheduled]}
    failing = plan.failing(spec)
    names = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
    if failing and failing not in names:
        raise AssertionError(f"the pod has no container {failing!r} to fail (it has {names})")
    blocked = failing in [c["name"] for c in spec.get("initContainers", [])]
    inits, reached = [], False
    for init in spec.get("initContainers", []):
        if init["name"] == failing:
            inits.append(_failing(init, plan, step))
            reached = True
        elif reached:
            inits.append(_container_status(init, {"waiting": {"reason": "PodInitializing"}}))
        else:
            inits.append(_container_status(init, _terminated(0), ready=True))  # done, as the kubelet marks it
    main = spec["containers"][0]
    if blocked:
        container = _container_status(main, {"waiting": {"reason": "PodInitializing"}})
    elif failing:
        container = _failing(main, plan, step)
    else:
        container = _container_status(main, {"running": {}}, ready=ready)
    status = {
        "phase": "Pending" if blocked or plan.pull_fails == main["name"] else "Running",
        "conditions": [
            {"type": "PodScheduled", "status": "True"},
            _condition("Initialized", not blocked, "ContainersNotInitialized", "incomplete", inits),
            _condition("Ready", ready, "ContainersNotReady", "unready", [container]),
        ],
        "containerStatuses": [container],
    }
    if inits:
        status["initContainerStatuses"] = inits
    return status


def _condition(kind: str, true: bool, reason: str, adjective: str, containers: list[dict]) -> dict:
    """A pod condition as the kubelet words it; a False one names the containers holding it back."""
    if true:
        return {"type": kind, "status": "True"}
    names = " ".join(c["name"] for c in containers if not c["ready"])
    return {
        "type": kind,
        "status": "False",
        "reason": reason,
        "message": f"containers with {adjective} status: [{names}]",
    }


def _pod(namespace: str, template: dict, serial: int) -> dict:
    """A new pod of `template`, as the ReplicaSet makes it (its status comes from the simulation)."""
    digest = _hash(template)
    meta = template["metadata"]
    name = f"{meta['labels']['app']}-{digest}-{serial:05x}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-pod-{name}",
            "creationTimestamp": _now(),
            "labels": {**meta["labels"], "pod-template-hash": digest},
            "annotations": dict(meta.get("annotations", {})),
        },
        "spec": copy.deepcopy(template["spec"]),
        "status": {},
    }


def _with_details(status: dict, before: dict) -> dict:
    """The simulation's pod status with what the kubelet adds: the pod's start time once it is scheduled,
    an image id for each container that got its image, `started` and the start time of a running one
    (kept from `before`, the pod's previous status, while it keeps running)."""
    shown = copy.deepcopy(status)
    now = _now()
    if status["phase"] != "Pending" or "containerStatuses" in status:
        shown["startTime"] = before.get("startTime", now)
    earlier = {c["name"]: c for c in before.get("initContainerStatuses", []) + before.get("containerStatuses", [])}
    for container in shown.get("initContainerStatuses", []) + shown.get("containerStatuses", []):
        state = container["state"]
        if "waiting" not in state or "lastState" in container:
            container["imageID"] = f"{container['image']}@sha256:{'0' * 64}"
        container["started"] = "running" in state
        if "running" in state:
            was = earlier.get(container["name"], {}).get("state", {}).get("running", {})
            state["running"] = {"startedAt": was.get("startedAt", now)}
    return shown


def _log_line(at: datetime, line: bytes, stamped: bool) -> bytes:
    """A log line as the API server sends it (with `timestamps=true`: RFC 3339 with nanoseconds first)."""
    return (f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z ".encode() if stamped else b"") + line + b"\n"


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.applied: dict[tuple[tuple[str, str, str, str], str], dict] = {}  # (object, manager) → its last apply
        self.rollouts: dict[tuple[str, str, str, str], _Rollout] = {}  # Deployment → its current rollout
        self.plans: dict[tuple[str, str], Pods] = {}  # (namespace, Deployment) → how its next pods behave
        self.reads: dict[tuple[str, str], int] = {}  # (namespace, Deployment) → GETs of it
        self.logs: dict[tuple[str, str, str], list[tuple[datetime, bytes]]] = {}  # (namespace, pod, container)
        self.made = 0  # pods made, for their names
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": self}))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def get(self, plural: str, namespace: str, name: str) -> dict | None:
        return next((o for (gv, ns, p, n), o in self.objects.items() if (p, ns, n) == (plural, namespace, name)), None)

    def install_crd(self, name: str) -> None:
        """Makes the custom resource `<plural>.<group>` known, as installing its CRD does."""
        self.objects[(*CRDS, name)] = {
            "apiVersion": CRDS[0],
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name},
        }

    def known(self, gv: str, plural: str) -> bool:
        return gv in BUILT_IN or (*CRDS, f"{plural}.{gv.split('/')[0]}") in self.objects

    def names(self, plural: str, namespace: str) -> set[str]:
        return {n for (gv, ns, p, n) in self.objects if (p, ns) == (plural, namespace)}

    def stop(self) -> None:
        self.server.shutdown()

    # -- the cluster's side of Deployments ------------------------------------------------------
    def pods(self, namespace: str, name: str, plan: Pods) -> None:
        """The pods of the Deployment's next rollouts (the next pod template change on) behave as `plan` says."""
        self.plans[(namespace, name)] = plan

    def pod_of(self, namespace: str, deployment: str) -> dict | None:
        """The pod of the Deployment's current rollout (None before the controller made it, or when scaled to 0)."""
        rollout = next((r for k, r in self.rollouts.items() if (k[1], k[3]) == (namespace, deployment)), None)
        return rollout.pod if rollout else None

    def write_log(
        self, namespace: str, deployment: str, *lines: str | bytes, at: datetime | None = None, container: str = ""
    ) -> None:
        """Lines the Deployment's current pod writes (str as UTF-8), at `at` or now, to the log of `container`
        (by default its main one)."""
        pod = self.pod_of(namespace, deployment)
        assert pod is not None, f"{namespace}/{deployment} has no pod"
        name = container or pod["spec"]["containers"][0]["name"]
        entries = self.logs.setdefault((namespace, pod["metadata"]["name"], name), [])
        for line in lines:
            entries.append((at or datetime.now(UTC), line if isinstance(line, bytes) else line.encode()))

    def log_reads(self, namespace: str, name: str) -> list[tuple[str, bool]]:
        """(container, previous) of each log read of the Deployment's current rollout's pod."""
        return next(r.log_reads for k, r in self.rollouts.items() if (k[1], k[3]) == (namespace, name))

    def written(self, key: tuple[str, str, str, str], before: dict | None) -> None:
        """After a write of a Deployment: a changed spec is a new generation, a changed pod template a new
        rollout (the previous template's ready pod stays while the new one is not ready, with RollingUpdate)."""
        found = self.objects[key]
        spec = found["spec"]
        generation = int((before or {}).get("metadata", {}).get("generation", 0)) + int(
            spec != (before or {}).get("spec")
        )
        found["metadata"]["generation"] = generation
        previous = self.rollouts.get(key)
        if previous is None or spec["template"] != previous.template:
            rolling = spec.get("strategy", {}).get("type", "RollingUpdate") == "RollingUpdate"
            kept = (previous.pod if previous.ready else previous.old) if previous and rolling else None
            for pod in (previous.pod, previous.old) if previous else ():
                if pod is not None and pod is not kept:
                    self._remove(key[1], pod)
            plan = self.plans.get((key[1], key[3]), Pods())
            stale = copy.deepcopy(found.get("status", {}))
            self.rollouts[key] = _Rollout(plan, copy.deepcopy(spec["template"]), generation, stale, old=kept)
        self.rollouts[key].generation = generation
        self._sync(key)
        found["status"] = _status_of(found, self.rollouts[key])

    def step(self, key: tuple[str, str, str, str]) -> None:
        """One read of a Deployment: its cluster moves one step on."""
        self.reads[(key[1], key[3])] = self.reads.get((key[1], key[3]), 0) + 1
        rollout = self.rollouts.get(key)
        if rollout is not None:
            rollout.steps += 1
            self._sync(key)
            self.objects[key]["status"] = _status_of(self.objects[key], rollout)

    def _sync(self, key: tuple[str, str, str, str]) -> None:
        """The Deployment's pods at this step: none while it is scaled to 0; the rollout's pod once the
        controller observed it, its status rewritten where the simulation's view changed; the previous
        template's pod until the new one is ready."""
        rollout, namespace = self.rollouts[key], key[1]
        if not self.objects[key]["spec"].get("replicas", 1):
            for pod in (rollout.pod, rollout.old):
                if pod is not None:
                    self._remove(namespace, pod)
            rollout.pod = rollout.old = rollout.simulated = None
            return
        if rollout.observed and rollout.pod is None:
            self.made += 1
            rollout.pod = _pod(namespace, rollout.template, self.made)
            spec = rollout.template["spec"]
            failing = rollout.plan.failing(spec) or spec["containers"][0]["name"]
            printed = [line.encode() for line in (rollout.plan.log or "").splitlines()]
            if printed:
                now = datetime.now(UTC)
                self.logs[(namespace, rollout.pod["metadata"]["name"], failing)] = [(now, line) for line in printed]
        if rollout.pod is not None:
            status = _pod_status(rollout.template["spec"], rollout.plan, rollout.since, rollout.ready)
            if status != rollout.simulated:
                rollout.simulated = copy.deepcopy(status)
                rollout.pod["status"] = _with_details(status, rollout.pod["status"])
        if rollout.old is not None and rollout.observed and rollout.ready:
            self._remove(namespace, rollout.old)
            rollout.old = None

    def _remove(self, namespace: str, pod: dict) -> None:
        """A pod goes, and its log with it."""
        for logged in [k for k in self.logs if k[:2] == (namespace, pod["metadata"]["name"])]:
            del self.logs[logged]

    def forget(self, key: tuple[str, str, str, str]) -> None:
        """A deleted Deployment's rollout and pods go (its pods are the ReplicaSet's, which goes with it)."""
        rollout = self.rollouts.pop(key, None)
        for pod in (rollout.pod, rollout.old) if rollout else ():
            if pod is not None:
                self._remove(key[1], pod)

    def pod_list(self, namespace: str) -> list[tuple[dict, _Rollout | None]]:
        """The pods in the namespace, each with the rollout it is the new pod of (None: a previous template's)."""
        pods: list[tuple[dict, _Rollout | None]] = []
        for key, rollout in self.rollouts.items():
            if key[1] != namespace or key not in self.objects:
                continue
            pods += [(rollout.pod, rollout)] if rollout.pod is not None else []
            pods += [(rollout.old, None)] if rollout.old is not None else []
        return pods

    def events(self, namespace: str, pod_name: str) -> list[dict]:
        """A Warning event on a pod the plan gives a warning while it is not ready (a failing readiness probe)."""
        found = [(pod, rollout) for pod, rollout in self.pod_list(namespace) if pod["metadata"]["name"] == pod_name]
        return [
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{pod_name}.warning", "namespace": namespace},
                "involvedObject": {"kind": "Pod", "name": pod_name, "namespace": namespace},
                "type": "Warning",
                "reason": "Unhealthy",
                "message": rollout.plan.warning,
                "count": rollout.steps,
            }
            for pod, rollout in found
            if rollout and rollout.plan.warning and not rollout.ready
        ]


class _Handler(BaseHTTPRequestHandler):
    """The API server's answers; `fake` (set per server) holds the objects."""

    fake: FakeKubernetes

    def _send(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _status(self, code: int, reason: str) -> None:
        self._send(
            code,
            {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": reason,
                "code": code,
                "message": reason,
            },
        )

    def _route(self):
        url = urlparse(self.path)
        match = ROUTE.match(url.path)
        if not match:
            return None
        parts = match.groupdict()
        gv = parts["core"] or parts["group"]
        plural, ns, name = parts["plural"], parts["ns"] or "", parts["name"]
        if plural is None and parts["ns"]:  # /api/v1/namespaces/<name>
            plural, name, ns = "namespaces", parts["ns"], ""
        if parts["sub"]:  # pods/<name>/log
            plural = f"{plural}/{parts['sub']}"
        return gv, ns, plural, name, parse_qs(url.query)

    def _body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

    def do_POST(self):  # noqa: N802
        gv, ns, plural, _, _ = self._route()
        body = self._body()
        key = (gv, ns, plural, body["metadata"]["name"])
        problem = schema_problem(body)
        if problem:
            return self._status(400, problem)
        with self.fake.lock:
            if key in self.fake.objects:
                return self._status(409, "AlreadyExists")
            body["metadata"].update(namespace=ns or None, uid=f"uid-{len(self.fake.objects)}", creationTimestamp=_now())
            self.fake.objects[key] = body
            if plural == "deployments":
                self.fake.written(key, None)
        self._send(201, body)

    def do_GET(self):  # noqa: N802
        gv, ns, plural, name, query = self._route()
        if plural in ("pods", "events", "pods/log"):
            return self._kubelet(ns, plural, name, query)
        with self.fake.lock:
            if name:
                key = (gv, ns, plural, name)
                if plural == "deployments" and key in self.fake.objects:
                    self.fake.step(key)
                found = self.fake.objects.get(key)
                return self._send(200, found) if found else self._status(404, "NotFound")
            items = _selected(self.fake.objects, gv, ns, plural, (query.get("labelSelector") or [""])[0])
        self._send(200, {"kind": f"{KINDS[plural]}List", "apiVersion": gv, "metadata": {}, "items": items})

    def _kubelet(self, ns: str, plural: str, name: str | None, query: dict) -> None:
        """Pods, their events and logs, made up from the Deployments' rollouts (each checked against its model)."""
        with self.fake.lock:
            if plural == "pods/log":
                return self._log(ns, name, query)
            if plural == "pods":
                selector = (query.get("labelSelector") or [""])[0]
                items = [p for p, _ in self.fake.pod_list(ns) if _matches(p["metadata"]["labels"], selector)]
            else:
                field_selector = (query.get("fieldSelector") or [""])[0]
                items = self.fake.events(ns, field_selector.removeprefix("involvedObject.name="))
        problems = [problem for item in items if (problem := schema_problem(item))]
        if problems:
            return self._status(500, f"the stand-in made up an invalid object: {problems[0]}")
        self._send(200, {"kind": f"{KINDS[plural]}List", "apiVersion": "v1", "metadata": {}, "items": items})

    def _log(self, ns: str, name: str | None, query: dict) -> None:
        """A pod's log as text, as the API server serves it (container, previous, tailLines, sinceSeconds,
        timestamps): 400 while the container is waiting, 403 where the pod's plan forbids reading logs."""
        found = [(p, r) for p, r in self.fake.pod_list(ns) if p["metadata"]["name"] == name]
        if not found:
            return self._status(404, "NotFound")
        pod, rollout = found[0]
        container = (query.get("container") or [pod["spec"]["containers"][0]["name"]])[0]
        previous = (query.get("previous") or ["false"])[0] == "true"
        if rollout is not None:
            rollout.log_reads.append((container, previous))
            if rollout.plan.log is None:
                return self._status(403, "Forbidden")
        refused = _unreadable(pod, container, previous)
        if refused:
            return self._status(400, refused)
        entries = list(self.fake.logs.get((ns, name, container), []))
        if "sinceSeconds" in query:
            start = datetime.now(UTC) - timedelta(seconds=int(query["sinceSeconds"][0]))
            entries = [e for e in entries if e[0] >= start]
        if "tailLines" in query:
            tail = int(query["tailLines"][0])
            entries = entries[-tail:] if tail else []
        stamped = (query.get("timestamps") or ["false"])[0] == "true"
        data = b"".join(_log_line(at, line, stamped) for at, line in entries)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PATCH(self):  # noqa: N802
        gv, ns, plural, name, query = self._route()
        patch = self._body()
        if self.headers.get("Content-Type") == APPLY_PATCH:
            return self._apply(gv, ns, plural, name, patch, (query.get("fieldManager") or [""])[0])
        with self.fake.lock:
            found = self.fake.objects.get((gv, ns, plural, name))
            if found is None:
                return self._status(404, "NotFound")
            before = copy.deepcopy(found)
            merge(found, patch)
            if plural == "deployments":
                self.fake.written((gv, ns, plural, name), before)
        self._send(200, found)

    def _apply(self, gv: str, ns: str, plural: str, name: str, body: dict, manager: str) -> None:
        """Server-side apply by `manager`: what its previous apply set and this one does not is removed."""
        if not manager:
            return self._status(400, "fieldManager is required for apply patch")
        if not self.fake.known(gv, plural):
            return self._status(404, "NotFound")
        problem = schema_problem(body)
        if problem:
            return self._status(400, problem)
        key = (gv, ns, plural, name)
        with self.fake.lock:
            found = self.fake.objects.get(key)
            before = copy.deepcopy(found)
            if found is None:
                found = self.fake.objects[key] = {"metadata": {}}
                found["metadata"].update(uid=f"uid-{len(self.fake.objects)}", creationTimestamp=_now())
            disown(found, self.fake.applied.get((key, manager), {}))
            merge(found, copy.deepcopy(body))
            found["metadata"]["namespace"] = ns or None
            self.fake.applied[(key, manager)] = copy.deepcopy(body)
            if plural == "deployments":
                self.fake.written(key, before)
        self._send(200, found)

    def do_DELETE(self):  # noqa: N802
        gv, ns, plural, name, _ = self._route()
        with self.fake.lock:
            found = self.fake.objects.pop((gv, ns, plural, name), None)
            if found is None:
                return self._status(404, "NotFound")
            gone = [k for k in self.fake.objects if k[1] == name] if plural == "namespaces" else []
            for key in gone:
                del self.fake.objects[key]
            for owned in [o for o in self.fake.applied if o[0] in (*gone, (gv, ns, plural, name))]:
                del self.fake.applied[owned]
            for key in [k for k in self.fake.rollouts if k in (*gone, (gv, ns, plural, name))]:
                self.fake.forget(key)
        # As the real API server: a deleted Service is answered with the object, the rest with a Status.
        self._send(200, found if plural == "services" else {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def log_message(self, *args):
        pass


def _unreadable(pod: dict, container: str, previous: bool) -> str | None:
    """Why the API server refuses the container's log (None: it serves it), as it words it."""
    spec, status = pod["spec"], pod["status"]
    names = [c["name"] for c in spec.get("initContainers", []) + spec["containers"]]
    if container not in names:
        return f"container {container} is not valid for pod {pod['metadata']['name']}"
    statuses = status.get("initContainerStatuses", []) + status.get("containerStatuses", [])
    found = next((c for c in statuses if c["name"] == container), None)
    where = f'container "{container}" in pod "{pod["metadata"]["name"]}"'
    if previous:
        ran = found is not None and "terminated" in found.get("lastState", {})
        return None if ran else f"previous terminated {where} not found"
    if found is None or "waiting" in found["state"]:
        reason = ((found or {}).get("state", {}).get("waiting") or {}).get("reason", "ContainerCreating")
        return f"{where} is waiting to start: {reason}"
    return None
