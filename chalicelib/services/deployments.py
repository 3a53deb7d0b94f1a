"""Deployments: a version's images on a node under a prefix (dyrector §4).

Statuses move forward only: preparing → in-progress → successful | failed, and a later
success makes the older deployments of the same version+node+prefix obsolete. `start`
validates, flips the status with a conditional write that also takes the node+prefix
in-flight guard, and queues the work; the deploy worker (SQS) hands the agent its command.
Secret values are only ever stored sealed to the node agent's public key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import ids, settings
from chalicelib.adapters import observability, queues
from chalicelib.contracts.deploy import DeployRequested
from chalicelib.contracts.naming import SECRET_KEYS_LABEL
from chalicelib.db import deployments as repo
from chalicelib.db import images as image_repo
from chalicelib.db import keys, named
from chalicelib.db import versions as version_repo
from chalicelib.db.items import (
    DeploymentItem,
    DeploymentTokenItem,
    ImageItem,
    InstanceItem,
    NodeItem,
    RegistryItem,
    VersionItem,
)
from chalicelib.db.transactions import Transaction
from chalicelib.domain import deployments as rules
from chalicelib.domain import versions as version_rules
from chalicelib.errors import BadRequestError, ForbiddenError, PreconditionFailedError, found_or_404, not_found, taken
from chalicelib.models.deployments import (
    CopyDeploymentRequest,
    CreateDeploymentRequest,
    DeploymentTokenRequest,
    PatchDeploymentRequest,
)
from chalicelib.models.paging import Page, PageQuery
from chalicelib.security import jwts
from chalicelib.services import deployment_lifecycle, push, storages
from chalicelib.services import nodes as node_service
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

DEPLOY_TOKEN = "deploy"
_log = logging.getLogger(__name__)


@dataclass
class DeploymentView:
    deployment: DeploymentItem
    version: VersionItem
    node: NodeItem

    @property
    def rolling(self) -> bool:
        return self.version.kind == version_rules.ROLLING


def get_item(team: TeamAccess, deployment_id: str) -> DeploymentItem:
    return found_or_404(repo.get(team.team_id, deployment_id), "deployment")


def view(team: TeamAccess, deployment_id: str) -> DeploymentView:
    return _viewed(team, get_item(team, deployment_id))[0]


def _viewed(team: TeamAccess, deployment: DeploymentItem) -> tuple[DeploymentView, dict[str, Any]]:
    """The deployment with its version and node (and project and token, read in the same batch)."""
    related = repo.related(team.team_id, deployment)
    if "version" not in related or "node" not in related:
        raise not_found("deployment")
    return DeploymentView(deployment, related["version"], related["node"]), related


@dataclass
class DeploymentDetails:
    """What the deployment page shows, each item read once."""

    found: DeploymentView
    context: dict[str, dict[str, Any]]
    instances: list[tuple[InstanceItem, Any]]  # (instance, its image), in image order
    registries: dict[str, Any]
    token: DeploymentTokenItem | None


def details(team: TeamAccess, deployment_id: str) -> DeploymentDetails:
    found, related = _viewed(team, get_item(team, deployment_id))
    item = found.deployment
    images = {i.id: i for i in image_repo.list_for_version(team.team_id, item.version_id)}
    instances = [
        (inst, images[inst.image_id]) for inst in repo.instances(team.team_id, item.id) if inst.image_id in images
    ]
    instances.sort(key=lambda pair: int(pair[1].order))
    project = related.get("project")
    context = {
        "projects": {project.id: project} if project else {},
        "versions": {found.version.id: found.version},
        "nodes": {found.node.id: found.node},
    }
    return DeploymentDetails(
        found,
        context,
        instances,
        image_repo.registries_of(team.team_id, {i.registry_id for i in images.values()}),
        related.get("token"),
    )


def list_deployments(team: TeamAccess, query: PageQuery) -> Page[DeploymentItem]:
    """A page of the team's deployments, newest first."""
    return repo.page_for_team(team.team_id, query.take, query.cursor)


def context(team: TeamAccess, deployments: list[DeploymentItem]) -> dict[str, dict[str, Any]]:
    """Projects, versions and nodes the deployments point at, in one BatchGetItem."""
    return repo.context_of(team.team_id, deployments)


def create_deployment(team: TeamAccess, identity: Identity, request: CreateDeploymentRequest) -> DeploymentItem:
    version = version_repo.by_id(request.version_id)
    if version is None or keys.team(team.team_id) != version.PK:
        raise not_found("version")
    node = node_service.get_node(team, request.node_id)
    images = image_repo.list_for_version(team.team_id, version.id)
    if not images:
        raise PreconditionFailedError("The version has no images to deploy.", property="versionId")
    now = ids.utcnow()
    deployment = repo.new_item(
        team.team_id,
        ids.new_id(),
        version.project_id,
        version.id,
        node.id,
        request.prefix,
        request.note,
        {},
        identity.user_id,
        now,
    )
    instances = [repo.new_instance(team.team_id, deployment.id, image.id, {}, now) for image in images]
    repo.create(team.team_id, deployment, instances, version.kind)
    return deployment


def copy_deployment(
    team: TeamAccess, identity: Identity, deployment_id: str, request: CopyDeploymentRequest
) -> DeploymentItem:
    """Same version, another node or prefix; sealed secrets survive only on the same node."""
    source = view(team, deployment_id)
    if source.deployment.status == "in-progress":
        raise PreconditionFailedError("A deployment in progress cannot be copied.", property="status")
    node = node_service.get_node(team, request.node_id)
    same_node = node.id == source.node.id
    now = ids.utcnow()
    config = source.deployment.config if same_node else rules.without_secret_values(source.deployment.config)
    copy = repo.new_item(
        team.team_id,
        ids.new_id(),
        source.deployment.project_id,
        source.version.id,
        node.id,
        request.prefix,
        request.note if request.note is not None else source.deployment.note,
        config,
        identity.user_id,
        now,
    )
    instances = [
        repo.new_instance(
            team.team_id,
            copy.id,
            item.image_id,
            item.config if same_node else rules.without_secret_values(item.config),
            now,
        )
        for item in repo.instances(team.team_id, source.deployment.id)
    ]
    repo.create(team.team_id, copy, instances, source.version.kind)
    return copy


def patch_deployment(team: TeamAccess, identity: Identity, deployment_id: str, request: PatchDeploymentRequest) -> None:
    found = view(team, deployment_id)
    _require_mutable(found)
    config = dict(found.deployment.config or {})
    if "environment" in request.model_fields_set:
        config = rules.merge_patch(
            config,
            {"environment": [e.model_dump(mode="json", by_alias=True) for e in request.environment or []] or None},
        )
    note = request.note if "note" in request.model_fields_set else found.deployment.note
    repo.update(
        team.team_id,
        found.deployment,
        found.version.kind,
        prefix=request.prefix or found.deployment.prefix,
        note=note,
        config=config,
        by=identity.user_id,
        now=ids.utcnow(),
        mutable_statuses=rules.mutable_statuses(found.rolling),
    )


def delete_deployment(team: TeamAccess, deployment_id: str) -> None:
    """Removes the record only: containers on the node stay until deleted through the node."""
    found = view(team, deployment_id)
    if found.deployment.status == "in-progress":
        raise PreconditionFailedError("A deployment in progress cannot be deleted.", property="status")
    repo.delete(team.team_id, found.deployment, found.version.kind)


def get_instance(team: TeamAccess, deployment_id: str, instance_id: str) -> tuple[DeploymentView, InstanceItem]:
    found = view(team, deployment_id)
    instance = repo.get_instance(team.team_id, deployment_id, instance_id)
    if instance is None:
        raise not_found("instance")
    return found, instance


@dataclass
class InstanceDetails:
    """An instance with the image it runs and that image's registry, for the instance page."""

    instance: InstanceItem
    image: ImageItem | None
    registries: dict[str, RegistryItem]


def instance_details(team: TeamAccess, deployment_id: str, instance_id: str) -> InstanceDetails:
    found, instance = get_instance(team, deployment_id, instance_id)
    image = image_repo.get(team.team_id, found.deployment.version_id, instance.image_id)
    registries = image_repo.registries_of(team.team_id, {image.registry_id} if image else set())
    return InstanceDetails(instance, image, registries)


def patch_instance(team: TeamAccess, deployment_id: str, instance_id: str, patch: dict[str, Any]) -> None:
    found, instance = get_instance(team, deployment_id, instance_id)
    _require_mutable(found)
    _check_sealed(patch.get("secrets"), found.node)
    storages.check_in_team(team, patch.get("storage"))
    repo.save_instance_config(instance, rules.merge_patch(instance.config or {}, patch), ids.utcnow())


def instance_secrets(team: TeamAccess, deployment_id: str, instance_id: str) -> dict[str, Any]:
    """Which secret keys the running container on the node holds (asked of the agent)."""
    found, instance = get_instance(team, deployment_id, instance_id)
    image = image_repo.get(team.team_id, found.deployment.version_id, instance.image_id)
    config = rules.effective_config(
        image.config if image else None, found.deployment.config, instance.config, found.version.name
    )
    name = rules.container_name(config, instance.id)
    containers = node_service.list_containers(team, found.node.id, found.deployment.prefix)
    running = next((c for c in containers if c.name == name), None)
    keys_ = [k for k in (running.labels.get(SECRET_KEYS_LABEL, "") if running else "").split(",") if k]
    return {
        "container": {"prefix": found.deployment.prefix, "name": name},
        "public_key": found.node.public_key,
        "keys": keys_,
    }


def start_deployment(
    team: TeamAccess, identity: Identity, deployment_id: str, instance_ids: list[str] | None = None
) -> int:
    """Validates (§4.4), moves to in-progress atomically and queues the deployment."""
    _check_token_scope(identity, deployment_id)
    found = view(team, deployment_id)
    instances = _instances_to_start(team, found, instance_ids)
    _check_node_ready(found.node)
    images = {i.id: i for i in image_repo.list_for_version(team.team_id, found.deployment.version_id)}
    rules.check_startable(
        rules.containers(_levels(instances, images), found.deployment.config, found.version.name),
        found.node.public_key,
    )
    attempt = repo.start(
        team.team_id,
        found.deployment,
        found.version.kind,
        identity.user_id if identity.kind != DEPLOY_TOKEN else None,
        ids.utcnow(),
    )
    event = repo.add_event(found.deployment.id, "deployment-status", {"status": "in-progress"}, attempt)
    push.deployment(found.deployment.id, [event], "in-progress")
    _queue(team, found.deployment, attempt, [i.id for i in instances] if instance_ids else None)
    ids_ = {"deployment_id": found.deployment.id, "node_id": found.node.id, "team_id": team.team_id}
    _log.info("deployment %s try %d started", found.deployment.id, attempt, extra={**ids_, "attempt": attempt})
    observability.metric(observability.DEPLOYMENTS_STARTED, **ids_)
    return attempt


def _check_token_scope(identity: Identity, deployment_id: str) -> None:
    if identity.kind == DEPLOY_TOKEN and identity.deployment_id != deployment_id:
        # Checked before the lookup: a CI token learns nothing about other deployments.
        raise ForbiddenError("This deployment token starts another deployment.", property="deploymentId")


def _instances_to_start(team: TeamAccess, found: DeploymentView, instance_ids: list[str] | None) -> list[InstanceItem]:
    """The deployment's instances (or the ones asked for), if its status allows a start."""
    deployment = found.deployment
    if deployment.status not in rules.deployable_statuses(found.rolling):
        raise PreconditionFailedError(f"A {deployment.status} deployment cannot be started.", property="status")
    instances = repo.instances(team.team_id, deployment.id)
    if instance_ids:
        unknown = set(instance_ids) - {i.id for i in instances}
        if unknown:
            raise BadRequestError("Unknown instance.", property="instances", value=sorted(unknown)[0])
        instances = [i for i in instances if i.id in set(instance_ids)]
    if not instances:
        raise PreconditionFailedError("The deployment has no instances to deploy.", property="instances")
    return instances


def _check_node_ready(node: NodeItem) -> None:
    status = node_service.status(node)
    if status != "connected":
        raise PreconditionFailedError(f"The node is {status}.", property="nodeId")
    if not node.public_key:
        raise PreconditionFailedError("The node's agent has no public key yet.", property="nodeId")


def _levels(
    instances: list[InstanceItem], images: dict[str, ImageItem]
) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """Each instance with its image's config and its own, in image order as the deploy worker sends them."""
    removed = next((i for i in instances if i.image_id not in images), None)
    if removed is not None:
        raise PreconditionFailedError(
            "An image of this deployment was removed from its version.", property="instances", value=removed.id
        )
    ordered = sorted(instances, key=lambda i: int(images[i.image_id].order))
    return [(i.id, images[i.image_id].config, i.config) for i in ordered]


def _queue(team: TeamAccess, deployment: DeploymentItem, attempt: int, instance_ids: list[str] | None) -> None:
    message = DeployRequested(
        team_id=team.team_id, deployment_id=deployment.id, attempt=attempt, instances=instance_ids
    )
    try:
        queues.send(settings.deploy_queue_name(), message.dump())
    except Exception:  # noqa: BLE001 - the queue is down: fail this try instead of leaving it stuck
        deployment_lifecycle.finish(
            team.team_id, deployment, attempt, "failed", ["The deployment could not be queued; start it again."]
        )
        raise


def log(team: TeamAccess, deployment_id: str, skip: int, take: int):
    deployment = get_item(team, deployment_id)
    return repo.events_page(deployment.id, skip, take)


def create_token(
    team: TeamAccess, identity: Identity, deployment_id: str, request: DeploymentTokenRequest
) -> tuple[DeploymentTokenItem, str, str]:
    """A CI token that can start this deployment and nothing else (rolling versions only)."""
    found = view(team, deployment_id)
    if not found.rolling:
        raise PreconditionFailedError(
            "Deployment tokens exist only for deployments of rolling versions.", property="deploymentId"
        )
    now = ids.utcnow()
    expires_at = now + timedelta(days=request.expiration_in_days) if request.expiration_in_days else None
    item = DeploymentTokenItem(
        keys.team(team.team_id),
        keys.deployment_token(deployment_id),
        id=ids.new_id(),
        deployment_id=deployment_id,
        name=request.name,
        created_by=identity.user_id,
        created_at=now,
        expires_at=expires_at,
    )
    guard = named.guard(team.team_id, keys.deployment_token_name(request.name), item.id)
    (
        Transaction()
        .create(guard, taken("token", value=request.name))
        .create(item, taken("token", "deploymentId", deployment_id))
        .commit()
    )
    token = jwts.issue(
        DEPLOY_TOKEN,
        identity.user_id,
        expires_at=expires_at,
        issued_at=now,
        jti=item.id,
        did=deployment_id,
        tid=team.team_id,
    )
    url = f"{settings.public_url()}/api/{team.slug}/deployments/{deployment_id}/start"
    return item, token, f"curl -X POST -H 'Authorization: Bearer {token}' {url}"


def get_token(team_id: str, deployment_id: str) -> DeploymentTokenItem | None:
    return named.get(DeploymentTokenItem, team_id, keys.deployment_token(deployment_id))


def delete_token(team: TeamAccess, deployment_id: str) -> None:
    get_item(team, deployment_id)
    item = get_token(team.team_id, deployment_id)
    if item is None:
        raise not_found("token")
    guard = named.guard(team.team_id, keys.deployment_token_name(item.name), item.id)
    Transaction().delete(item).delete(guard).commit()


def _require_mutable(found: DeploymentView) -> None:
    if found.deployment.status not in rules.mutable_statuses(found.rolling):
        raise PreconditionFailedError(f"A {found.deployment.status} deployment cannot be changed.", property="status")


def _check_sealed(secrets: list[dict[str, Any]] | None, node: NodeItem) -> None:
    """Secret values are accepted only sealed to the node agent's current public key."""
    for secret in secrets or []:
        if secret.get("value") and (not secret.get("encrypted") or secret.get("publicKey") != node.public_key):
            raise BadRequestError(
                "Secret values must be sealed to the node's public key (see `python -m cli "
                "seal`); plain values are never stored.",
                property="config.secrets",
                value=secret.get("key"),
            )


def copy_to_version(
    team_id: str,
    source_version_id: str,
    target: VersionItem,
    images: dict[str, str],
    statuses: tuple[str, ...] | None,
    by: str,
    keep_deployment_config: bool = True,
) -> int:
    """Copies a version's deployments into a new version (dyrector §3): status `preparing`, same
    node, prefix and note, configs copied, instances re-pointed to the copied images
    (`images` maps source image id → copied image id). `statuses` limits which are copied."""
    now = ids.utcnow()
    copied = 0
    for source in repo.of_version(source_version_id):
        if statuses is not None and source.status not in statuses:
            continue
        copy = repo.new_item(
            team_id,
            ids.new_id(),
            target.project_id,
            target.id,
            source.node_id,
            source.prefix,
            source.note,
            dict(source.config or {}) if keep_deployment_config else {},
            by,
            now,
        )
        instances = [
            repo.new_instance(team_id, copy.id, images[item.image_id], dict(item.config or {}), now)
            for item in repo.instances(team_id, source.id)
            if item.image_id in images
        ]
        repo.create(team_id, copy, instances, target.kind)
        copied += 1
    return copied
