"""The platform side of the agent protocol (`/api/agent/...`).

Agents authenticate with their own JWTs: a single-use install token (from the install
script) for `register`, then a connection token whose id is stored on the node, so revoking
it or deleting the node locks the agent out on its very next call. Commands are pushed on the
agent's WebSocket (`services/sockets`); what no connection took waits in the node's pending index
for the agent to fetch after it connects. Each is acknowledged, and its result stored on it for
the API call that waits on it. Nothing here waits: every call answers at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from chalicelib import ids, settings
from chalicelib.adapters import observability
from chalicelib.contracts.agent import (
    AGENT_VERSION,
    AgentSettings,
    CommandResult,
    DeploymentEvent,
    DeploymentReport,
    Heartbeat,
    RegisterRequest,
    RegisterResponse,
)
from chalicelib.db import commands as command_repo
from chalicelib.db import deployments as deployment_repo
from chalicelib.db import node_events
from chalicelib.db import nodes as node_repo
from chalicelib.db.items import DeploymentEventItem, DeploymentItem, NodeItem
from chalicelib.errors import NotFoundError, UnauthorizedError
from chalicelib.security import jwts
from chalicelib.security.agent_tokens import CONNECTION, INSTALL, issue_connection_token
from chalicelib.services import deployment_lifecycle, push
from chalicelib.services.identity import bearer_token

log = logging.getLogger(__name__)


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
        raise UnauthorizedError(
            "The install token was already used or has expired." if kind == INSTALL else "Token revoked."
        )
    return AgentIdentity(node.PK.removeprefix("TEAM#"), node.id, token_id, node)


def register(agent: AgentIdentity, request: RegisterRequest, address: str | None) -> RegisterResponse:
    """Swaps the install token for a connection token (the install token is spent)."""
    token_id, now = ids.new_id(), ids.utcnow()
    node_repo.register(
        agent.node,
        agent.token_id,
        token_id,
        version=request.version,
        kind=request.type,
        public_key=request.public_key,
        address=address,
        hostname=request.hostname,
        now=now,
    )
    node_events.record(
        agent.node_id, "installed", {"version": request.version, "address": address, "hostname": request.hostname}
    )
    token = issue_connection_token(agent.team_id, agent.node_id, token_id, now)
    return RegisterResponse(node_id=agent.node_id, token=token, **_settings().model_dump())


def heartbeat(agent: AgentIdentity, request: Heartbeat, address: str | None) -> AgentSettings:
    """An agent reporting in when it starts: its version and key, and where to connect."""
    node_repo.heartbeat(
        agent.node, agent.token_id, version=request.version, public_key=request.public_key, address=address
    )
    if agent.node.updating_since and request.version == AGENT_VERSION:
        node_repo.set_updating(agent.node, None)
        node_events.record(agent.node_id, "updateCompleted", {"toVersion": request.version})
    return _settings()


def _settings() -> AgentSettings:
    return AgentSettings(
        socket_url=settings.socket_url(),
        ping_seconds=settings.ping_seconds(),
        seen_every_pings=settings.seen_every_pings(),
        reconnect_seconds=settings.reconnect_seconds(),
    )


def pending(agent: AgentIdentity) -> list[dict[str, Any]]:
    """Commands not yet acknowledged, oldest first, at once (an agent fetches them after connecting)."""
    return [item.body for item in command_repo.pending(agent.node_id)]


def command(agent: AgentIdentity, command_id: str) -> dict[str, Any]:
    """One command of the agent's node (one pushed by reference, too large for a message)."""
    return _command(agent, command_id).body


def acknowledge(agent: AgentIdentity, command_id: str) -> None:
    """Marks the command taken; its first acknowledgement measures how long it took to reach the agent."""
    item = _command(agent, command_id)
    if not command_repo.acknowledge(item):
        return
    latency = round(max(0.0, (ids.utcnow() - item.created_at).total_seconds()) * 1000, 1)
    deployment_id = (item.body or {}).get("deploymentId") if item.kind == "deploy" else None
    keys = {"command_id": item.id, "deployment_id": deployment_id}
    log.info("command %s (%s) acknowledged after %.0f ms", item.id, item.kind, latency, extra=keys)
    observability.metric(observability.COMMAND_DELIVERY_LATENCY, latency, observability.MILLISECONDS, **keys)


def report(agent: AgentIdentity, command_id: str, result: CommandResult) -> None:
    command_repo.finish(_command(agent, command_id), result.ok, result.dump())


def _command(agent: AgentIdentity, command_id: str):
    item = command_repo.get(agent.node_id, command_id)
    if item is None:
        raise NotFoundError("Command not found.", property="commandId")
    return item


def _stored_event(event: DeploymentEvent) -> tuple[str, dict]:
    if event.type == "log":
        return "log", {"log": event.log or [], "level": event.level}
    return "container-state", {"instanceId": event.instance_id, "state": event.state, "reason": event.reason}


def _store_events(team_id: str, deployment: DeploymentItem, report: DeploymentReport) -> list[DeploymentEventItem]:
    stored = [
        (position, *_stored_event(event))
        for position, event in enumerate(report.events, report.seq or 0)
        if event.type in ("log", "container-state")
    ]
    if report.seq is None:  # an agent before 0.4: no positions to tell a resent report by
        return deployment_repo.add_events(deployment.id, [event[1:] for event in stored], report.attempt)
    span = (report.seq, report.seq + len(report.events))
    return deployment_repo.add_reported_events(team_id, deployment, report.attempt, span, stored)


def report_deployment(agent: AgentIdentity, deployment_id: str, report: DeploymentReport) -> None:
    """Stores what the agent reports for a deployment of its own node; a final status ends the try."""
    deployment = deployment_repo.get(agent.team_id, deployment_id, consistent=True)
    if deployment is None or deployment.node_id != agent.node_id:
        raise NotFoundError("Deployment not found.", property="deploymentId")
    written = _store_events(agent.team_id, deployment, report)
    push.deployment(deployment.id, written)
    final = next((e.status for e in report.events if e.status in ("successful", "failed")), None)
    if final:
        deployment_lifecycle.finish(agent.team_id, deployment, report.attempt, final)
