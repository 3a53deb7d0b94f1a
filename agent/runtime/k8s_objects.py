"""A container config as Kubernetes objects (dyrector §7), as plain manifests; pure, no I/O.

Namespace = prefix; objects are named after the container. Environment goes to a ConfigMap
and secrets to a Secret (both via `envFrom`); registry credentials to a dockerconfigjson
Secret used as imagePullSecret; volumes become PVCs (or emptyDirs for mem/tmp); ports become
a Service; `expose` with a routing host becomes an nginx Ingress; enabled metrics a
ServiceMonitor. Before the container, the pod runs its init containers in crane's order: the
`config-loader` (configContainer: rsync of the config image's `path` into a volume), the storage
`import` (`storage_sync`'s rclone sync into the volume `storage.path` names, a private storage's
keys in the Secret `<name>-import`), then the config's own. The manifests are complete: they
are server-side applied, so what a config no longer sets is removed from the cluster.
The Deployment's `progressDeadlineSeconds` is the expected state's timeout (default 120 s): the
time the runtime gives the rollout (`k8s_rollout`), and the one the cluster itself (`kubectl rollout
status`) then holds it to. `NOT_APPLICABLE` names the config fields Kubernetes has no use for, and why
(tests/unit/test_config_coverage.py holds the two to the model).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.runtime import quantities, storage_sync
from agent.runtime.base import NAME_LABEL, PREFIX_LABEL
from agent.settings import DEFAULT_RCLONE_IMAGE
from chalicelib.contracts.agent import Workload
from chalicelib.contracts.containers import (
    Argument,
    ConfigContainer,
    ContainerConfig,
    ContainerState,
    DeploymentStrategy,
    Expose,
    HealthCheckConfig,
    InitContainer,
    Markers,
    Resources,
    Routing,
    UniqueKeyValue,
    Volume,
    VolumeType,
)
from chalicelib.contracts.naming import DNS_LABEL

DEFAULT_LIMITS = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_REQUESTS = {"cpu": "50m", "memory": "64Mi"}
DEFAULT_VOLUME_SIZE = "1Gi"
DEFAULT_METRICS_PATH = "/metrics"
# How long a workload's pod may take to become available when its expected state names no timeout
# (dyrector's default for expected states, as on Docker).
DEFAULT_ROLLOUT_TIMEOUT = 120
ACCESS = {VolumeType.ro: "ReadOnlyMany", VolumeType.rwo: "ReadWriteOnce", VolumeType.rwx: "ReadWriteMany"}
RESTARTED_AT = "crane.dyrector.io/restartedAt"
SERVICE_MONITOR_API = "monitoring.coreos.com/v1"
CONFIG_LOADER = "config-loader"
CONFIG_TARGET = "/targetconfig"
IMPORT = "import"
# A workload's objects that a later config may no longer produce: kind → name suffix.
OPTIONAL_OBJECTS = (
    ("Secret", ""),
    ("Secret", "-reg"),
    ("Secret", "-import"),
    ("Service", ""),
    ("Ingress", ""),
    ("ServiceMonitor", ""),
)

NOT_APPLICABLE = {
    "name": "the platform names the workload (Workload.name)",
    "capabilities": "never passed on (dyrector §4.6)",
    "restart_policy": "a Deployment's pods always restart (§7)",
    "network_mode": "pods use the cluster network (§7)",
    "networks": "pods use the cluster network (§7)",
    "docker_labels": "Docker labels (Kubernetes objects take labels and annotations)",
    "log_config": "the cluster decides how container logs are kept (§7)",
}


def _check_name(kind: str, value: str) -> None:
    if not DNS_LABEL.fullmatch(value or "") or len(value) > 63:
        raise ValueError(f"the {kind} {value!r} is not a DNS-1123 label")


def rollout_timeout(config: ContainerConfig) -> int:
    """The seconds the workload's pod has to become available: the expected state's timeout, else
    DEFAULT_ROLLOUT_TIMEOUT. A Deployment's pod runs until it is replaced (a container that exits is
    restarted), so `running` is the only state it can be expected to reach."""
    expected = config.expected_state
    if expected is None:
        return DEFAULT_ROLLOUT_TIMEOUT
    if expected.state != ContainerState.running:
        raise ValueError(
            f"expectedState {expected.state.value} cannot be met on Kubernetes: a Deployment restarts a container "
            "that exits (run a job to completion as an init container, or expect running)"
        )
    return expected.timeout or DEFAULT_ROLLOUT_TIMEOUT


def _kv(entries: list[UniqueKeyValue] | None) -> dict[str, str]:
    return {e.key: e.value for e in entries or []}


def _words(entries: list[Argument] | None) -> list[str]:
    return [e.key for e in entries or []]


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _quantity(value: str, what: str) -> str:
    quantities.parse(value, what)
    return value


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


Manifest = dict[str, Any]


@dataclass(frozen=True)
class _Volumes:
    pod: list[Manifest]  # the pod's volumes (PVC references or emptyDirs)
    mounts: list[Manifest]  # the main container's volume mounts
    claims: list[Manifest]  # the PersistentVolumeClaims to create


@dataclass(frozen=True)
class _Markers:
    """Labels and annotations of one object kind."""

    labels: dict[str, str]
    annotations: dict[str, str]


def workload_objects(
    prefix: str,
    workload: Workload,
    open_sealed: Callable[[str], str],
    root_domain: str | None = None,
    now: datetime | None = None,
    rclone_image: str = DEFAULT_RCLONE_IMAGE,
) -> list[Manifest]:
    """Every object of one workload, its sealed secrets, registry password and storage keys opened."""
    secrets = {s.key: open_sealed(s.value) for s in workload.config.secrets or [] if s.value}
    auth = workload.registry_auth
    registry_auth = (
        {"url": auth.server, "user": auth.user, "password": open_sealed(auth.sealed_password)} if auth else None
    )
    storage = storage_sync.planned(workload, open_sealed, rclone_image)
    return build_objects(
        prefix, workload.name, workload.image, workload.config, secrets, registry_auth, root_domain, now, storage
    )


def build_objects(
    prefix: str,
    name: str,
    image: str,
    config: ContainerConfig,
    secrets: dict[str, str],
    registry_auth: dict[str, str] | None = None,
    root_domain: str | None = None,
    now: datetime | None = None,
    storage: storage_sync.Sync | None = None,
) -> list[Manifest]:
    """Every object of one container, in the order they are applied (the Namespace first)."""
    _check_name("prefix", prefix)
    _check_name("container name", name)
    secret = _secret(prefix, name, secrets)
    pull_secret = _pull_secret(prefix, name, registry_auth)
    import_secret = _secret(prefix, f"{name}-import", storage.keys) if storage else None
    volumes = _volumes(prefix, name, config)
    env_from: list[Manifest] = [{"configMapRef": {"name": name}}, *([{"secretRef": {"name": name}}] if secret else [])]
    pod_spec = _pod_spec(name, image, config, env_from, volumes, pull_secret)
    init = _init_containers(name, config, env_from, volumes.mounts, storage, import_secret)
    if init:
        pod_spec["initContainers"] = init
    deployment = _deployment(prefix, name, config, pod_spec, _part(config, "deployment"), now or datetime.now(UTC))
    service = _service(prefix, name, config, _part(config, "service"))
    ingress = _ingress(prefix, name, config, service, _part(config, "ingress"), root_domain) if service else None
    objects = [
        _namespace(prefix),
        _config_map(prefix, name, config),
        secret,
        pull_secret,
        import_secret,
        *volumes.claims,
        deployment,
        service,
        ingress,
        _service_monitor(prefix, name, config, service) if service else None,
    ]
    return [obj for obj in objects if obj is not None]


def _part(config: ContainerConfig, part: str) -> _Markers:
    def of(markers: Markers | None) -> dict[str, str]:
        return _kv(getattr(markers, part)) if markers else {}

    return _Markers(of(config.labels), of(config.annotations))


def _namespace(prefix: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": prefix, "labels": {PREFIX_LABEL: prefix}}}


def _config_map(prefix: str, name: str, config: ContainerConfig) -> Manifest:
    """The environment, given to the container (and init containers that ask) through `envFrom`."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(name, prefix),
        "data": _kv(config.environment),
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
    config: ContainerConfig,
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
    return pod_spec


def _container(
    name: str, image: str, config: ContainerConfig, env_from: list[Manifest], mounts: list[Manifest]
) -> Manifest:
    ports = [p.internal for p in config.ports or []]
    container: Manifest = {
        "name": name,
        "image": image,
        "envFrom": env_from,
        "ports": [{"name": f"port-{p}", "containerPort": p, "protocol": "TCP"} for p in ports],
        "volumeMounts": mounts,
        "resources": _resources(config),
    }
    if config.tty is not None:
        container["tty"] = config.tty
    if config.working_directory:
        container["workingDir"] = config.working_directory
    if config.user is not None and config.user >= 0:
        container["securityContext"] = {"runAsUser": config.user}
    container.update(_command_line(config.commands, config.args))
    if config.health_check_config:
        container.update(_probes(config.health_check_config, ports))
    return container


def _command_line(command: list[Argument] | None, args: list[Argument] | None) -> Manifest:
    """`command` and `args` when set."""
    line: Manifest = {}
    if command:
        line["command"] = _words(command)
    if args:
        line["args"] = _words(args)
    return line


def _deployment(
    prefix: str, name: str, config: ContainerConfig, pod_spec: Manifest, markers: _Markers, now: datetime
) -> Manifest:
    """One replica; the pod template's restartedAt annotation makes every deploy roll the pods (and tells
    this deploy's pods from the previous ones); the rollout must finish within the expected state's timeout."""
    strategy = "Recreate" if config.deployment_strategy == DeploymentStrategy.recreate else "RollingUpdate"
    selector = {"app": name}
    template_meta = {
        "labels": {**selector, PREFIX_LABEL: prefix, NAME_LABEL: name, **markers.labels},
        "annotations": {RESTARTED_AT: now.isoformat(), **markers.annotations},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, prefix, markers.labels, markers.annotations or None),
        "spec": {
            "replicas": 1,
            "progressDeadlineSeconds": rollout_timeout(config),
            "strategy": {"type": strategy},
            "selector": {"matchLabels": selector},
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def _volumes(prefix: str, name: str, config: ContainerConfig) -> _Volumes:
    """`<name>-<volume>` each: a PVC (kept across deploys) or an emptyDir for mem/tmp volumes."""
    found = _Volumes(pod=[], mounts=[], claims=[])
    for volume in config.volumes or []:
        volume_name = f"{name}-{volume.name}"
        _check_name("volume name", volume_name)
        kind = volume.type or VolumeType.rwo
        if kind in (VolumeType.mem, VolumeType.tmp):
            found.pod.append({"name": volume_name, "emptyDir": _empty_dir(kind, volume)})
        else:
            found.claims.append(_claim(prefix, volume_name, kind, volume))
            found.pod.append(
                {
                    "name": volume_name,
                    "persistentVolumeClaim": {"claimName": volume_name, "readOnly": kind == VolumeType.ro},
                }
            )
        found.mounts.append({"name": volume_name, "mountPath": volume.path, "readOnly": kind == VolumeType.ro})
    return found


def _empty_dir(kind: VolumeType, volume: Volume) -> Manifest:
    empty: Manifest = {"medium": "Memory"} if kind == VolumeType.mem else {}
    if volume.size:
        empty["sizeLimit"] = _quantity(volume.size, "volume size")
    return empty


def _claim(prefix: str, volume_name: str, kind: VolumeType, volume: Volume) -> Manifest:
    spec: Manifest = {
        "accessModes": [ACCESS[kind]],
        "resources": {"requests": {"storage": _quantity(volume.size or DEFAULT_VOLUME_SIZE, "volume size")}},
    }
    if volume.class_:
        spec["storageClassName"] = volume.class_
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(volume_name, prefix), "spec": spec}


def _resources(config: ContainerConfig) -> dict[str, Any]:
    """Limits and requests over the defaults; `limits.cpu: "0"` removes the CPU limit."""
    resource_config = config.resource_config

    def given(resources: Resources | None) -> dict[str, str]:
        return {k: v for k, v in (resources.model_dump() if resources else {}).items() if v}

    limits = {**DEFAULT_LIMITS, **given(resource_config.limits if resource_config else None)}
    requests = {**DEFAULT_REQUESTS, **given(resource_config.requests if resource_config else None)}
    if str(limits.get("cpu")) == "0":
        del limits["cpu"]
    return {
        "limits": {k: _quantity(v, f"limit {k}") for k, v in limits.items()},
        "requests": {k: _quantity(v, f"request {k}") for k, v in requests.items()},
    }


def _probes(health: HealthCheckConfig, ports: list[int]) -> dict[str, Any]:
    """HTTP GET probes on the health port (else the first container port), each on its own path."""
    paths = {
        "livenessProbe": health.liveness_probe,
        "readinessProbe": health.readiness_probe,
        "startupProbe": health.startup_probe,
    }
    port = health.port or (ports[0] if ports else None)
    if port is None and any(paths.values()):
        raise ValueError("the health check has no port: set healthCheckConfig.port or a container port")
    return {
        probe: {"httpGet": {"path": path, "port": port}, "initialDelaySeconds": 30, "failureThreshold": 1}
        for probe, path in paths.items()
        if path
    }


def _init_containers(
    name: str,
    config: ContainerConfig,
    env_from: list[Manifest],
    mounts: list[Manifest],
    storage: storage_sync.Sync | None,
    import_secret: Manifest | None,
) -> list[Manifest]:
    """crane's order: the config loader, the storage import, then the config's own init containers;
    each must succeed, in turn, before the next (and the container) starts."""
    init = [_config_loader(name, config.config_container, mounts)] if config.config_container else []
    if storage:
        init.append(_import(name, storage, import_secret, mounts))
    init += [_init_container(name, entry, env_from, mounts) for entry in config.init_containers or []]
    names = [name, *(c["name"] for c in init)]
    taken = sorted({n for n in names if names.count(n) > 1})
    if taken:
        raise ValueError(
            f"the pod's containers need distinct names: {', '.join(taken)} is used twice "
            f"(the config loader is {CONFIG_LOADER!r}, the storage import {IMPORT!r})"
        )
    return init


def _writable_volume(parent: str, field: str, volume: str | None, mounts: list[Manifest]) -> str:
    """The pod volume `<parent>-<volume>` that `field` names, which an init container writes into."""
    known = {m["name"]: m for m in mounts}
    mount = known.get(f"{parent}-{volume}")
    if mount is None:
        names = ", ".join(sorted(m["name"].removeprefix(f"{parent}-") for m in mounts)) or "none"
        raise ValueError(f"{field} {volume!r} names no volume of the container (its volumes: {names})")
    if mount["readOnly"]:
        raise ValueError(f"{field} {volume!r} names a read-only volume: nothing can be copied into it")
    return str(mount["name"])


def _config_loader(parent: str, loader: ConfigContainer, mounts: list[Manifest]) -> Manifest:
    """Copies the config image's `path` into the volume (`keepFiles` keeps what the volume already has)."""
    volume = _writable_volume(parent, "configContainer.volume", loader.volume, mounts)
    delete = [] if loader.keep_files else ["--delete"]
    return {
        "name": CONFIG_LOADER,
        "image": loader.image,
        "imagePullPolicy": "Always",
        "command": ["rsync", "-a", *delete, loader.path, CONFIG_TARGET],
        "volumeMounts": [{"name": volume, "mountPath": CONFIG_TARGET}],
    }


def _import(parent: str, storage: storage_sync.Sync, secret: Manifest | None, mounts: list[Manifest]) -> Manifest:
    """rclone syncs the bucket into the volume; a private storage's keys come from the Secret only."""
    volume = _writable_volume(parent, "storage.path", storage.volume, mounts)
    container: Manifest = {
        "name": IMPORT,
        "image": storage.image,
        "imagePullPolicy": "IfNotPresent",  # as on Docker: the node's RCLONE_IMAGE, local first
        "args": storage.args,
        "env": [{"name": k, "value": v} for k, v in storage.remote.items()],
        "volumeMounts": [{"name": volume, "mountPath": storage_sync.TARGET}],
    }
    if secret:
        container["envFrom"] = [{"secretRef": {"name": secret["metadata"]["name"]}}]
    return container


def _init_container(
    parent: str, entry: InitContainer, parent_env_from: list[Manifest], parent_mounts: list[Manifest]
) -> Manifest:
    """Always pulled; the parent's environment only with `useParentConfig`; mounts the parent's volumes by name."""
    container: Manifest = {"name": entry.name, "image": entry.image, "imagePullPolicy": "Always"}
    container.update(_command_line(entry.command, entry.args))
    if entry.environment:
        container["env"] = [{"name": k, "value": v} for k, v in _kv(entry.environment).items()]
    if entry.use_parent_config:
        container["envFrom"] = parent_env_from
    mounts = _init_mounts(parent, entry, parent_mounts)
    if mounts:
        container["volumeMounts"] = mounts
    return container


def _init_mounts(parent: str, entry: InitContainer, parent_mounts: list[Manifest]) -> list[Manifest]:
    known = {m["name"] for m in parent_mounts}
    mounts = []
    for volume in entry.volumes or []:
        volume_name = f"{parent}-{volume.name}"
        if volume_name not in known:
            raise ValueError(f"init container {entry.name}: no volume named {volume.name!r}")
        mounts.append({"name": volume_name, "mountPath": volume.path})
    return mounts


def _service(prefix: str, name: str, config: ContainerConfig, markers: _Markers) -> Manifest | None:
    internal = [p.internal for p in config.ports or []]
    for rng in config.port_ranges or []:
        internal += range(rng.internal.from_, rng.internal.to + 1)
    if not internal:
        return None
    ports = [{"name": f"tcp-{p}", "port": p, "targetPort": p, "protocol": "TCP"} for p in internal]
    spec: dict[str, Any] = {"selector": {"app": name}, "ports": ports, "type": "ClusterIP"}
    annotations = markers.annotations
    if config.use_load_balancer:
        spec.update(type="LoadBalancer", externalTrafficPolicy="Local")
        annotations = {**annotations, **_kv(config.extra_lb_annotations)}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, prefix, markers.labels, annotations or None),
        "spec": spec,
    }


def _ingress(
    prefix: str,
    name: str,
    config: ContainerConfig,
    service: Manifest,
    markers: _Markers,
    root_domain: str | None,
) -> Manifest | None:
    """An nginx Ingress for `expose` (cert-manager TLS for `exposeWithTls`); the host is routing.domain,
    else `<name>.<prefix>.<ROOT_DOMAIN>`."""
    expose = config.expose or Expose.none
    if expose == Expose.none:
        return None
    routing = config.routing or Routing()
    host = routing.domain or (f"{name}.{prefix}.{root_domain}" if root_domain else None)
    if not host:
        raise ValueError("exposing a container needs routing.domain or the agent's ROOT_DOMAIN")
    port = routing.port or service["spec"]["ports"][0]["port"]
    path, rewrite_notes = _ingress_path(routing)
    notes = {"kubernetes.io/ingress.class": "nginx", **markers.annotations, **rewrite_notes, **_header_notes(config)}
    backend = {"service": {"name": name, "port": {"number": port}}}
    spec: Manifest = {
        "rules": [
            {
                "host": host,
                "http": {"paths": [{"path": path, "pathType": "ImplementationSpecific", "backend": backend}]},
            }
        ]
    }
    if expose == Expose.expose_with_tls:
        notes.update({"kubernetes.io/tls-acme": "true", "cert-manager.io/cluster-issuer": "letsencrypt-prod"})
        spec["tls"] = [{"hosts": [host], "secretName": f"{name}-tls"}]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(name, prefix, markers.labels, notes),
        "spec": spec,
    }


def _ingress_path(routing: Routing) -> tuple[str, dict[str, str]]:
    """The path and its nginx notes: `stripPath` rewrites it away, `uploadLimit` caps the body size."""
    path = routing.path or "/"
    notes = {}
    if routing.strip_path:
        path = path.rstrip("/") + "(/|$)(.*)"
        notes["nginx.ingress.kubernetes.io/use-regex"] = "true"
        notes["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2"
    if routing.upload_limit:
        notes["nginx.ingress.kubernetes.io/proxy-body-size"] = routing.upload_limit
    return path, notes


def _header_notes(config: ContainerConfig) -> dict[str, str]:
    """CORS and proxy notes: `proxyHeaders` turns on CORS and buffering and allows the forwarding headers."""
    notes = {}
    headers = [h.key for h in config.custom_headers or []]
    if config.proxy_headers:
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


def _service_monitor(prefix: str, name: str, config: ContainerConfig, service: Manifest) -> Manifest | None:
    """A Prometheus Operator ServiceMonitor scraping the metrics port (else the Service's first) at
    the metrics path (else /metrics); the runtime applies it only where the CRD is installed."""
    metrics = config.metrics
    if not metrics or not metrics.enabled:
        return None
    port = metrics.port or service["spec"]["ports"][0]["port"]
    return {
        "apiVersion": SERVICE_MONITOR_API,
        "kind": "ServiceMonitor",
        "metadata": _meta(name, prefix),
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "endpoints": [{"targetPort": port, "path": metrics.path or DEFAULT_METRICS_PATH}],
        },
    }
