"""A container config as Kubernetes objects (dyrector §7), as plain manifests; pure, no I/O.

Namespace = prefix; objects are named after the container. Environment goes to a ConfigMap
and secrets to a Secret (both via `envFrom`); registry credentials to a dockerconfigjson
Secret used as imagePullSecret; volumes become PVCs (or emptyDirs for mem/tmp); ports become
a Service; `expose` with a routing host becomes an nginx Ingress.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any

from agent.runtime.base import NAME_LABEL, PREFIX_LABEL
from chalicelib.contracts.naming import DNS_LABEL

QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
DEFAULT_LIMITS = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
DEFAULT_VOLUME_SIZE = "1Gi"
ACCESS = {"ro": "ReadOnlyMany", "rwo": "ReadWriteOnce", "rwx": "ReadWriteMany"}
RESTARTED_AT = "crane.dyrector.io/restartedAt"


def _check_name(kind: str, value: str) -> None:
    if not DNS_LABEL.fullmatch(value or "") or len(value) > 63:
        raise ValueError(f"the {kind} {value!r} is not a DNS-1123 label")


def _kv(entries: list[dict[str, Any]] | None) -> dict[str, str]:
    return {e["key"]: e.get("value") or "" for e in entries or []}


def _quantity(value: str, what: str) -> str:
    if not QUANTITY.fullmatch(str(value)):
        raise ValueError(f"{what} {value!r} is not a Kubernetes quantity")
    return str(value)


def _meta(name: str, prefix: str, labels: dict[str, str] | None = None,
          annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": prefix,
                            "labels": {"app": name, PREFIX_LABEL: prefix, NAME_LABEL: name, **(labels or {})}}
    if annotations:
        meta["annotations"] = annotations
    return meta


def build_objects(prefix: str, name: str, image: str, config: dict[str, Any], secrets: dict[str, str],
                  registry_auth: dict[str, str] | None = None, root_domain: str | None = None,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    _check_name("prefix", prefix)
    _check_name("container name", name)
    labels = {part: _kv((config.get("labels") or {}).get(part)) for part in ("deployment", "service", "ingress")}
    annotations = {part: _kv((config.get("annotations") or {}).get(part))
                   for part in ("deployment", "service", "ingress")}
    objects: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": prefix, "labels": {PREFIX_LABEL: prefix}}}]
    env_from = []
    objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta(name, prefix),
                    "data": _kv(config.get("environment"))})
    env_from.append({"configMapRef": {"name": name}})
    if secrets:
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": _meta(name, prefix),
                        "data": {k: base64.b64encode(v.encode()).decode() for k, v in secrets.items()}})
        env_from.append({"secretRef": {"name": name}})
    pull_secrets = []
    if registry_auth:
        auth = base64.b64encode(f"{registry_auth['user']}:{registry_auth['password']}".encode()).decode()
        docker_config = {"auths": {registry_auth["url"]: {"username": registry_auth["user"],
                                                          "password": registry_auth["password"], "auth": auth}}}
        objects.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
                        "metadata": _meta(f"{name}-reg", prefix),
                        "data": {".dockerconfigjson": base64.b64encode(json.dumps(docker_config).encode()).decode()}})
        pull_secrets.append({"name": f"{name}-reg"})
    volumes, mounts = _volumes(prefix, name, config, objects)
    ports = config.get("ports") or []
    container: dict[str, Any] = {"name": name, "image": image, "envFrom": env_from,
                                 "ports": [{"name": f"port-{p['internal']}", "containerPort": p["internal"],
                                            "protocol": "TCP"} for p in ports],
                                 "volumeMounts": mounts, "resources": _resources(config.get("resourceConfig") or {})}
    if config.get("tty") is not None:
        container["tty"] = bool(config["tty"])
    if config.get("workingDirectory"):
        container["workingDir"] = config["workingDirectory"]
    if isinstance(config.get("user"), int) and config["user"] >= 0:
        container["securityContext"] = {"runAsUser": config["user"]}
    if config.get("commands"):
        container["command"] = [c["key"] for c in config["commands"]]
    if config.get("args"):
        container["args"] = [a["key"] for a in config["args"]]
    container.update(_probes(config.get("healthCheckConfig") or {}, ports))
    pod_annotations = {RESTARTED_AT: (now or datetime.now(timezone.utc)).isoformat(), **annotations["deployment"]}
    pod_spec: dict[str, Any] = {"containers": [container], "volumes": volumes}
    if pull_secrets:
        pod_spec["imagePullSecrets"] = pull_secrets
    init = [_init_container(name, entry, env_from, mounts) for entry in config.get("initContainers") or []]
    if init:
        pod_spec["initContainers"] = init
    strategy = "Recreate" if config.get("deploymentStrategy") == "recreate" else "RollingUpdate"
    selector = {"app": name}
    objects.append({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": _meta(name, prefix, labels["deployment"], annotations["deployment"] or None),
                    "spec": {"replicas": 1, "strategy": {"type": strategy}, "selector": {"matchLabels": selector},
                             "template": {"metadata": {"labels": {**selector, PREFIX_LABEL: prefix, NAME_LABEL: name,
                                                                  **labels["deployment"]},
                                                       "annotations": pod_annotations},
                                          "spec": pod_spec}}})
    service = _service(prefix, name, config, labels["service"], annotations["service"])
    if service:
        objects.append(service)
        ingress = _ingress(prefix, name, config, service, labels["ingress"], annotations["ingress"], root_domain)
        if ingress:
            objects.append(ingress)
    return objects


def _volumes(prefix: str, name: str, config: dict[str, Any], objects: list[dict[str, Any]]):
    volumes, mounts = [], []
    for volume in config.get("volumes") or []:
        volume_name = f"{name}-{volume['name']}"
        _check_name("volume name", volume_name)
        kind = volume.get("type") or "rwo"
        if kind in ("mem", "tmp"):
            empty: dict[str, Any] = {"medium": "Memory"} if kind == "mem" else {}
            if volume.get("size"):
                empty["sizeLimit"] = _quantity(volume["size"], "volume size")
            volumes.append({"name": volume_name, "emptyDir": empty})
        else:
            spec: dict[str, Any] = {"accessModes": [ACCESS[kind]], "resources": {"requests": {
                "storage": _quantity(volume.get("size") or DEFAULT_VOLUME_SIZE, "volume size")}}}
            if volume.get("class"):
                spec["storageClassName"] = volume["class"]
            objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(volume_name, prefix),
                            "spec": spec})
            volumes.append({"name": volume_name, "persistentVolumeClaim": {"claimName": volume_name,
                                                                           "readOnly": kind == "ro"}})
        mounts.append({"name": volume_name, "mountPath": volume["path"], "readOnly": kind == "ro"})
    return volumes, mounts


def _resources(resource_config: dict[str, Any]) -> dict[str, Any]:
    limits = {**DEFAULT_LIMITS, **{k: v for k, v in (resource_config.get("limits") or {}).items() if v}}
    requests = {**DEFAULT_REQUESTS, **{k: v for k, v in (resource_config.get("requests") or {}).items() if v}}
    if str(limits.get("cpu")) == "0":
        del limits["cpu"]  # "0" removes the CPU limit
    return {"limits": {k: _quantity(v, f"limit {k}") for k, v in limits.items()},
            "requests": {k: _quantity(v, f"request {k}") for k, v in requests.items()}}


def _probes(health: dict[str, Any], ports: list[dict[str, Any]]) -> dict[str, Any]:
    port = health.get("port") or (ports[0]["internal"] if ports else None)
    probes = {}
    for field, key in (("livenessProbe", "livenessProbe"), ("readinessProbe", "readinessProbe"),
                       ("startupProbe", "startupProbe")):
        if health.get(field) and port:
            probes[key] = {"httpGet": {"path": health[field], "port": port}, "initialDelaySeconds": 30,
                           "failureThreshold": 1}
    return probes


def _init_container(parent: str, entry: dict[str, Any], parent_env_from: list[dict[str, Any]],
                    parent_mounts: list[dict[str, Any]]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": entry["name"], "image": entry["image"], "imagePullPolicy": "Always"}
    if entry.get("command"):
        container["command"] = [c["key"] for c in entry["command"]]
    if entry.get("args"):
        container["args"] = [a["key"] for a in entry["args"]]
    if entry.get("environment"):
        container["env"] = [{"name": k, "value": v} for k, v in _kv(entry["environment"]).items()]
    if entry.get("useParentConfig"):
        container["envFrom"] = parent_env_from
    known = {m["name"] for m in parent_mounts}
    mounts = []
    for volume in entry.get("volumes") or []:
        volume_name = f"{parent}-{volume['name']}"
        if volume_name not in known:
            raise ValueError(f"init container {entry['name']}: no volume named {volume['name']!r}")
        mounts.append({"name": volume_name, "mountPath": volume["path"]})
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _service(prefix: str, name: str, config: dict[str, Any], labels: dict[str, str],
             annotations: dict[str, str]) -> dict[str, Any] | None:
    ports = [{"name": f"tcp-{p['internal']}", "port": p["internal"], "targetPort": p["internal"], "protocol": "TCP"}
             for p in config.get("ports") or []]
    for rng in config.get("portRanges") or []:
        for offset in range(rng["internal"]["to"] - rng["internal"]["from"] + 1):
            port = rng["internal"]["from"] + offset
            ports.append({"name": f"tcp-{port}", "port": port, "targetPort": port, "protocol": "TCP"})
    if not ports:
        return None
    spec: dict[str, Any] = {"selector": {"app": name}, "ports": ports, "type": "ClusterIP"}
    if config.get("useLoadBalancer"):
        spec.update(type="LoadBalancer", externalTrafficPolicy="Local")
        annotations = {**annotations, **_kv(config.get("extraLBAnnotations"))}
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, prefix, labels, annotations or None),
            "spec": spec}


def _ingress(prefix: str, name: str, config: dict[str, Any], service: dict[str, Any], labels: dict[str, str],
             annotations: dict[str, str], root_domain: str | None) -> dict[str, Any] | None:
    expose = config.get("expose") or "none"
    routing = config.get("routing") or {}
    if expose == "none":
        return None
    host = routing.get("domain") or (f"{name}.{prefix}.{root_domain}" if root_domain else None)
    if not host:
        raise ValueError("exposing a container needs routing.domain or the agent's ROOT_DOMAIN")
    port = routing.get("port") or service["spec"]["ports"][0]["port"]
    path = routing.get("path") or "/"
    notes = {"kubernetes.io/ingress.class": "nginx", **annotations}
    if routing.get("stripPath"):
        path = path.rstrip("/") + "(/|$)(.*)"
        notes["nginx.ingress.kubernetes.io/use-regex"] = "true"
        notes["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2"
    if routing.get("uploadLimit"):
        notes["nginx.ingress.kubernetes.io/proxy-body-size"] = routing["uploadLimit"]
    headers = [h["key"] for h in config.get("customHeaders") or []]
    if config.get("proxyHeaders"):
        notes.update({"nginx.ingress.kubernetes.io/enable-cors": "true",
                      "nginx.ingress.kubernetes.io/proxy-buffering": "on",
                      "nginx.ingress.kubernetes.io/proxy-buffer-size": "256k"})
        headers += ["X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP", "X-Requested-With"]
    if headers:
        notes["nginx.ingress.kubernetes.io/cors-allow-headers"] = ",".join(headers)
    spec: dict[str, Any] = {"rules": [{"host": host, "http": {"paths": [{
        "path": path, "pathType": "ImplementationSpecific",
        "backend": {"service": {"name": name, "port": {"number": port}}}}]}}]}
    if expose == "exposeWithTls":
        notes.update({"kubernetes.io/tls-acme": "true", "cert-manager.io/cluster-issuer": "letsencrypt-prod"})
        spec["tls"] = [{"hosts": [host], "secretName": f"{name}-tls"}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": _meta(name, prefix, labels, notes), "spec": spec}
