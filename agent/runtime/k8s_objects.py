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
from dataclasses import dataclass
from datetime import UTC, datetime
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


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _quantity(value: str, what: str) -> str:
    if not QUANTITY.fullmatch(str(value)):
        raise ValueError(f"{what} {value!r} is not a Kubernetes quantity")
    return str(value)


def _meta(
    name: str, prefix: str, labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": prefix,
        "labels": {"app": name, PREFIX_LABEL: prefix, NAME_LABEL: name, **(labels or {})},
    }
    if annotations:
        meta["annotations"] = annotations
    return meta


PARTS = ("deployment", "service", "ingress")  # which object a label or annotation goes on
Manifest = dict[str, Any]


@dataclass(frozen=True)
class _Volumes:
    pod: list[Manifest]  # the pod's volumes (PVC references or emptyDirs)
    mounts: list[Manifest]  # the main container's volume mounts
    claims: list[Manifest]  # the PersistentVolumeClaims to create


def build_objects(
    prefix: str,
    name: str,
    image: str,
    config: dict[str, Any],
    secrets: dict[str, str],
    registry_auth: dict[str, str] | None = None,
    root_domain: str | None = None,
    now: datetime | None = None,
) -> list[Manifest]:
    """Every object of one container, in the order they are applied (the Namespace first)."""
    _check_name("prefix", prefix)
    _check_name("container name", name)
    labels, annotations = _by_part(config.get("labels")), _by_part(config.get("annotations"))
    secret = _secret(prefix, name, secrets)
    pull_secret = _pull_secret(prefix, name, registry_auth)
    volumes = _volumes(prefix, name, config)
    env_from: list[Manifest] = [{"configMapRef": {"name": name}}, *([{"secretRef": {"name": name}}] if secret else [])]
    pod_spec = _pod_spec(name, image, config, env_from, volumes, pull_secret)
    deployment = _deployment(
        prefix, name, config, pod_spec, labels["deployment"], annotations["deployment"], now or datetime.now(UTC)
    )
    service = _service(prefix, name, config, labels["service"], annotations["service"])
    ingress = (
        _ingress(prefix, name, config, service, labels["ingress"], annotations["ingress"], root_domain)
        if service
        else None
    )
    objects = [
        _namespace(prefix),
        _config_map(prefix, name, config),
        secret,
        pull_secret,
        *volumes.claims,
        deployment,
        service,
        ingress,
    ]
    return [obj for obj in objects if obj is not None]


def _by_part(entries: dict[str, Any] | None) -> dict[str, dict[str, str]]:
    return {part: _kv((entries or {}).get(part)) for part in PARTS}


def _namespace(prefix: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prefix, "labels": {PREFIX_LABEL: prefix}}}


def _config_map(prefix: str, name: str, config: dict[str, Any]) -> Manifest:
    """The environment, given to the container (and init containers that ask) through `envFrom`."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(name, prefix),
        "data": _kv(config.get("environment")),
    }


def _secret(prefix: str, name: str, secrets: dict[str, str]) -> Manifest | None:
    if not secrets:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": _meta(name, prefix),
        "data": {k: _b64(v) for k, v in secrets.items()},
    }


def _pull_secret(prefix: str, name: str, registry_auth: dict[str, str] | None) -> Manifest | None:
    """Registry credentials as a dockerconfigjson Secret `<name>-reg`, the pod's imagePullSecret."""
    if not registry_auth:
        return None
    user, password = registry_auth["user"], registry_auth["password"]
    docker_config = {
        "auths": {registry_auth["url"]: {"username": user, "password": password, "auth": _b64(f"{user}:{password}")}}
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": _meta(f"{name}-reg", prefix),
        "data": {".dockerconfigjson": _b64(json.dumps(docker_config))},
    }


def _pod_spec(
    name: str,
    image: str,
    config: dict[str, Any],
    env_from: list[Manifest],
    volumes: _Volumes,
    pull_secret: Manifest | None,
) -> Manifest:
    pod_spec: Manifest = {
        "containers": [_container(name, image, config, env_from, volumes.mounts)],
        "volumes": volumes.pod,
    }
    if pull_secret:
        pod_spec["imagePullSecrets"] = [{"name": pull_secret["metadata"]["name"]}]
    init = [_init_container(name, entry, env_from, volumes.mounts) for entry in config.get("initContainers") or []]
    if init:
        pod_spec["initContainers"] = init
    return pod_spec


def _container(
    name: str, image: str, config: dict[str, Any], env_from: list[Manifest], mounts: list[Manifest]
) -> Manifest:
    ports = config.get("ports") or []
    container: Manifest = {
        "name": name,
        "image": image,
        "envFrom": env_from,
        "ports": [{"name": f"port-{p['internal']}", "containerPort": p["internal"], "protocol": "TCP"} for p in ports],
        "volumeMounts": mounts,
        "resources": _resources(config.get("resourceConfig") or {}),
    }
    if config.get("tty") is not None:
        container["tty"] = bool(config["tty"])
    if config.get("workingDirectory"):
        container["workingDir"] = config["workingDirectory"]
    if isinstance(config.get("user"), int) and config["user"] >= 0:
        container["securityContext"] = {"runAsUser": config["user"]}
    container.update(_command_line(config, "commands", "args"))
    container.update(_probes(config.get("healthCheckConfig") or {}, ports))
    return container


def _command_line(entry: dict[str, Any], command_field: str, args_field: str) -> Manifest:
    """`command` and `args` when set: the config spells the entrypoint `commands`, an init container `command`."""
    line: Manifest = {}
    if entry.get(command_field):
        line["command"] = [c["key"] for c in entry[command_field]]
    if entry.get(args_field):
        line["args"] = [a["key"] for a in entry[args_field]]
    return line


def _deployment(
    prefix: str,
    name: str,
    config: dict[str, Any],
    pod_spec: Manifest,
    labels: dict[str, str],
    annotations: dict[str, str],
    now: datetime,
) -> Manifest:
    """One replica; the pod template's restartedAt annotation makes every deploy roll the pods."""
    strategy = "Recreate" if config.get("deploymentStrategy") == "recreate" else "RollingUpdate"
    selector = {"app": name}
    template_meta = {
        "labels": {**selector, PREFIX_LABEL: prefix, NAME_LABEL: name, **labels},
        "annotations": {RESTARTED_AT: now.isoformat(), **annotations},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, prefix, labels, annotations or None),
        "spec": {
            "replicas": 1,
            "strategy": {"type": strategy},
            "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def _volumes(prefix: str, name: str, config: dict[str, Any]) -> _Volumes:
    """`<name>-<volume>` each: a PVC (kept across deploys) or an emptyDir for mem/tmp volumes."""
    found = _Volumes(pod=[], mounts=[], claims=[])
    for volume in config.get("volumes") or []:
        volume_name = f"{name}-{volume['name']}"
        _check_name("volume name", volume_name)
        kind = volume.get("type") or "rwo"
        if kind in ("mem", "tmp"):
            found.pod.append({"name": volume_name, "emptyDir": _empty_dir(kind, volume)})
        else:
            found.claims.append(_claim(prefix, volume_name, kind, volume))
            found.pod.append(
                {"name": volume_name, "persistentVolumeClaim": {"claimName": volume_name, "readOnly": kind == "ro"}}
            )
        found.mounts.append({"name": volume_name, "mountPath": volume["path"], "readOnly": kind == "ro"})
    return found


def _empty_dir(kind: str, volume: dict[str, Any]) -> Manifest:
    empty: Manifest = {"medium": "Memory"} if kind == "mem" else {}
    if volume.get("size"):
        empty["sizeLimit"] = _quantity(volume["size"], "volume size")
    return empty


def _claim(prefix: str, volume_name: str, kind: str, volume: dict[str, Any]) -> Manifest:
    spec: Manifest = {
        "accessModes": [ACCESS[kind]],
        "resources": {"requests": {"storage": _quantity(volume.get("size") or DEFAULT_VOLUME_SIZE, "volume size")}},
    }
    if volume.get("class"):
        spec["storageClassName"] = volume["class"]
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(volume_name, prefix), "spec": spec}


def _resources(resource_config: dict[str, Any]) -> dict[str, Any]:
    limits = {**DEFAULT_LIMITS, **{k: v for k, v in (resource_config.get("limits") or {}).items() if v}}
    requests = {**DEFAULT_REQUESTS, **{k: v for k, v in (resource_config.get("requests") or {}).items() if v}}
    if str(limits.get("cpu")) == "0":
        del limits["cpu"]  # "0" removes the CPU limit
    return {
        "limits": {k: _quantity(v, f"limit {k}") for k, v in limits.items()},
        "requests": {k: _quantity(v, f"request {k}") for k, v in requests.items()},
    }


def _probes(health: dict[str, Any], ports: list[dict[str, Any]]) -> dict[str, Any]:
    port = health.get("port") or (ports[0]["internal"] if ports else None)
    probes = {}
    for field, key in (
        ("livenessProbe", "livenessProbe"),
        ("readinessProbe", "readinessProbe"),
        ("startupProbe", "startupProbe"),
    ):
        if health.get(field) and port:
            probes[key] = {
                "httpGet": {"path": health[field], "port": port},
                "initialDelaySeconds": 30,
                "failureThreshold": 1,
            }
    return probes


def _init_container(
    parent: str, entry: dict[str, Any], parent_env_from: list[Manifest], parent_mounts: list[Manifest]
) -> Manifest:
    """Always pulled; the parent's environment only with `useParentConfig`; mounts the parent's volumes by name."""
    container: Manifest = {"name": entry["name"], "image": entry["image"], "imagePullPolicy": "Always"}
    container.update(_command_line(entry, "command", "args"))
    if entry.get("environment"):
        container["env"] = [{"name": k, "value": v} for k, v in _kv(entry["environment"]).items()]
    if entry.get("useParentConfig"):
        container["envFrom"] = parent_env_from
    mounts = _init_mounts(parent, entry, parent_mounts)
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _init_mounts(parent: str, entry: dict[str, Any], parent_mounts: list[Manifest]) -> list[Manifest]:
    known = {m["name"] for m in parent_mounts}
    mounts = []
    for volume in entry.get("volumes") or []:
        volume_name = f"{parent}-{volume['name']}"
        if volume_name not in known:
            raise ValueError(f"init container {entry['name']}: no volume named {volume['name']!r}")
        mounts.append({"name": volume_name, "mountPath": volume["path"]})
    return mounts


def _service(
    prefix: str, name: str, config: dict[str, Any], labels: dict[str, str], annotations: dict[str, str]
) -> dict[str, Any] | None:
    ports = [
        {"name": f"tcp-{p['internal']}", "port": p["internal"], "targetPort": p["internal"], "protocol": "TCP"}
        for p in config.get("ports") or []
    ]
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
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, prefix, labels, annotations or None),
        "spec": spec,
    }


def _ingress(
    prefix: str,
    name: str,
    config: dict[str, Any],
    service: Manifest,
    labels: dict[str, str],
    annotations: dict[str, str],
    root_domain: str | None,
) -> Manifest | None:
    """An nginx Ingress for `expose` (cert-manager TLS for `exposeWithTls`); the host is routing.domain,
    else `<name>.<prefix>.<ROOT_DOMAIN>`."""
    expose = config.get("expose") or "none"
    if expose == "none":
        return None
    routing = config.get("routing") or {}
    host = routing.get("domain") or (f"{name}.{prefix}.{root_domain}" if root_domain else None)
    if not host:
        raise ValueError("exposing a container needs routing.domain or the agent's ROOT_DOMAIN")
    port = routing.get("port") or service["spec"]["ports"][0]["port"]
    path, rewrite_notes = _ingress_path(routing)
    notes = {"kubernetes.io/ingress.class": "nginx", **annotations, **rewrite_notes, **_header_notes(config)}
    spec: Manifest = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [
                        {
                            "path": path,
                            "pathType": "ImplementationSpecific",
                            "backend": {"service": {"name": name, "port": {"number": port}}},
                        }
                    ]
                },
            }
        ]
    }
    if expose == "exposeWithTls":
        notes.update({"kubernetes.io/tls-acme": "true", "cert-manager.io/cluster-issuer": "letsencrypt-prod"})
        spec["tls"] = [{"hosts": [host], "secretName": f"{name}-tls"}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(name, prefix, labels, notes),
        "spec": spec,
    }


def _ingress_path(routing: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """The path and its nginx notes: `stripPath` rewrites it away, `uploadLimit` caps the body size."""
    path = routing.get("path") or "/"
    notes = {}
    if routing.get("stripPath"):
        path = path.rstrip("/") + "(/|$)(.*)"
        notes["nginx.ingress.kubernetes.io/use-regex"] = "true"
        notes["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2"
    if routing.get("uploadLimit"):
        notes["nginx.ingress.kubernetes.io/proxy-body-size"] = routing["uploadLimit"]
    return path, notes


def _header_notes(config: dict[str, Any]) -> dict[str, str]:
    """CORS and proxy notes: `proxyHeaders` turns on CORS and buffering and allows the forwarding headers."""
    notes = {}
    headers = [h["key"] for h in config.get("customHeaders") or []]
    if config.get("proxyHeaders"):
        notes.update(
            {
                "nginx.ingress.kubernetes.io/enable-cors": "true",
                "nginx.ingress.kubernetes.io/proxy-buffering": "on",
                "nginx.ingress.kubernetes.io/proxy-buffer-size": "256k",
            }
        )
        headers += ["X-Forwarded-For", "X-Forwarded-Proto", "X-Real-IP", "X-Requested-With"]
    if headers:
        notes["nginx.ingress.kubernetes.io/cors-allow-headers"] = ",".join(headers)
    return notes
