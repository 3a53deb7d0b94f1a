"""The Kubernetes runtime: the official `kubernetes` client against the cluster's API server.

A "container" is a Deployment in the namespace named by the prefix (dyrector §5.6, §7):
start/stop scale it to 1/0, restart bumps a pod-template annotation, deleting one removes
its Deployment, Service, ConfigMap, Secrets (its own, the pull Secret and the storage import's)
and Ingress (PVCs are kept: they hold data), and deleting a prefix deletes the namespace. A
container's log and inspection come from its Deployment's current pod (`k8s_inspect.current_pod`: the
newest of the current pod template, a ready one first, so not the previous deploy's pod that serves
until the new one is ready); the values of the variables its Secrets give it are masked in both.
Objects are server-side applied under one field manager (as crane does), so a re-deploy removes
the labels, annotations, variables, ports and init containers (a storage import, a config
loader) the config dropped; a Service, Ingress, Secret or ServiceMonitor it no longer needs is
deleted. PVCs are only created: their spec is immutable. A deploy then waits for each workload's
rollout (`k8s_rollout`): its pod available, or the reason it will not be, in the deployment's log.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import (
    ApiClient,
    ApiextensionsV1Api,
    AppsV1Api,
    CoreV1Api,
    CustomObjectsApi,
    NetworkingV1Api,
)
from kubernetes.client.exceptions import ApiException

from agent.runtime import inspection, k8s_inspect, k8s_objects, k8s_rollout
from agent.runtime.base import PREFIX_LABEL, ContainerNotFound, OpenSealed, Report, split_image
from agent.runtime.container_logs import LineReader, render
from agent.settings import KubernetesSettings
from chalicelib.contracts.agent import (
    ContainerInfo,
    ContainerInspection,
    ContainerLog,
    ContainerPort,
    ContainerStateName,
    Deploy,
    DeploymentEvent,
    EnvironmentVariable,
    Workload,
)

Manifest = dict[str, Any]
# The client's generated methods take models, but serialise a plain dict body as it is.
ApiMethod = Callable[..., object]
FIELD_MANAGER = "crane-dyrector-io"
APPLY_PATCH = "application/apply-patch+yaml"
READ_TIMEOUT = 20  # seconds for one read of a pod's log (the platform waits for the answer)
MONITORS = "servicemonitors"
SERVICE_MONITOR_CRD = f"{MONITORS}.monitoring.coreos.com"


class KubernetesRuntime:
    def __init__(self, api_client: ApiClient, settings: KubernetesSettings | None = None) -> None:
        self.core = CoreV1Api(api_client)
        self.apps = AppsV1Api(api_client)
        self.net = NetworkingV1Api(api_client)
        self.custom = CustomObjectsApi(api_client)
        self.extensions = ApiextensionsV1Api(api_client)
        self.settings = settings or KubernetesSettings()
        self.rollout = k8s_rollout.Rollout(
            self.core, self.apps, self.settings.poll_seconds, self.settings.poll_max_seconds
        )

    # -- applying objects ---------------------------------------------------------------
    def apply(self, objects: list[Manifest]) -> None:
        """Applies each object; a PersistentVolumeClaim only when it is missing."""
        for obj in objects:
            kind, name, namespace = obj["kind"], obj["metadata"]["name"], obj["metadata"].get("namespace")
            if kind == "PersistentVolumeClaim":
                self._create_missing_claim(obj)
            elif kind == "Namespace":
                _applied(self.core.patch_namespace, name, obj)
            elif kind == "ServiceMonitor":
                group, version = k8s_objects.SERVICE_MONITOR_API.split("/")
                _applied(self.custom.patch_namespaced_custom_object, group, version, namespace, MONITORS, name, obj)
            else:
                _applied(self._methods()[kind][1], name, namespace, obj)

    def _create_missing_claim(self, claim: Manifest) -> None:
        try:
            self.core.create_namespaced_persistent_volume_claim(claim["metadata"]["namespace"], claim)  # type: ignore[arg-type]
        except ApiException as error:
            if error.status != 409:
                raise

    def _methods(self) -> dict[str, tuple[ApiMethod, ApiMethod]]:
        """How to delete and how to patch each namespaced kind the runtime creates."""
        return {
            "ConfigMap": (self.core.delete_namespaced_config_map, self.core.patch_namespaced_config_map),
            "Secret": (self.core.delete_namespaced_secret, self.core.patch_namespaced_secret),
            "Service": (self.core.delete_namespaced_service, self.core.patch_namespaced_service),
            "Deployment": (self.apps.delete_namespaced_deployment, self.apps.patch_namespaced_deployment),
            "Ingress": (self.net.delete_namespaced_ingress, self.net.patch_namespaced_ingress),
        }

    def _delete(self, kind: str, name: str, namespace: str) -> bool:
        """Deletes one object; False when there was none."""
        try:
            if kind == "ServiceMonitor":
                group, version = k8s_objects.SERVICE_MONITOR_API.split("/")
                self.custom.delete_namespaced_custom_object(group, version, namespace, MONITORS, name)
            else:
                self._methods()[kind][0](name, namespace)
        except ApiException as error:
            if error.status != 404:
                raise
            return False
        return True

    def _has_service_monitors(self) -> bool:
        """Whether the Prometheus Operator's ServiceMonitor CRD is installed (its large schema is not parsed)."""
        try:
            self.extensions.read_custom_resource_definition(SERVICE_MONITOR_CRD, _preload_content=False)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    # -- the Runtime protocol -------------------------------------------------------------
    def list_containers(self, prefix: str | None) -> list[ContainerInfo]:
        if prefix:
            try:
                found = self.apps.list_namespaced_deployment(prefix, label_selector=PREFIX_LABEL).items
            except ApiException as error:
                if error.status == 404:
                    return []
                raise
        else:
            found = self.apps.list_deployment_for_all_namespaces(label_selector=PREFIX_LABEL).items
        return [self._info(d) for d in found]

    def container_command(self, prefix: str, name: str, operation: str) -> None:
        if operation in ("start", "stop"):
            body: dict[str, Any] = {"spec": {"replicas": 1 if operation == "start" else 0}}
        elif operation == "restart":
            body = {
                "spec": {
                    "template": {"metadata": {"annotations": {k8s_objects.RESTARTED_AT: datetime.now(UTC).isoformat()}}}
                }
            }
        else:
            raise ValueError(f"unknown operation {operation!r}")
        try:
            self.apps.patch_namespaced_deployment(name, prefix, body)
        except ApiException as error:
            if error.status == 404:
                raise ContainerNotFound(f"deployment {prefix}/{name} not found") from None
            raise

    def delete_container(self, prefix: str, name: str) -> None:
        deletions = [
            ("Deployment", name),
            ("Service", name),
            ("ConfigMap", name),
            ("Secret", name),
            ("Secret", f"{name}-reg"),
            ("Secret", f"{name}-import"),
            ("Ingress", name),
        ]
        deleted = [self._delete(kind, object_name, prefix) for kind, object_name in deletions]
        if not any(deleted):
            raise ContainerNotFound(f"nothing named {name} in namespace {prefix}")

    def delete_prefix(self, prefix: str) -> None:
        try:
            self.core.delete_namespace(prefix)
        except ApiException as error:
            if error.status != 404:
                raise

    def container_log(self, prefix: str, name: str, tail: int, since: datetime | None) -> ContainerLog:
        deployment = self._deployment(prefix, name)
        pod = self._current_pod(deployment)
        if pod is None or (since is not None and _aware(since) > datetime.now(UTC)):
            return ContainerLog()
        container = deployment.spec.template.spec.containers[0]
        reader = LineReader(tail)
        try:
            output: Any = self.core.read_namespaced_pod_log(
                pod.metadata.name,
                prefix,
                container=container.name,
                tail_lines=tail,
                timestamps=True,
                since_seconds=_seconds_since(since),
                _preload_content=False,  # read as it comes: never the whole log in memory
                _request_timeout=READ_TIMEOUT,
            )
        except ApiException as error:
            if error.status in (400, 404):  # not started yet, or the pod went meanwhile: nothing written
                return ContainerLog()
            raise
        try:
            for chunk in output.stream(65536):
                reader.feed(chunk)
        finally:
            output.release_conn()
        _, secrets = self._environment(prefix, container)
        return render([reader], tail, secrets, since)

    def inspect_container(self, prefix: str, name: str) -> ContainerInspection:
        deployment = self._deployment(prefix, name)
        environment, _ = self._environment(prefix, deployment.spec.template.spec.containers[0])
        state = _state(deployment.spec.replicas, deployment.status)
        return k8s_inspect.build(deployment, self._current_pod(deployment), state, environment)

    def _deployment(self, prefix: str, name: str) -> Any:
        try:
            return self.apps.read_namespaced_deployment(name, prefix)
        except ApiException as error:
            if error.status == 404:
                raise ContainerNotFound(f"deployment {prefix}/{name} not found") from None
            raise

    def _current_pod(self, deployment: Any) -> Any:
        """The pod the container's log and inspection come from (`k8s_inspect.current_pod`; None without one)."""
        selector = ",".join(f"{k}={v}" for k, v in (deployment.spec.selector.match_labels or {}).items())
        pods: list[Any] = self.core.list_namespaced_pod(deployment.metadata.namespace, label_selector=selector).items
        return k8s_inspect.current_pod(deployment, pods)

    def _environment(self, prefix: str, container: Any) -> tuple[list[EnvironmentVariable], list[str]]:
        """The container's variables (those from a Secret masked) and the secret values (to mask in its log)."""
        found = _Environment()
        for source in container.env_from or []:
            data = self._data(prefix, source)
            found.add(
                {(source.prefix or "") + key: value for key, value in data.items()}, source.secret_ref is not None
            )
        for variable in container.env or []:
            found.add(*self._variable(prefix, variable))
        return inspection.environment(found.pairs, found.secret_keys), [v for v in found.secrets if v]

    def _variable(self, prefix: str, variable: Any) -> tuple[dict[str, str], bool]:
        """One `env` entry as {name: value} and whether it comes from a Secret."""
        reference = variable.value_from.secret_key_ref if variable.value_from else None
        if reference is None:
            return {variable.name: variable.value or ""}, False
        return {variable.name: self._secret(prefix, reference.name).get(reference.key, "")}, True

    def _data(self, prefix: str, source: Any) -> dict[str, str]:
        if source.secret_ref is not None:
            return self._secret(prefix, source.secret_ref.name)
        if source.config_map_ref is not None:
            try:
                return dict(self.core.read_namespaced_config_map(source.config_map_ref.name, prefix).data or {})
            except ApiException as error:
                if error.status != 404:
                    raise
        return {}

    def _secret(self, prefix: str, name: str) -> dict[str, str]:
        """A Secret's values, decoded (kept in memory only, to mask them)."""
        try:
            data = self.core.read_namespaced_secret(name, prefix).data or {}
        except ApiException as error:
            if error.status == 404:
                return {}
            raise
        return {key: base64.b64decode(value).decode("utf-8", "replace") for key, value in data.items()}

    def deploy(self, request: Deploy, report: Report, open_sealed: OpenSealed) -> bool:
        """Applies each workload, then waits for its rollout (`k8s_rollout`); the first that fails ends the deploy."""
        for workload in request.workloads:
            try:
                target = self._apply_workload(request.prefix, workload, open_sealed, report)
                failure = self.rollout.wait(target)
            except (ValueError, ApiException) as error:
                reason = getattr(error, "reason", None) or str(error)
                report([log(f"{workload.name}: {reason}", level="error")])
                return False
            if failure:
                report(
                    [
                        log(f"{workload.name}: {failure.reason}", *failure.output, level="error"),
                        DeploymentEvent(
                            type="container-state",
                            instance_id=workload.instance_id,
                            state=failure.state,
                            reason=failure.reason[:200],
                        ),
                    ]
                )
                return False
            report(
                [
                    log(f"{workload.name}: rolled out, its pod is available"),
                    DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="running"),
                ]
            )
        return True

    def _apply_workload(
        self, prefix: str, workload: Workload, open_sealed: OpenSealed, report: Report
    ) -> k8s_rollout.Target:
        """Applies the workload's objects and removes those its config dropped; says what its rollout must reach."""
        objects = k8s_objects.workload_objects(
            prefix, workload, open_sealed, self.settings.root_domain, rclone_image=self.settings.rclone_image
        )
        skipped = self._without_missing_kinds(objects)
        self.apply(objects)
        self._remove_dropped(prefix, workload.name, objects)
        spec = next(obj for obj in objects if obj["kind"] == "Deployment")["spec"]
        target = k8s_rollout.Target(
            namespace=prefix,
            name=workload.name,
            stamp=spec["template"]["metadata"]["annotations"][k8s_objects.RESTARTED_AT],
            timeout=spec["progressDeadlineSeconds"],
        )
        report(
            [
                log(
                    f"{workload.name}: applied to namespace {prefix}; waiting up to {target.timeout} s for its pod",
                    *skipped,
                ),
                DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="waiting"),
            ]
        )
        return target

    def _without_missing_kinds(self, objects: list[Manifest]) -> list[str]:
        """Leaves out a ServiceMonitor where the cluster has no such kind; says so for the log."""
        monitors = [obj for obj in objects if obj["kind"] == "ServiceMonitor"]
        if not monitors or self._has_service_monitors():
            return []
        objects.remove(monitors[0])
        return ["metrics: the cluster has no ServiceMonitor kind (Prometheus Operator); none created"]

    def _remove_dropped(self, prefix: str, name: str, applied: list[Manifest]) -> None:
        """Deletes this workload's optional objects that the config no longer produces (a kind the
        cluster does not have answers 404 as a missing object does)."""
        present = {(obj["kind"], obj["metadata"]["name"]) for obj in applied}
        for kind, suffix in k8s_objects.OPTIONAL_OBJECTS:
            if (kind, name + suffix) not in present:
                self._delete(kind, name + suffix, prefix)

    @staticmethod
    def _info(deployment: Any) -> ContainerInfo:
        meta, spec = deployment.metadata, deployment.spec
        container = spec.template.spec.containers[0]
        image_name, image_tag = split_image(container.image or "")
        command = [*(container.command or []), *(container.args or [])]
        return ContainerInfo(
            prefix=meta.namespace,
            name=meta.name,
            state=_state(spec.replicas, deployment.status),
            image_name=image_name,
            image_tag=image_tag,
            command=" ".join(command),
            created_at=meta.creation_timestamp,
            ports=[ContainerPort(internal=p.container_port) for p in container.ports or []],
            labels=dict(meta.labels or {}),
        )


def _applied(method: ApiMethod, *args: object) -> object:
    """Server-side apply: the body is our field manager's whole intent (what it no longer sets is
    removed); `Strict` makes the API server refuse a field it does not know instead of dropping it."""
    return method(*args, field_manager=FIELD_MANAGER, force=True, field_validation="Strict", _content_type=APPLY_PATCH)


@dataclass
class _Environment:
    """A container's variables as they are gathered: the keys and values of its Secrets are kept apart."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    secret_keys: set[str] = field(default_factory=set)
    secrets: list[str] = field(default_factory=list)

    def add(self, variables: dict[str, str], secret: bool) -> None:
        self.pairs += variables.items()
        if secret:
            self.secret_keys.update(variables)
            self.secrets += variables.values()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seconds_since(since: datetime | None) -> int | None:
    """`since` as the API's sinceSeconds (whole seconds, rounded up: `render` drops the earlier lines)."""
    if since is None:
        return None
    return max(1, math.ceil((datetime.now(UTC) - _aware(since)).total_seconds()))


def log(*lines: str, level: str = "info") -> DeploymentEvent:
    return DeploymentEvent(type="log", log=list(lines), level=level)


def _state(replicas: int | None, status: Any) -> ContainerStateName:
    """Scaled to 0 is `exited` (stopped); otherwise `running` once a replica is available."""
    desired = replicas if replicas is not None else 1
    if desired == 0:
        return "exited"
    available = (status.available_replicas or 0) if status else 0
    return "running" if available > 0 else "waiting"
