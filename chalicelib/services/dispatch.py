"""The deploy worker's job: turn a started deployment into the command its node's agent runs.

Runs from the deploy queue. A message names a deployment and its try; a stale try or a
duplicate delivery (the try was already dispatched) changes nothing, so SQS redeliveries never
deploy twice. The "dispatched" mark and the command are one transaction: a worker that died
between two separate writes would leave a try marked dispatched whose command never reaches
the node, and every redelivery would skip it until the timeout failed the deployment.
Registry passwords and storage keys are decrypted only here, in memory, and sealed to the
agent's public key before the command is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import faults
from chalicelib.contracts import agent as contract
from chalicelib.db import commands as command_repo
from chalicelib.db import deployments as repo
from chalicelib.db import images as image_repo
from chalicelib.db import nodes as node_repo
from chalicelib.db import versions as version_repo
from chalicelib.db.items import DeploymentItem, ImageItem, InstanceItem, NodeItem, VersionItem
from chalicelib.domain import deployments as rules
from chalicelib.domain import nodes as node_rules
from chalicelib.errors import AppError
from chalicelib.security.sealing import seal_for_agent
from chalicelib.services import deployment_lifecycle, push, registries, storages

log = logging.getLogger(__name__)


def dispatch(team_id: str, deployment_id: str, attempt: int, instance_ids: list[str] | None = None) -> str:
    """Returns what happened: `dispatched`, `stale`, `duplicate` or `failed`."""
    deployment = repo.get(team_id, deployment_id, consistent=True)
    if deployment is None or deployment.status != "in-progress" or int(deployment.tries) != attempt:
        return "stale"
    if int(deployment.dispatched_try or 0) >= attempt:
        _push_again(team_id, deployment, attempt)
        return "duplicate"
    try:
        node, command = build(team_id, deployment, attempt, instance_ids)
    except AppError as error:  # a rule, not an outage: fail this try with a readable reason
        deployment_lifecycle.finish(team_id, deployment, attempt, "failed", [error.message])
        return "failed"
    item = command_repo.new_item(team_id, deployment.node_id, "deploy", command.dump())
    event = repo.new_event(
        deployment.id,
        "log",
        {"log": [f"Deploying {len(command.workloads)} container(s) to the node."], "level": "info"},
        attempt,
    )
    faults.point("dispatch.before-command")
    if not repo.dispatch(deployment, attempt, item, event):
        return "duplicate"
    faults.point("dispatch.after-command")
    log.info(
        "deployment %s try %d: command %s for node %s",
        deployment.id,
        attempt,
        item.id,
        node.id,
        extra={"deployment_id": deployment.id, "node_id": node.id, "command_id": item.id},
    )
    push.command(team_id, node, item)  # at once; had no connection taken it, the agent fetches it on connect
    push.deployment(deployment.id, [event])
    return "dispatched"


def _push_again(team_id: str, deployment: DeploymentItem, attempt: int) -> None:
    """A redelivered message of a dispatched try: a worker that died between writing the command and
    pushing it left it pending, so it is pushed (again; the agent drops a repeat)."""
    node = node_repo.get(team_id, deployment.node_id)
    for item in command_repo.pending(deployment.node_id) if node else ():
        body = item.body or {}
        if item.kind == "deploy" and body.get("deploymentId") == deployment.id and body.get("attempt") == attempt:
            push.command(team_id, node, item)


def build(
    team_id: str, deployment: DeploymentItem, attempt: int, instance_ids: list[str] | None
) -> tuple[NodeItem, contract.Deploy]:
    """The deployment's node and the command its agent gets, checked as `start` checked it."""
    node, version = _target(team_id, deployment)
    pairs = _instances(team_id, deployment, instance_ids)
    containers = rules.containers(
        ((instance.id, image.config, instance.config) for instance, image in pairs), deployment.config, version.name
    )
    rules.check_startable(containers, node.public_key)
    pull_auth = _PullAuth(team_id, node.public_key)
    storage_sources = _StorageSources(team_id, node.public_key)
    workloads = [
        _workload(container, image, pull_auth, storage_sources)
        for container, (_, image) in zip(containers, pairs, strict=True)
    ]
    _check_agent_features(node, workloads)
    return node, contract.Deploy(
        deployment_id=deployment.id,
        attempt=attempt,
        prefix=deployment.prefix,
        version_name=version.name,
        workloads=workloads,
    )


def _check_agent_features(node: NodeItem, workloads: list[contract.Workload]) -> None:
    """An agent that would skip a storage import, a route or a config container silently gets no such command."""
    reason = node_rules.unsupported_features(
        node.kind,
        node.version,
        imports_storage=any(w.storage for w in workloads),
        exposes=any((w.config.expose or "none") != "none" for w in workloads),
        loads_config=any(w.config.config_container for w in workloads),
    )
    if reason:
        raise AppError(reason)


def _target(team_id: str, deployment: DeploymentItem) -> tuple[NodeItem, VersionItem]:
    node = node_repo.get(team_id, deployment.node_id)
    version = version_repo.get(team_id, deployment.project_id, deployment.version_id)
    if node is None or version is None or not node.public_key:
        raise AppError("The node or version of this deployment is gone, or the node has no key.")
    return node, version


def _instances(
    team_id: str, deployment: DeploymentItem, instance_ids: list[str] | None
) -> list[tuple[InstanceItem, ImageItem]]:
    """The instances of this try with their images, in image order (instances of removed images are skipped)."""
    images = {i.id: i for i in image_repo.list_for_version(team_id, deployment.version_id)}
    pairs = [
        (i, images[i.image_id])
        for i in repo.instances(team_id, deployment.id)
        if i.image_id in images and (not instance_ids or i.id in instance_ids)
    ]
    return sorted(pairs, key=lambda pair: int(pair[1].order))


def _workload(
    container: rules.Container, image: ImageItem, pull_auth: _PullAuth, storage_sources: _StorageSources
) -> contract.Workload:
    registry, auth = pull_auth.of(image.registry_id)
    return contract.Workload(
        instance_id=container.instance_id,
        name=container.name,
        image=registries.image_reference(registry, image.name, image.tag),
        registry_auth=auth,
        storage=storage_sources.of(container.config.storage.storage_id if container.config.storage else None),
        config=container.config,
    )


class _PullAuth:
    """Each registry of a version read, unsealed and sealed to the agent once, however many
    images come from it."""

    def __init__(self, team_id: str, public_key: str) -> None:
        self.team_id = team_id
        self.public_key = public_key
        self.known: dict[str, tuple[Any, contract.RegistryAuth | None]] = {}

    def of(self, registry_id: str) -> tuple[Any, contract.RegistryAuth | None]:
        if registry_id not in self.known:
            registry = registries.get_registry(self.team_id, registry_id)
            credentials = registries.credentials(self.team_id, registry)
            auth = None
            if credentials:
                auth = contract.RegistryAuth(
                    server=registries.pull_server(registry),
                    user=credentials[0],
                    sealed_password=seal_for_agent(self.public_key, credentials[1]),
                )
            self.known[registry_id] = (registry, auth)
        return self.known[registry_id]


class _StorageSources:
    """The storage a config imports from (dyrector §6 item 9): its URL and, for a private one, its keys
    sealed to the agent; each storage of a deployment read and unsealed once."""

    def __init__(self, team_id: str, public_key: str) -> None:
        self.team_id = team_id
        self.public_key = public_key
        self.known: dict[str, contract.StorageSource] = {}

    def of(self, storage_id: str | None) -> contract.StorageSource | None:
        if not storage_id:
            return None
        if storage_id not in self.known:
            storage = storages.get_for_deploy(self.team_id, storage_id)
            if storage is None:
                raise AppError("A container config names a storage that no longer exists.")
            keys = storages.credentials(self.team_id, storage)
            self.known[storage_id] = contract.StorageSource(
                url=storage.url,
                sealed_access_key=seal_for_agent(self.public_key, keys[0]) if keys else None,
                sealed_secret_key=seal_for_agent(self.public_key, keys[1]) if keys else None,
            )
        return self.known[storage_id]
