"""HTTP calls to the platform's agent API; the only network code of the agent."""

from __future__ import annotations

from typing import Any

import requests

from chalicelib.contracts.agent import (
    AgentSettings,
    Command,
    CommandResult,
    DeploymentReport,
    Heartbeat,
    RegisterRequest,
    RegisterResponse,
    read_command,
    read_commands,
)


class Revoked(Exception):
    """The platform refused our token (revoked, node deleted, install token spent): stop."""


class PlatformClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token: str | None = None
        self.session = requests.Session()

    def register(self, install_token: str, request: RegisterRequest) -> RegisterResponse:
        reply = self._call("POST", "/api/agent/register", request.dump(), token=install_token)
        return RegisterResponse.model_validate(reply.json())

    def heartbeat(self, beat: Heartbeat) -> AgentSettings:
        return AgentSettings.model_validate(self._call("POST", "/api/agent/heartbeat", beat.dump()).json())

    def pending(self) -> list[Command]:
        """The commands not yet acknowledged, oldest first (what was pushed while we were away)."""
        return read_commands(self._call("GET", "/api/agent/commands").json())

    def command(self, command_id: str) -> Command | None:
        """One command by id (pushed by reference when too large for one message); None if gone."""
        reply = self._request("GET", f"/api/agent/commands/{command_id}")
        return None if reply.status_code == 404 else read_command(reply.json())

    def acknowledge(self, command_id: str) -> bool:
        """False when the platform no longer knows the command (expired or its node's commands gone)."""
        return self._request("POST", f"/api/agent/commands/{command_id}/ack").status_code != 404

    def report(self, command_id: str, result: CommandResult) -> None:
        self._request("POST", f"/api/agent/commands/{command_id}/result", result.dump())

    def report_deployment(self, deployment_id: str, report: DeploymentReport) -> None:
        self._call("POST", f"/api/agent/deployments/{deployment_id}/events", report.dump())

    def _call(
        self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float | None = None
    ) -> requests.Response:
        reply = self._request(method, path, body, token, timeout)
        reply.raise_for_status()
        return reply

    def _request(
        self, method: str, path: str, body: Any = None, token: str | None = None, timeout: float | None = None
    ) -> requests.Response:
        """The platform's reply; a 404 is returned (the caller decides), any other error raised."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        reply = self.session.request(
            method, self.base_url + path, json=body, headers=headers, timeout=timeout or self.timeout
        )
        if reply.status_code in (401, 403):
            raise Revoked(reply.json().get("message", "unauthorized") if reply.content else "unauthorized")
        if reply.status_code != 404:
            reply.raise_for_status()
        return reply
