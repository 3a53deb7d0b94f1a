"""A small stateful stand-in for a Kubernetes API server: the few paths the agent uses, over
real HTTP, so the official client's URLs, serialization and status codes are exercised.

Objects are kept per (group/version, namespace, plural, name); POST creates (409 if present),
GET reads or lists (labelSelector terms `key` or `key=value`), PATCH merges, DELETE removes (a
namespace takes its objects with it). Deployments get a `status` as if their pods came up.

A Deployment scaled above 0 has one pod (`<name>-<hash of its template>`, so a changed template, as a
restart makes, replaces it) whose status says its container runs and is ready; `pod_of` finds it, and
tests may change its status. `write_log` appends lines to a pod's log, which
`GET …/pods/<pod>/log` serves as the API server does: `tailLines`, `sinceSeconds`, `timestamps` (RFC 3339
with nanoseconds), and 400 while the pod's container is waiting.

Server-side apply (PATCH `application/apply-patch+yaml` with a `fieldManager`) creates a missing
object; on an existing one it first removes the fields the manager's previous apply set, then
merges the new body, so what a manager stops sending disappears, while fields others set (a
scale, status) stay. Lists count as one field (the real server merges some by key; with one
manager the result is the same). Every object created or applied must survive a round trip
through the official client's model of its kind, as the real server's strict field validation
would demand; a custom resource needs its CRD (`install_crd`).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
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
    "pods": "Pod",
    "ingresses": "Ingress",
    "namespaces": "Namespace",
    "servicemonitors": "ServiceMonitor",
    "customresourcedefinitions": "CustomResourceDefinition",
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
    typed = client.deserialize(json.dumps(body), model, "application/json")
    if client.sanitize_for_serialization(typed) != body:
        return f"the {body['kind']} does not match the {model} schema (an unknown or misplaced field)"
    return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_status(deployment: dict) -> None:
    """A Deployment's status as if its pods came up."""
    replicas = deployment["spec"].get("replicas", 1)
    deployment["status"] = {"replicas": replicas, "availableReplicas": replicas}


def _selected(objects: dict, gv: str, ns: str, plural: str, selector: str) -> list[dict]:
    """The objects of a list call: one kind, in `ns` (all namespaces when empty), matching every
    comma-separated `key` or `key=value` of the selector."""
    terms = [term.partition("=") for term in selector.split(",") if term]

    def matches(labels: dict) -> bool:
        return all(key in labels and (not value or labels[key] == value) for key, _, value in terms)

    return [
        o
        for (g, n, p, _), o in objects.items()
        if g == gv and p == plural and (not ns or n == ns) and matches(o["metadata"].get("labels", {}))
    ]


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.pods: dict[tuple[str, str], str] = {}  # (namespace, deployment) → its pod's name
        self.logs: dict[tuple[str, str], list[tuple[datetime, bytes]]] = {}  # (namespace, pod) → its lines
        self.applied: dict[tuple[tuple[str, str, str, str], str], dict] = {}  # (object, manager) → its last apply
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"fake": self}))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pod_of(self, namespace: str, deployment: str) -> dict | None:
        """The pod the Deployment `deployment` runs now (None when scaled to 0)."""
        name = self.pods.get((namespace, deployment))
        return self.objects.get(("v1", namespace, "pods", name)) if name else None

    def write_log(self, namespace: str, deployment: str, *lines: str, at: datetime | None = None) -> None:
        """Lines the Deployment's pod writes (bytes as UTF-8 unless given as bytes), at `at` or now."""
        pod = self.pod_of(namespace, deployment)
        assert pod is not None, f"{namespace}/{deployment} has no pod"
        entries = self.logs.setdefault((namespace, pod["metadata"]["name"]), [])
        for line in lines:
            entries.append((at or datetime.now(UTC), line if isinstance(line, bytes) else line.encode()))

    def _sync_pods(self, ns: str, deployment: dict | None, name: str) -> None:
        """The Deployment's one pod: made for its current template, gone when it is scaled to 0 or deleted."""
        wanted = None
        if deployment is not None and deployment["spec"].get("replicas", 1) > 0:
            template = deployment["spec"]["template"]
            digest = hashlib.sha1(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]  # noqa: S324
            wanted = f"{name}-{digest}"
        current = self.pods.get((ns, name))
        if current == wanted:
            return
        if current is not None:
            self.objects.pop(("v1", ns, "pods", current), None)
            self.logs.pop((ns, current), None)
            del self.pods[(ns, name)]
        if wanted is not None:
            self.objects[("v1", ns, "pods", wanted)] = _pod(ns, wanted, deployment["spec"]["template"])
            self.pods[(ns, name)] = wanted

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
            if plural == "deployments":
                _with_status(body)
                self.fake._sync_pods(ns, body, body["metadata"]["name"])
            self.fake.objects[key] = body
        self._send(201, body)

    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0].endswith("/log"):
            return self._pod_log()
        gv, ns, plural, name, query = self._route()
        with self.fake.lock:
            if name:
                found = self.fake.objects.get((gv, ns, plural, name))
                return self._send(200, found) if found else self._status(404, "NotFound")
            items = _selected(self.fake.objects, gv, ns, plural, (query.get("labelSelector") or [""])[0])
        self._send(200, {"kind": f"{KINDS[plural]}List", "apiVersion": gv, "metadata": {}, "items": items})

    def do_PATCH(self):  # noqa: N802
        gv, ns, plural, name, query = self._route()
        patch = self._body()
        if self.headers.get("Content-Type") == APPLY_PATCH:
            return self._apply(gv, ns, plural, name, patch, (query.get("fieldManager") or [""])[0])
        with self.fake.lock:
            found = self.fake.objects.get((gv, ns, plural, name))
            if found is None:
                return self._status(404, "NotFound")
            merge(found, patch)
            if plural == "deployments":
                _with_status(found)
                self.fake._sync_pods(ns, found, name)
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
            if found is None:
                found = self.fake.objects[key] = {"metadata": {}}
                found["metadata"].update(uid=f"uid-{len(self.fake.objects)}", creationTimestamp=_now())
            disown(found, self.fake.applied.get((key, manager), {}))
            merge(found, copy.deepcopy(body))
            found["metadata"]["namespace"] = ns or None
            self.fake.applied[(key, manager)] = copy.deepcopy(body)
            if plural == "deployments":
                _with_status(found)
                self.fake._sync_pods(ns, found, name)
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
            if plural == "namespaces":
                for pod_ns, deployment in [k for k in self.fake.pods if k[0] == name]:
                    self.fake._sync_pods(pod_ns, None, deployment)
            elif plural == "deployments":
                self.fake._sync_pods(ns, None, name)
            for owned in [o for o in self.fake.applied if o[0] in (*gone, (gv, ns, plural, name))]:
                del self.fake.applied[owned]
        # As the real API server: a deleted Service is answered with the object, the rest with a Status.
        self._send(200, found if plural == "services" else {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def _pod_log(self) -> None:
        """A pod's log as text, as the API server serves it (tailLines, sinceSeconds, timestamps)."""
        _, ns, _, name, query = self._route()
        with self.fake.lock:
            pod = self.fake.objects.get(("v1", ns, "pods", name))
            entries = list(self.fake.logs.get((ns, name), []))
        if pod is None:
            return self._status(404, "NotFound")
        [status] = pod["status"]["containerStatuses"]
        if "waiting" in status["state"]:
            return self._status(400, f"container {status['name']!r} is waiting to start")
        if "sinceSeconds" in query:
            start = datetime.now(UTC) - timedelta(seconds=int(query["sinceSeconds"][0]))
            entries = [e for e in entries if e[0] >= start]
        if "tailLines" in query:
            entries = entries[-int(query["tailLines"][0]) :] if int(query["tailLines"][0]) else []
        stamped = (query.get("timestamps") or ["false"])[0] == "true"
        data = b"".join(
            (f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z ".encode() if stamped else b"") + line + b"\n"
            for at, line in entries
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _pod(namespace: str, name: str, template: dict) -> dict:
    """A pod of `template` whose containers run and are ready."""
    now = _now()
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": copy.deepcopy(template["metadata"].get("labels", {})),
            "uid": f"uid-pod-{name}",
            "creationTimestamp": now,
        },
        "spec": copy.deepcopy(template["spec"]),
        "status": {
            "phase": "Running",
            "startTime": now,
            "containerStatuses": [
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": f"{container['image']}@sha256:{'0' * 64}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                }
                for container in template["spec"]["containers"]
            ],
        },
    }
