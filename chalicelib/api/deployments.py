"""Deployments (`/api/{teamSlug}/deployments`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api import shapes
from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.base import Audit
from chalicelib.models.deployments import (
    CopyDeploymentRequest,
    CreateDeploymentRequest,
    DeploymentDetailsResponse,
    DeploymentEventResponse,
    DeploymentLogResponse,
    DeploymentResponse,
    DeploymentTokenRequest,
    DeploymentTokenResponse,
    InstanceResponse,
    InstanceSecretsResponse,
    LogQuery,
    PatchDeploymentRequest,
    PatchInstanceRequest,
    StartDeploymentRequest,
)
from chalicelib.models.paging import PageQuery
from chalicelib.services import deployments

if TYPE_CHECKING:
    from chalicelib.db.items import DeploymentItem

route = Router("Deployments")
BASE = "/api/{teamSlug}/deployments"
ONE = BASE + "/{deploymentId}"
INSTANCE = ONE + "/instances/{instanceId}"


def _summary(item: DeploymentItem, ctx: dict[str, dict[str, Any]]) -> dict[str, Any]:
    project, version = ctx["projects"].get(item.project_id), ctx["versions"].get(item.version_id)
    node = ctx["nodes"].get(item.node_id)
    return {
        "status": item.status,
        "note": item.note,
        "audit": Audit.of(item),
        "id": item.id,
        "prefix": item.prefix,
        "project": {
            "type": project.kind if project else "versioned",
            "id": item.project_id,
            "name": project.name if project else "",
        },
        "version": {
            "type": version.kind if version else "rolling",
            "id": item.version_id,
            "name": version.name if version else "",
        },
        "node": shapes.node_summary(node) if node else {"type": "docker", "id": item.node_id, "name": ""},
    }


def _one(ctx: RequestContext, item: DeploymentItem) -> dict[str, Any]:
    return _summary(item, deployments.context(ctx.team, [item]))


@route.get(
    BASE, summary="List the team's deployments, newest first", query=PageQuery, response=list[DeploymentResponse]
)
def list_deployments(ctx: RequestContext, team_slug: str, query: PageQuery):
    page = deployments.list_deployments(ctx.team, query)
    context = deployments.context(ctx.team, page.items)
    return page.map(lambda item: _summary(item, context))


@route.post(
    BASE,
    summary="Create a deployment of a version to a node under a prefix",
    body=CreateDeploymentRequest,
    response=DeploymentResponse,
    status=201,
    errors=(409, 412),
)
def create_deployment(ctx: RequestContext, team_slug: str, body: CreateDeploymentRequest):
    return _one(ctx, deployments.create_deployment(ctx.team, ctx.user, body))


@route.get(
    ONE,
    summary="Deployment details with instances, environment and the node's public key",
    response=DeploymentDetailsResponse,
)
def get_deployment(ctx: RequestContext, team_slug: str, deployment_id: str):
    found = deployments.details(ctx.team, deployment_id)
    item, token = found.found.deployment, found.token
    return {
        **_summary(item, found.context),
        "environment": (item.config or {}).get("environment") or [],
        "public_key": found.found.node.public_key,
        "last_try": int(item.tries or 0),
        "instances": [
            {
                "id": inst.id,
                "updated_at": inst.updated_at,
                "config": inst.config or {},
                "image": shapes.image(image, found.registries),
            }
            for inst, image in found.instances
        ],
        "token": {"id": token.id, "name": token.name, "created_at": token.created_at, "expires_at": token.expires_at}
        if token
        else None,
    }


@route.patch(
    ONE,
    summary="Change the note, prefix or deployment-level environment",
    body=PatchDeploymentRequest,
    status=204,
    errors=(409, 412),
)
def patch_deployment(ctx: RequestContext, team_slug: str, deployment_id: str, body: PatchDeploymentRequest) -> None:
    deployments.patch_deployment(ctx.team, ctx.user, deployment_id, body)


@route.delete(ONE, summary="Delete a deployment (its containers stay on the node)", status=204, errors=(412,))
def delete_deployment(ctx: RequestContext, team_slug: str, deployment_id: str) -> None:
    deployments.delete_deployment(ctx.team, deployment_id)


@route.get(INSTANCE, summary="An instance: its image and its config overrides", response=InstanceResponse)
def get_instance(ctx: RequestContext, team_slug: str, deployment_id: str, instance_id: str):
    found = deployments.instance_details(ctx.team, deployment_id, instance_id)
    instance = found.instance
    return {
        "id": instance.id,
        "updated_at": instance.updated_at,
        "image": shapes.image(found.image, found.registries),
        "config": instance.config or {},
    }


@route.patch(
    INSTANCE,
    summary="Change an instance's config overrides (secrets sealed to the node's key)",
    body=PatchInstanceRequest,
    status=204,
    errors=(412,),
)
def patch_instance(
    ctx: RequestContext, team_slug: str, deployment_id: str, instance_id: str, body: PatchInstanceRequest
) -> None:
    deployments.patch_instance(ctx.team, deployment_id, instance_id, body.config.stored())


@route.get(
    INSTANCE + "/secrets",
    summary="The container, the node's public key and the secret keys it holds",
    response=InstanceSecretsResponse,
    errors=(412,),
)
def get_instance_secrets(ctx: RequestContext, team_slug: str, deployment_id: str, instance_id: str):
    return deployments.instance_secrets(ctx.team, deployment_id, instance_id)


@route.post(
    ONE + "/start",
    summary="Start the deployment (also with its deployment token)",
    body=StartDeploymentRequest,
    status=204,
    errors=(409, 412),
    auth="user-or-deploy",
    body_optional=True,
)
def start_deployment(
    ctx: RequestContext, team_slug: str, deployment_id: str, body: StartDeploymentRequest | None = None
) -> None:
    deployments.start_deployment(ctx.team, ctx.user, deployment_id, body.instances if body else None)


@route.post(
    ONE + "/copy",
    summary="Copy the deployment to another node or prefix",
    body=CopyDeploymentRequest,
    response=DeploymentResponse,
    status=201,
    errors=(409, 412),
)
def copy_deployment(ctx: RequestContext, team_slug: str, deployment_id: str, body: CopyDeploymentRequest):
    return _one(ctx, deployments.copy_deployment(ctx.team, ctx.user, deployment_id, body))


@route.get(ONE + "/log", summary="The deployment's events, paged", query=LogQuery, response=DeploymentLogResponse)
def get_log(ctx: RequestContext, team_slug: str, deployment_id: str, query: LogQuery):
    items, total = deployments.log(ctx.team, deployment_id, query.skip, query.take)
    return {"total": total, "items": [DeploymentEventResponse.of(e) for e in items]}


@route.put(
    ONE + "/token",
    summary="Create the deployment's CI token (shown once, with a curl command)",
    body=DeploymentTokenRequest,
    response=DeploymentTokenResponse,
    status=201,
    errors=(409, 412),
)
def create_deployment_token(ctx: RequestContext, team_slug: str, deployment_id: str, body: DeploymentTokenRequest):
    item, token, curl = deployments.create_token(ctx.team, ctx.user, deployment_id, body)
    return {
        "id": item.id,
        "name": item.name,
        "created_at": item.created_at,
        "expires_at": item.expires_at,
        "token": token,
        "curl": curl,
    }


@route.delete(ONE + "/token", summary="Revoke the deployment's CI token", status=204)
def delete_deployment_token(ctx: RequestContext, team_slug: str, deployment_id: str) -> None:
    deployments.delete_token(ctx.team, deployment_id)
