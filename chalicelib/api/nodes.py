"""Nodes (`/api/{teamSlug}/nodes`): CRUD, install scripts, tokens, updates, audit, containers.

Beyond the documented container routes, ours: a container's `log` and `inspect` (GET, with and
without a prefix like the others), answered by the node's agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Response

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.nodes import (
    ContainerInspectionResponse,
    ContainerLogQuery,
    ContainerLogResponse,
    ContainerResponse,
    ContainersQuery,
    CreateNodeRequest,
    GenerateScriptRequest,
    InstallResponse,
    NodeAuditQuery,
    NodeAuditResponse,
    NodeDetailsResponse,
    NodeResponse,
    UpdateNodeRequest,
)
from chalicelib.models.paging import PageQuery
from chalicelib.services import nodes

if TYPE_CHECKING:
    from chalicelib.db.items import NodeItem

route = Router("Nodes")
NODES = "/api/{teamSlug}/nodes"
NODE = NODES + "/{nodeId}"


def _node(node: NodeItem) -> dict[str, Any]:
    status = nodes.status(node)
    return {
        "type": node.kind,
        "status": status,
        "description": node.description,
        "icon": node.icon,
        "address": node.address,
        "connected_at": node.connected_at,
        "version": node.version,
        "updating": status == "updating",
        "id": node.id,
        "name": node.name,
    }


@route.get(NODES, summary="List the team's nodes with their status", query=PageQuery, response=list[NodeResponse])
def list_nodes(ctx: RequestContext, team_slug: str, query: PageQuery):
    return nodes.list_nodes(ctx.team, query).map(_node)


@route.post(NODES, summary="Create a node", body=CreateNodeRequest, response=NodeResponse, status=201, errors=(409,))
def create_node(ctx: RequestContext, team_slug: str, body: CreateNodeRequest):
    return _node(nodes.create_node(ctx.team, ctx.user, body))


@route.get(NODE, summary="Node details with its token and installer state", response=NodeDetailsResponse)
def get_node(ctx: RequestContext, team_slug: str, node_id: str):
    node = nodes.get_node(ctx.team, node_id)
    install = nodes.installer(node)
    return {
        **_node(node),
        "has_token": bool(node.token_id),
        "in_use": nodes.in_use(ctx.team, node),
        "install": install.__dict__ if install else None,
    }


@route.put(
    NODE, summary="Rename a node or change its description and icon", body=UpdateNodeRequest, status=204, errors=(409,)
)
def update_node(ctx: RequestContext, team_slug: str, node_id: str, body: UpdateNodeRequest) -> None:
    nodes.update_node(ctx.team, ctx.user, node_id, body)


@route.delete(NODE, summary="Delete a node (its agent is locked out)", status=204, errors=(412,))
def delete_node(ctx: RequestContext, team_slug: str, node_id: str) -> None:
    nodes.delete_node(ctx.team, node_id)


@route.get(NODE + "/script", summary="The node's live install script (text)", media_type="text/plain")
def get_script(ctx: RequestContext, team_slug: str, node_id: str) -> Response:
    return Response(
        body=nodes.get_script(ctx.team, node_id),
        status_code=200,
        headers={"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
    )


@route.post(
    NODE + "/script",
    summary="Generate a single-use install script and its one-line command",
    body=GenerateScriptRequest,
    response=InstallResponse,
    status=201,
    errors=(409,),
)
def generate_script(ctx: RequestContext, team_slug: str, node_id: str, body: GenerateScriptRequest):
    return nodes.generate_script(ctx.team, node_id, body).__dict__


@route.delete(NODE + "/script", summary="Discard the install script", status=204)
def delete_script(ctx: RequestContext, team_slug: str, node_id: str) -> None:
    nodes.delete_script(ctx.team, node_id)


@route.delete(NODE + "/token", summary="Revoke the agent's token (it stops at once)", status=204)
def revoke_token(ctx: RequestContext, team_slug: str, node_id: str) -> None:
    nodes.revoke_token(ctx.team, ctx.user, node_id)


@route.post(NODE + "/update", summary="Ask the agent to update itself", status=204, errors=(412,))
def update_agent(ctx: RequestContext, team_slug: str, node_id: str) -> None:
    nodes.update_agent(ctx.team, ctx.user, node_id)


@route.get(
    NODE + "/audit", summary="The node's audit log, newest first", query=NodeAuditQuery, response=NodeAuditResponse
)
def get_node_audit(ctx: RequestContext, team_slug: str, node_id: str, query: NodeAuditQuery):
    items, total = nodes.audit_log(ctx.team, node_id, query)
    return {"items": [{"created_at": i.created_at, "event": i.event, "data": i.data} for i in items], "total": total}


def _containers(found) -> list[dict[str, Any]]:
    return [
        {
            "state": c.state,
            "id": {"prefix": c.prefix, "name": c.name},
            "command": c.command,
            "created_at": c.created_at,
            "reason": c.reason,
            "image_name": c.image_name,
            "image_tag": c.image_tag,
            "ports": [p.dump() for p in c.ports],
        }
        for c in found
    ]


@route.get(
    NODE + "/containers",
    summary="Containers on the node (optionally of one prefix)",
    query=ContainersQuery,
    response=list[ContainerResponse],
    errors=(412,),
)
def list_containers(ctx: RequestContext, team_slug: str, node_id: str, query: ContainersQuery):
    return _containers(nodes.list_containers(ctx.team, node_id, query.prefix))


def _operation(operation: str, with_prefix: bool):
    path = NODE + ("/{prefix}/containers/{name}/" if with_prefix else "/containers/{name}/") + operation
    summary = f"{operation.capitalize()} a container" + (" of a prefix" if with_prefix else " without a prefix")

    def view(ctx: RequestContext, team_slug: str, node_id: str, name: str, prefix: str = nodes.NO_PREFIX) -> None:
        nodes.container_command(ctx.team, ctx.user, node_id, prefix, name, operation)

    view.__name__ = f"{operation}_container" + ("_of_prefix" if with_prefix else "")
    return route.post(path, summary=summary, status=204, errors=(412,))(view)


for _op in ("start", "stop", "restart"):
    for _with_prefix in (True, False):
        _operation(_op, _with_prefix)


def _reads(with_prefix: bool) -> None:
    """`GET …/containers/{name}/log` and `…/inspect`, of a prefix or without one."""
    path = NODE + ("/{prefix}/containers/{name}" if with_prefix else "/containers/{name}")
    whose, suffix = (" of a prefix", "_of_prefix") if with_prefix else (" without a prefix", "")

    def read_log(
        ctx: RequestContext,
        team_slug: str,
        node_id: str,
        name: str,
        query: ContainerLogQuery,
        prefix: str = nodes.NO_PREFIX,
    ):
        return nodes.container_log(ctx.team, node_id, prefix, name, query.tail, query.since)

    def inspect(ctx: RequestContext, team_slug: str, node_id: str, name: str, prefix: str = nodes.NO_PREFIX):
        found = nodes.inspect_container(ctx.team, node_id, prefix, name)
        return {**found.model_dump(), "id": {"prefix": found.prefix, "name": found.name}}

    read_log.__name__, inspect.__name__ = f"container_log{suffix}", f"inspect_container{suffix}"
    route.get(
        path + "/log",
        summary=f"The newest lines of a container's log{whose} (bounded; secret values masked)",
        query=ContainerLogQuery,
        response=ContainerLogResponse,
        errors=(412,),
    )(read_log)
    route.get(
        path + "/inspect",
        summary=f"A container's state, image, ports, mounts, health and environment{whose} (secrets masked)",
        response=ContainerInspectionResponse,
        errors=(412,),
    )(inspect)


for _with_prefix in (True, False):
    _reads(_with_prefix)


@route.delete(NODE + "/{prefix}/containers", summary="Delete every container of a prefix", status=204, errors=(412,))
def delete_prefix(ctx: RequestContext, team_slug: str, node_id: str, prefix: str) -> None:
    nodes.delete_prefix(ctx.team, ctx.user, node_id, prefix)


@route.delete(NODE + "/{prefix}/containers/{name}", summary="Delete a container of a prefix", status=204, errors=(412,))
def delete_container_of_prefix(ctx: RequestContext, team_slug: str, node_id: str, prefix: str, name: str) -> None:
    nodes.delete_container(ctx.team, ctx.user, node_id, prefix, name)


@route.delete(NODE + "/containers/{name}", summary="Delete a container without a prefix", status=204, errors=(412,))
def delete_container(ctx: RequestContext, team_slug: str, node_id: str, name: str) -> None:
    nodes.delete_container(ctx.team, ctx.user, node_id, nodes.NO_PREFIX, name)
