"""The agent protocol (`/api/agent/...`): what node agents call, with their own tokens."""

from __future__ import annotations

from typing import Any

from chalicelib.api.routing import RequestContext, Router
from chalicelib.contracts.agent import (
    AgentSettings,
    CommandResult,
    DeploymentReport,
    Heartbeat,
    RegisterRequest,
    RegisterResponse,
)
from chalicelib.services import agents

route = Router("Agent")


def _address(ctx: RequestContext) -> str | None:
    forwarded = (ctx.request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
    return forwarded or ((ctx.request.context or {}).get("identity") or {}).get("sourceIp")


@route.post(
    "/api/agent/register",
    summary="Swap a single-use install token for a connection token",
    body=RegisterRequest,
    response=RegisterResponse,
    auth=agents.INSTALL,
)
def register(ctx: RequestContext, body: RegisterRequest):
    return agents.register(ctx.agent, body, _address(ctx))


@route.post(
    "/api/agent/heartbeat",
    summary="Report in on start (version, key); answers where to connect",
    body=Heartbeat,
    response=AgentSettings,
    auth=agents.CONNECTION,
)
def heartbeat(ctx: RequestContext, body: Heartbeat):
    return agents.heartbeat(ctx.agent, body, _address(ctx))


@route.get(
    "/api/agent/commands",
    summary="The node's commands not yet acknowledged, oldest first (no wait)",
    response=list[dict[str, Any]],
    auth=agents.CONNECTION,
)
def pending_commands(ctx: RequestContext):
    return agents.pending(ctx.agent)


@route.get(
    "/api/agent/commands/{command}",
    summary="One command (pushed by reference when too large)",
    response=dict[str, Any],
    auth=agents.CONNECTION,
    errors=(404,),
)
def get_command(ctx: RequestContext, command: str):
    return agents.command(ctx.agent, command)


@route.post(
    "/api/agent/commands/{command}/ack",
    summary="Acknowledge a command before executing it",
    status=204,
    auth=agents.CONNECTION,
)
def acknowledge_command(ctx: RequestContext, command: str) -> None:
    agents.acknowledge(ctx.agent, command)


@route.post(
    "/api/agent/commands/{command}/result",
    summary="Report a command's outcome",
    body=CommandResult,
    status=204,
    auth=agents.CONNECTION,
)
def report_result(ctx: RequestContext, command: str, body: CommandResult) -> None:
    agents.report(ctx.agent, command, body)


@route.post(
    "/api/agent/deployments/{deployment}/events",
    summary="Report deployment progress and its final status",
    body=DeploymentReport,
    status=204,
    auth=agents.CONNECTION,
)
def report_deployment(ctx: RequestContext, deployment: str, body: DeploymentReport) -> None:
    agents.report_deployment(ctx.agent, deployment, body)
