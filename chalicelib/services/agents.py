"""The platform side of the agent protocol (`/api/agent/...`).

Agents authenticate with their own JWTs: a single-use install token (from the install
script) for `register`, then a connection token whose id is stored on the node, so revoking
it or deleting the node locks the agent out on its very next call. Commands are read by
long-polling the node's pending-command index and must be acknowledged; results are stored
on the command for the API call that waits on them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib import ids, settings
from chalicelib.contracts.agent import (
    AGENT_VERSION,
    CommandResult,
    DeploymentReport,
    Heartbeat,
    RegisterRequest,
    RegisterResponse,
)
from chalicelib.db import commands as command_repo
from chalicelib.db import deployments as deployment_repo
from chalicelib.db import node_events
from chalicelib.db import nodes as node_repo
from chalicelib.db.items import NodeItem
from chalicelib.errors import NotFoundError, UnauthorizedError
from chalicelib.security import jwts
from chalicelib.security.agent_tokens import CONNECTION, INSTALL, issue_connection_token
from chalicelib.services import deployment_lifecycle
from chalicelib.services.identity import bearer_token

_POLL_INTERVAL = 0.1


@dataclass(frozen=True)
class AgentIdentity:
    team_id: str
    node_id: str
    token_id: str
    node: NodeItem


def authenticate(authorization: str | None, kind: str = CONNECTION) -> AgentIdentity:
    claims = jwts.verify(bearer_token(authorization), typ={kind})
    node = node_repo.get(str(claims.get("tid")), claims["sub"])
    token_id = claims.get("jti")
    expected = node.install_id if (node and kind == INSTALL) else (node.token_id if node else None)
    if node is None or not token_id or token_id != expected:
        raise UnauthorizedError("The install token was already used or has expired." if kind == INSTALL
                                else "Token revoked.")
    return AgentIdentity(node.PK.removeprefix("TEAM#"), node.id, token_id, node)


def register(agent: AgentIdentity, request: RegisterRequest, address: str | None) -> RegisterResponse:
    """Swaps the install token for a connection token (the install token is spent)."""
    token_id, now = ids.new_id(), ids.utcnow()
    node_repo.register(agent.node, agent.token_id, token_id, version=request.version, kind=request.type,
                       public_key=request.public_key, address=address, hostname=request.hostname, now=now)
    node_events.record(agent.node_id, "installed", {"version": request.version, "address": address,
                                                    "hostname": request.hostname})
    token = issue_connection_token(agent.team_id, agent.node_id, token_id, now)
    return RegisterResponse(node_id=agent.node_id, token=token, heartbeat_seconds=settings.heartbeat_seconds(),
                            poll_seconds=settings.poll_wait_seconds())


def heartbeat(agent: AgentIdentity, request: Heartbeat, address: str | None) -> None:
    was_connected = agent.node.connection == "connected"
    node_repo.heartbeat(agent.node, agent.token_id, version=request.version, public_key=request.public_key,
                        address=address, now=ids.utcnow())
    if not was_connected:
        node_events.record(agent.node_id, "connected", {"version": request.version, "address": address})
    if agent.node.updating_since and request.version == AGENT_VERSION:
        node_repo.set_updating(agent.node, None)
        node_events.record(agent.node_id, "updateCompleted", {"toVersion": request.version})


def poll(agent: AgentIdentity, wait_seconds: float) -> list[dict[str, Any]]:
    """Pending commands, oldest first; waits up to `wait_seconds` for one to arrive."""
    deadline = time.monotonic() + min(max(wait_seconds, 0), settings.poll_wait_seconds())
    while True:
        pending = command_repo.pending(agent.node_id)
        if pending or time.monotonic() >= deadline:
            return [item.body for item in pending]
        time.sleep(_POLL_INTERVAL)


def acknowledge(agent: AgentIdentity, command_id: str) -> None:
    command_repo.acknowledge(_command(agent, command_id))


def report(agent: AgentIdentity, command_id: str, result: CommandResult) -> None:
    command_repo.finish(_command(agent, command_id), result.ok, result.dump())


def _command(agent: AgentIdentity, command_id: str):
    item = command_repo.get(agent.node_id, command_id)
    if item is None:
        raise NotFoundError("Command not found.", property="commandId")
    return item


def report_deployment(agent: AgentIdentity, deployment_id: str, report: DeploymentReport) -> None:
    """Stores what the agent reports for a deployment of its own node; a final status ends the try."""
    deployment = deployment_repo.get(agent.team_id, deployment_id, consistent=True)
    if deployment is None or deployment.node_id != agent.node_id:
        raise NotFoundError("Deployment not found.", property="deploymentId")
    deployment_repo.add_events(deployment.id, [
        ("log", {"log": event.log or [], "level": event.level}) if event.type == "log" else
        ("container-state", {"instanceId": event.instance_id, "state": event.state, "reason": event.reason})
        for event in report.events if event.type in ("log", "container-state")], report.attempt)
    final = next((e.status for e in report.events if e.status in ("successful", "failed")), None)
    if final:
        deployment_lifecycle.finish(agent.team_id, deployment, report.attempt, final)
