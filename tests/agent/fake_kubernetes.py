"""A small stateful stand-in for a Kubernetes API server: the few paths the agent uses, over
real HTTP, so the official client's URLs, serialization and status codes are exercised.

Objects are kept per (group/version, namespace, plural, name); POST creates (409 if present),
GET reads or lists (labelSelector `key` or `key=value`), PATCH merges, DELETE removes (a
namespace takes its objects with it). Deployments get a `status` as if their pods came up.

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
import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from kubernetes.client import ApiClient

ROUTE = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+/[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?(?:/(?P<plural>[a-z]+))?(?:/(?P<name>[^/]+))?$"
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
    """The objects of a list call: one kind, in `ns` (all namespaces when empty), matching `key` or `key=value`."""
    key, _, value = selector.partition("=")

    def matches(labels: dict) -> bool:
        return not key or (key in labels and (not value or labels[key] == value))

    return [
        o
        for (g, n, p, _), o in objects.items()
        if g == gv and p == plural and (not ns or n == ns) and matches(o["metadata"].get("labels", {}))
    ]


class FakeKubernetes:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict] = {}
        self.applied: dict[tuple[tuple[str, str, str, str], str], dict] = {}  # (object, manager) → its last apply
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
            self.fake.objects[key] = body
        self._send(201, body)

    def do_GET(self):  # noqa: N802
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
        # As the real API server: a deleted Service is answered with the object, the rest with a Status.
        self._send(200, found if plural == "services" else {"kind": "Status", "apiVersion": "v1", "status": "Success"})

    def log_message(self, *args):
        pass
