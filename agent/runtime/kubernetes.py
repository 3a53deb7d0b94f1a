"""The Kubernetes runtime: the official `kubernetes` client against the cluster's API server.

A "container" is a Deployment in the namespace named by the prefix (dyrector §5.6, §7):
start/stop scale it to 1/0, restart bumps a pod-template annotation, deleting one removes
its Deployment, Service, ConfigMap, Secrets and Ingress (PVCs are kept: they hold data), and
deleting a prefix deletes the namespace. Objects are created, or patched when they exist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes.client import ApiClient, AppsV1Api, CoreV1Api, NetworkingV1Api
from kubernetes.client.exceptions import ApiException

from agent.runtime import k8s_objects
from agent.runtime.base import PREFIX_LABEL, ContainerNotFound, OpenSealed, Report, split_image
from chalicelib.contracts.agent import ContainerInfo, ContainerPort, Deploy, DeploymentEvent, Workload

Manifest = dict[str, Any]
Call = Callable[[], object]
# The client's generated methods take models, but serialise a plain dict body as it is.
ApiMethod = Callable[..., object]


class KubernetesRuntime:
    def __init__(self, api_client: ApiClient, root_domain: str | None = None) -> None:
        self.core = CoreV1Api(api_client)
        self.apps = AppsV1Api(api_client)
        self.net = NetworkingV1Api(api_client)
        self.root_domain = root_domain

    # -- applying objects ---------------------------------------------------------------
    def apply(self, objects: list[Manifest]) -> None:
        for obj in objects:
            create, patch = self._operations(obj)
            try:
                create()
            except ApiException as error:
                if error.status != 409:
                    raise
                if patch is not None:
                    patch()

    def _operations(self, obj: Manifest) -> tuple[Call, Call | None]:
        """How to create the object, and how to patch it when it exists (None: leave it as it is)."""
        kind, name = obj["kind"], obj["metadata"]["name"]
        namespace = obj["metadata"].get("namespace")
        if kind == "Namespace":
            return (lambda: self.core.create_namespace(obj)), None  # type: ignore[arg-type]  # a dict body
        table: dict[str, tuple[ApiMethod, ApiMethod | None]] = {
            "ConfigMap": (self.core.create_namespaced_config_map, self.core.patch_namespaced_config_map),
            "Secret": (self.core.create_namespaced_secret, self.core.patch_namespaced_secret),
            "PersistentVolumeClaim": (self.core.create_namespaced_persistent_volume_claim, None),  # spec is immutable
            "Service": (self.core.create_namespaced_service, self.core.patch_namespaced_service),
            "Deployment": (self.apps.create_namespaced_deployment, self.apps.patch_namespaced_deployment),
            "Ingress": (self.net.create_namespaced_ingress, self.net.patch_namespaced_ingress),
        }
        create, patch = table[kind]
        return (lambda: create(namespace, obj)), ((lambda: patch(name, namespace, obj)) if patch else None)

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
            (self.apps.delete_namespaced_deployment, name),
            (self.core.delete_namespaced_service, name),
            (self.core.delete_namespaced_config_map, name),
            (self.core.delete_namespaced_secret, name),
            (self.core.delete_namespaced_secret, f"{name}-reg"),
            (self.net.delete_namespaced_ingress, name),
        ]
        deleted = 0
        for delete, object_name in deletions:
            try:
                delete(object_name, prefix)
                deleted += 1
            except ApiException as error:
                if error.status != 404:
                    raise
        if not deleted:
            raise ContainerNotFound(f"nothing named {name} in namespace {prefix}")

    def delete_prefix(self, prefix: str) -> None:
        try:
            self.core.delete_namespace(prefix)
        except ApiException as error:
            if error.status != 404:
                raise

    def deploy(self, request: Deploy, report: Report, open_sealed: OpenSealed) -> bool:
        for workload in request.workloads:
            secrets = _opened_secrets(workload, open_sealed)
            auth = _registry_auth(workload, open_sealed)
            try:
                self.apply(
                    k8s_objects.build_objects(
                        request.prefix, workload.name, workload.image, workload.config, secrets, auth, self.root_domain
                    )
                )
            except (ValueError, ApiException) as error:
                reason = getattr(error, "reason", None) or str(error)
                report([DeploymentEvent(type="log", log=[f"{workload.name}: {reason}"], level="error")])
                return False
            report(
                [
                    DeploymentEvent(type="log", log=[f"{workload.name}: applied to namespace {request.prefix}"]),
                    DeploymentEvent(type="container-state", instance_id=workload.instance_id, state="waiting"),
                ]
            )
        return True

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


def _opened_secrets(workload: Workload, open_sealed: OpenSealed) -> dict[str, str]:
    """The secrets that have a value, opened (they become the container's Secret)."""
    return {s["key"]: open_sealed(s["value"]) for s in workload.config.get("secrets") or [] if s.get("value")}


def _registry_auth(workload: Workload, open_sealed: OpenSealed) -> dict[str, str] | None:
    if not workload.registry_auth:
        return None
    return {
        "url": workload.registry_auth.server,
        "user": workload.registry_auth.user,
        "password": open_sealed(workload.registry_auth.sealed_password),
    }


def _state(replicas: int | None, status: Any) -> str:
    """Scaled to 0 is `exited` (stopped); otherwise `running` once a replica is available."""
    desired = replicas if replicas is not None else 1
    if desired == 0:
        return "exited"
    available = (status.available_replicas or 0) if status else 0
    return "running" if available > 0 else "waiting"
