"""Nodes: CRUD, install scripts, token revocation, agent updates, the node audit log, and
container operations that the node's agent executes on its engine.

Container calls become agent commands. Start/stop/restart answer at once (the agent acts
within a poll); listing, deleting, reading a log and inspecting wait for the agent's answer, up
to `settings.agent_reply_seconds()`, since the caller needs its outcome. A log or an inspection
is deleted from the table once read: it stays only as long as the caller waits for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib import ids, settings
from chalicelib.adapters import connections, s3
from chalicelib.contracts import agent as contract
from chalicelib.contracts.events import NodeAdded
from chalicelib.contracts.naming import SECRET_KEYS_LABEL
from chalicelib.db import commands as command_repo
from chalicelib.db import node_events, stats
from chalicelib.db import nodes as node_repo
from chalicelib.db.items import CommandItem, NodeItem
from chalicelib.domain import install_scripts
from chalicelib.domain import nodes as rules
from chalicelib.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
    ServiceUnavailableError,
    found_or_404,
)
from chalicelib.models.nodes import CreateNodeRequest, GenerateScriptRequest, NodeAuditQuery, UpdateNodeRequest
from chalicelib.models.paging import Page, PageQuery
from chalicelib.security.agent_tokens import issue_install_token
from chalicelib.services import events, push
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

NO_PREFIX = "_"  # dyrector's path value for containers without a prefix


@dataclass
class Installer:
    command: str
    script: str
    expire_at: Any


def status(node: NodeItem) -> str:
    return rules.status(
        connection=node.connection,
        last_seen=node.last_seen,
        version=node.version,
        updating_since=node.updating_since,
        now=ids.utcnow(),
        timeout_seconds=settings.node_timeout_seconds(),
        platform_version=contract.AGENT_VERSION,
    )


def get_node(team: TeamAccess, node_id: str) -> NodeItem:
    return found_or_404(node_repo.get(team.team_id, node_id), "node")


def list_nodes(team: TeamAccess, query: PageQuery) -> Page[NodeItem]:
    return node_repo.page_for_team(team.team_id, query).sorted(lambda n: n.created_at)


def create_node(team: TeamAccess, identity: Identity, request: CreateNodeRequest) -> NodeItem:
    node = node_repo.new_item(
        team.team_id, ids.new_id(), request.name, request.description, request.icon, identity.user_id, ids.utcnow()
    )
    node_repo.create(team.team_id, node)
    events.publish(
        NodeAdded(
            team_id=team.team_id, node_id=node.id, node_name=node.name, actor_name=identity.name or identity.email
        )
    )
    return node


def update_node(team: TeamAccess, identity: Identity, node_id: str, request: UpdateNodeRequest) -> None:
    node = get_node(team, node_id)
    node_repo.update(
        team.team_id, node, request.name, request.description, request.icon, identity.user_id, ids.utcnow()
    )


def in_use(team: TeamAccess, node: NodeItem) -> bool:
    if node.deployment_count is None:  # written before the counter and not backfilled yet
        return node_repo.has_deployments(team.team_id, node.id)
    return stats.count(node.deployment_count) > 0


def delete_node(team: TeamAccess, node_id: str) -> None:
    """Deleting the node also locks its agent out: its token no longer matches any node."""
    node = get_node(team, node_id)
    if in_use(team, node):
        raise PreconditionFailedError("The node has deployments; delete them first.", property="nodeId")
    if node.install_script_key:
        s3.delete(node.install_script_key)
    connection_id = node.connection_id
    node_repo.delete(team.team_id, node)
    if connection_id:
        connections.close(connection_id)


def installer(node: NodeItem) -> Installer | None:
    """The live install script of the node, if one was generated and has not expired or been used."""
    if not node.install_id or not node.install_expires_at or node.install_expires_at <= ids.utcnow():
        return None
    script = s3.get(node.install_script_key) if node.install_script_key else None
    if script is None:
        return None
    return Installer(node.install_command or "", script.decode(), node.install_expires_at)


def generate_script(team: TeamAccess, node_id: str, request: GenerateScriptRequest) -> Installer:
    """A single-use installer; an unexpired one of the same kind is returned unchanged."""
    node = get_node(team, node_id)
    if status(node) in ("connected", "outdated", "updating"):
        raise ConflictError(
            "The node's agent is connected; revoke its token before installing again.", property="nodeId"
        )
    current = installer(node)
    if (
        current is not None
        and node.install_type == request.type.value
        and node.install_script_type == request.script_type.value
    ):
        return current
    if not s3.exists(settings.agent_package_key()):
        raise ServiceUnavailableError("The agent program is not published yet (run `python -m infra.agent_package`).")
    now = ids.utcnow()
    expires_at = now + timedelta(minutes=settings.install_minutes())
    seconds = int((expires_at - now).total_seconds())
    install_id = ids.new_id()
    params = install_scripts.InstallParams(
        platform_url=settings.public_url(),
        node_name=node.name,
        node_type=request.type.value,
        install_token=issue_install_token(team.team_id, node.id, install_id, expires_at),
        agent_url=s3.presigned_get(settings.agent_package_key(), seconds),
        root_path=request.root_path,
        traefik_acme_email=str(request.dagent_traefik.acme_email) if request.dagent_traefik else None,
    )
    script = install_scripts.render(request.script_type.value, params)
    extension = "ps1" if request.script_type.value == "powershell" else "sh"
    key = f"scripts/{team.team_id}/{node.id}/{install_id}.{extension}"
    s3.put(key, script.encode(), "text/plain; charset=utf-8")
    command = install_scripts.command(request.script_type.value, s3.presigned_get(key, seconds))
    replaced = node.install_script_key
    node_repo.set_installer(node, install_id, expires_at, request.type.value, request.script_type.value, command, key)
    if replaced:
        s3.delete(replaced)
    return Installer(command, script, expires_at)


def get_script(team: TeamAccess, node_id: str) -> str:
    current = installer(get_node(team, node_id))
    if current is None:
        raise NotFoundError("Install script not found.", property="script")
    return current.script


def delete_script(team: TeamAccess, node_id: str) -> None:
    node = get_node(team, node_id)
    if not node.install_id:
        raise NotFoundError("Install script not found.", property="script")
    node_repo.clear_installer(node)
    if node.install_script_key:
        s3.delete(node.install_script_key)


def revoke_token(team: TeamAccess, identity: Identity, node_id: str) -> None:
    """The agent is locked out: its token no longer matches and its connection is closed."""
    node = get_node(team, node_id)
    connection_id = node.connection_id  # the write below refreshes `node`
    node_repo.revoke_token(node)
    if connection_id:
        connections.close(connection_id)
    node_events.record(node.id, "kicked", {"reason": "revoke-token", "by": identity.user_id})


def update_agent(team: TeamAccess, identity: Identity, node_id: str) -> None:
    """Asks the agent to replace itself with the platform's current agent program."""
    node = _connected(team, node_id, allow_outdated=True)
    if node.updating_since and status(node) == "updating":
        raise PreconditionFailedError("An update is already running.", property="nodeId")
    url = s3.presigned_get(settings.agent_package_key(), 600)
    _send(team, node, contract.UpdateAgent(version=contract.AGENT_VERSION, url=url))
    node_repo.set_updating(node, ids.utcnow())
    node_events.record(
        node.id, "update", {"fromVersion": node.version, "toVersion": contract.AGENT_VERSION, "by": identity.user_id}
    )


def audit_log(team: TeamAccess, node_id: str, query: NodeAuditQuery):
    node = get_node(team, node_id)
    return node_events.page(node.id, query.from_, query.to, query.skip, query.take, query.filter_event_type)


def list_containers(team: TeamAccess, node_id: str, prefix: str | None) -> list[contract.ContainerInfo]:
    node = _connected(team, node_id)
    result = _ask(team, node, contract.ListContainers(prefix=prefix or None))
    return [contract.ContainerInfo.model_validate(c) for c in result.get("containers") or []]


def container_command(
    team: TeamAccess, identity: Identity, node_id: str, prefix: str, name: str, operation: str
) -> None:
    node = _connected(team, node_id)
    prefix = _prefix(prefix)
    _send(team, node, contract.ContainerCommand(prefix=prefix, name=name, operation=operation))
    node_events.record(
        node.id,
        "containerCommand",
        {"container": {"prefix": prefix, "name": name}, "operation": f"{operation}Container", "by": identity.user_id},
    )


def delete_container(team: TeamAccess, identity: Identity, node_id: str, prefix: str, name: str) -> None:
    node = _connected(team, node_id)
    prefix = _prefix(prefix)
    _ask(team, node, contract.DeleteContainer(prefix=prefix, name=name))
    node_events.record(
        node.id,
        "containerCommand",
        {"operation": "deleteContainer", "by": identity.user_id, "target": {"prefix": prefix, "name": name}},
    )


def delete_prefix(team: TeamAccess, identity: Identity, node_id: str, prefix: str) -> None:
    if _prefix(prefix) == "":
        raise BadRequestError("Deleting every container without a prefix is not allowed.", property="prefix")
    node = _connected(team, node_id)
    _ask(team, node, contract.DeletePrefix(prefix=prefix))
    node_events.record(
        node.id,
        "containerCommand",
        {"operation": "deleteContainers", "by": identity.user_id, "target": {"prefix": prefix}},
    )


def container_log(
    team: TeamAccess, node_id: str, prefix: str, name: str, tail: int, since: datetime | None
) -> contract.ContainerLog:
    """The newest lines of a container's log, as the agent bounded and masked them."""
    node = _reading(team, node_id)
    since = since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since  # a bare time is UTC
    command = contract.ReadContainerLog(prefix=_prefix(prefix), name=name, tail=tail, since=since)
    result = _ask(team, node, command, forget=True)
    return contract.ContainerLog.model_validate(result.get("log") or {})


def inspect_container(team: TeamAccess, node_id: str, prefix: str, name: str) -> contract.ContainerInspection:
    """A container's curated inspection; secret values were masked by the agent (and are, again, here)."""
    node = _reading(team, node_id)
    result = _ask(team, node, contract.InspectContainer(prefix=_prefix(prefix), name=name), forget=True)
    if not result.get("inspection"):
        raise PreconditionFailedError("The node's agent did not describe the container.", property="name", value=name)
    return _masked(contract.ContainerInspection.model_validate(result["inspection"]))


def _reading(team: TeamAccess, node_id: str) -> NodeItem:
    """A connected node whose agent knows how to read a container."""
    node = _connected(team, node_id)
    problem = rules.container_reads_error(node.version)
    if problem:
        raise PreconditionFailedError(problem, property="nodeId", value=node.version)
    return node


def _masked(inspection: contract.ContainerInspection) -> contract.ContainerInspection:
    """Defence in depth: a variable the secret-keys label names is shown masked whatever the agent sent."""
    keys = {key for key in inspection.labels.get(SECRET_KEYS_LABEL, "").split(",") if key}
    for variable in inspection.environment:
        if variable.key in keys or variable.secret:
            variable.value, variable.secret = contract.MASKED, True
    return inspection


def _prefix(prefix: str) -> str:
    if prefix == NO_PREFIX:
        return ""
    problem = rules.prefix_error(prefix)
    if problem:
        raise BadRequestError(problem, property="prefix", value=prefix)
    return prefix


def _connected(team: TeamAccess, node_id: str, allow_outdated: bool = False) -> NodeItem:
    node = get_node(team, node_id)
    current = status(node)
    if current == "outdated" and not allow_outdated:
        raise PreconditionFailedError("The node's agent is outdated; update it first.", property="nodeId")
    if current not in ("connected", "outdated"):
        raise PreconditionFailedError(f"The node is {current}.", property="nodeId")
    return node


def _send(team: TeamAccess, node: NodeItem, command: contract.Message) -> CommandItem:
    """Stores the command and pushes it to the agent at once."""
    body = command.dump()
    item = command_repo.enqueue(team.team_id, node.id, body["kind"], body)
    push.command(team.team_id, node, item)
    return item


def _ask(team: TeamAccess, node: NodeItem, command: contract.Message, forget: bool = False) -> dict[str, Any]:
    """Sends a command and waits for the agent's result, checking with growing pauses (0.05 s
    doubling to 2 s), so a quick answer is seen at once and a slow one costs few reads.
    `forget`: the command and its result are deleted once read (a container's log or inspection)."""
    item = _send(team, node, command)
    deadline, pause = time.monotonic() + settings.agent_reply_seconds(), 0.05
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(pause, left))
        pause = min(pause * 2, 2.0)
        current = command_repo.get(node.id, item.id)
        if current is not None and current.status in ("done", "failed"):
            if forget:
                command_repo.discard(current)
            return _outcome(current, getattr(command, "name", None))
    raise ServiceUnavailableError("The node's agent did not answer in time; try again.")


def _outcome(item: CommandItem, name: str | None) -> dict[str, Any]:
    """A finished command's result; a failure as the error the caller gets (404 for a missing container)."""
    result = item.result or {}
    if item.status == "failed":
        if result.get("notFound"):
            raise NotFoundError("Container not found.", property="name", value=name)
        raise PreconditionFailedError(f"The agent could not do it: {result.get('error') or 'unknown error'}")
    return dict(result)
