"""The agent protocol (`/api/agent/...`): what node agents call, with their own tokens."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import Field

from chalicelib.api.routing import RequestContext, Router
from chalicelib.contracts.agent import CommandResult, DeploymentReport, Heartbeat, RegisterRequest, RegisterResponse
from chalicelib.models.base import RequestModel
from chalicelib.services import agents

bp = Blueprint(__name__)
route = Router(bp, "Agent")


class PollQuery(RequestModel):
    wait_seconds: float = Field(0, ge=0, le=25)


def _address(ctx: RequestContext) -> str | None:
    forwarded = (ctx.request.headers.get("x-forwarded-for") or "").split(",")[0].strip()
    return forwarded or ((ctx.request.context or {}).get("identity") or {}).get("sourceIp")


@route.post("/api/agent/register", summary="Swap a single-use install token for a connection token",
            body=RegisterRequest, response=RegisterResponse, auth=agents.INSTALL)
def register(ctx: RequestContext, body: RegisterRequest):
    return agents.register(ctx.agent, body, _address(ctx))


@route.post("/api/agent/heartbeat", summary="Report that the agent is alive", body=Heartbeat, status=204,
            auth=agents.CONNECTION)
def heartbeat(ctx: RequestContext, body: Heartbeat) -> None:
    agents.heartbeat(ctx.agent, body, _address(ctx))


@route.get("/api/agent/commands", summary="Long-poll the node's pending commands", query=PollQuery,
           response=list[dict[str, Any]], auth=agents.CONNECTION)
def poll_commands(ctx: RequestContext, query: PollQuery):
    return agents.poll(ctx.agent, query.wait_seconds)


@route.post("/api/agent/commands/{command}/ack", summary="Acknowledge a command before executing it", status=204,
            auth=agents.CONNECTION)
def acknowledge_command(ctx: RequestContext, command: str) -> None:
    agents.acknowledge(ctx.agent, command)


@route.post("/api/agent/commands/{command}/result", summary="Report a command's outcome", body=CommandResult,
            status=204, auth=agents.CONNECTION)
def report_result(ctx: RequestContext, command: str, body: CommandResult) -> None:
    agents.report(ctx.agent, command, body)


@route.post("/api/agent/deployments/{deployment}/events", summary="Report deployment progress and its final status",
            body=DeploymentReport, status=204, auth=agents.CONNECTION)
def report_deployment(ctx: RequestContext, deployment: str, body: DeploymentReport) -> None:
    agents.report_deployment(ctx.agent, deployment, body)
