"""A small stateful stand-in for a Kubernetes API server: the few paths the agent uses, over
real HTTP, so the official client's URLs, serialization and status codes are exercised.

Objects are kept per (group/version, namespace, plural, name); POST creates (409 if present),
GET reads or lists (labelSelector `key` or `key=value`), PATCH merges, DELETE removes (a
namespace takes its objects with it).

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

Server-side apply (PATCH `application/apply-patch+yaml` with a `fieldManager`) creates a missing
object; on an existing one it first removes the fields the manager's previous apply set, then
merges the new body, so what a manager stops sending disappears, while fields others set (a
scale, status) stay. Lists count as one field (the real server merges some by key; with one
manager the result is the same). Every object created or applied must survive a round trip
through the official client's model of its kind, as the real server's strict field validation
would demand; a custom resource needs its CRD (`install_crd`). So must every pod and event the
stand-in makes up (a 500 says which did not).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
    if client.sanitize_for_serialization(typed) != body:
        return f"the {body['kind']} does not match the {model} schema (an unknown or misplaced field)"
    return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _selected(objects: dict, gv: str, ns: str, plural: str, selector: str) -> list[dict]:
    """The objects of a list call: one kind, in `ns` (all namespaces when empty), matching `key` or `key=value`."""
    return [
        o
        for (g, n, p, _), o in objects.items()
        if g == gv and p == plural and (not ns or n == ns) and _matches(o["metadata"].get("labels", {}), selector)
    ]


def _matches(labels: dict, selector: str) -> bool:
    key, _, value = selector.partition("=")
    return not key or (key in labels and (not value or labels[key] == value))


@dataclass(frozen=True)
class Pods:
    """How the pods of a Deployment's next rollouts behave, in reads of the Deployment (steps).

    `observed_after`: reads before the controller observes a new generation (until then the status
    is the previous one); `ready_after`: steps, once observed, before the new pod is ready (None:
    never, a readiness probe that fails, with `warning` as its event); `init_fails`: (init container,
    exit code): it exits so, and then crash-loops; `pull_fails`: the container (init or main) whose
    image cannot be pulled (ErrImagePull, then ImagePullBackOff); `crash`: the main container's exit
    code, then CrashLoopBackOff; `log`: what a failing container printed (None: reading pod logs is
    forbidden, as without the RBAC right); `unschedulable`: the scheduler's message for a pod no node
    can take (it stays Pending); `stalls`: the controller reports ProgressDeadlineExceeded.
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


@dataclass
class _Rollout:
    """One Deployment's current rollout: its plan, its pod template and the steps since it began."""

    plan: Pods
    template: dict
    generation: int
    stale: dict  # the status before this rollout, shown until the controller observes it
    old: dict | None = None  # the previous template, while a ready pod of it stays
    steps: int = 0
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
    failing = (
        plan.pull_fails
        or (plan.init_fails or (None,))[0]
        or (spec["containers"][0]["name"] if plan.crash is not None else None)
    )
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


def _pod(namespace: str, template: dict, status: dict, suffix: str) -> dict:
    digest = _hash(template)
    meta = template["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['labels']['app']}-{digest}-{suffix}",
            "namespace": namespace,
            "labels": {**meta["labels"], "pod-template-hash": digest},
            "annotations": dict(meta.get("annotations", {})),
        },
        "spec": copy.deepcopy(template["spec"]),
        "status": status,
    }


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.applied: dict[tuple[tuple[str, str, str, str], str], dict] = {}  # (object, manager) → its last apply
        self.rollouts: dict[tuple[str, str, str, str], _Rollout] = {}  # Deployment → its current rollout
        self.plans: dict[tuple[str, str], Pods] = {}  # (namespace, Deployment) → how its next pods behave
        self.reads: dict[tuple[str, str], int] = {}  # (namespace, Deployment) → GETs of it
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
            kept = (previous.template if previous.ready else previous.old) if previous and rolling else None
            plan = self.plans.get((key[1], key[3]), Pods())
            stale = copy.deepcopy(found.get("status", {}))
            self.rollouts[key] = _Rollout(plan, copy.deepcopy(spec["template"]), generation, stale, old=kept)
        self.rollouts[key].generation = generation
        found["status"] = _status_of(found, self.rollouts[key])

    def step(self, key: tuple[str, str, str, str]) -> None:
        """One read of a Deployment: its cluster moves one step on."""
        self.reads[(key[1], key[3])] = self.reads.get((key[1], key[3]), 0) + 1
        rollout = self.rollouts.get(key)
        if rollout is not None:
            rollout.steps += 1
            self.objects[key]["status"] = _status_of(self.objects[key], rollout)

    def pod_list(self, namespace: str) -> list[tuple[dict, _Rollout | None]]:
        """The pods in the namespace, each with the rollout it is the new pod of (None: a previous template's)."""
        pods = []
        for key, rollout in self.rollouts.items():
            deployment = self.objects.get(key)
            if key[1] != namespace or deployment is None or not deployment["spec"].get("replicas", 1):
                continue
            if rollout.observed:
                status = _pod_status(rollout.template["spec"], rollout.plan, rollout.since, rollout.ready)
                pods.append((_pod(namespace, rollout.template, status, "n3w9d"), rollout))
            if rollout.old is not None and not (rollout.observed and rollout.ready):
                status = _pod_status(rollout.old["spec"], Pods(), 0, True)
                pods.append((_pod(namespace, rollout.old, status, "0ld7p"), None))
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
        container = (query.get("container") or [""])[0]
        previous = (query.get("previous") or ["false"])[0] == "true"
        found = [r for p, r in self.fake.pod_list(ns) if p["metadata"]["name"] == name]
        if not found:
            return self._status(404, "NotFound")
        rollout = found[0]
        if rollout is not None:
            rollout.log_reads.append((container, previous))
        text = rollout.plan.log if rollout else ""
        if text is None:
            return self._status(403, "Forbidden")
        data = text.encode()
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
                del self.fake.rollouts[key]
        # As the real API server: a deleted Service is answered with the object, the rest with a Status.
        self._send(200, found if plural == "services" else {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def log_message(self, *args):
        pass
