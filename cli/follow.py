"""Follows one deployment over the platform's WebSocket API, as a CI job waiting on a deploy.

Subscribing answers with the deployment's current status, so a connection lost mid-way is
simply opened again: a final status pushed while it was down is read from that answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection, connect

from chalicelib.contracts import push

FINAL = ("successful", "failed")
_PING_SECONDS = 300  # inside API Gateway's 10-minute idle timeout


class Follower:
    def __init__(self, url: str, token: str, team: str, deployment: str) -> None:
        self.url, self.token, self.team, self.deployment = url.rstrip("/"), token, team, deployment
        self.connection: ClientConnection | None = None

    def __enter__(self) -> Follower:
        self._subscribe()
        return self

    def __exit__(self, *_: object) -> None:
        if self.connection is not None:
            self.connection.close()

    def wait_final(self, timeout: float, echo: Callable[[str], None]) -> str | None:
        """The final status pushed after now, or None when `timeout` passes first."""
        deadline = time.monotonic() + timeout
        next_ping = time.monotonic() + _PING_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            assert self.connection is not None
            try:
                if time.monotonic() >= next_ping:
                    self.connection.send(push.Ping().model_dump_json(by_alias=True))
                    next_ping = time.monotonic() + _PING_SECONDS
                message = push.SERVER_MESSAGE.validate_json(self.connection.recv(timeout=min(left, 5.0)))
            except TimeoutError:
                continue
            except (ConnectionClosed, OSError, WebSocketException):
                status = self._subscribe()  # what happened while we were away
                if status in FINAL:
                    return status
                continue
            status = self._handle(message, echo)
            if status in FINAL:
                return status
        return None

    def _handle(self, message: Any, echo: Callable[[str], None]) -> str | None:
        if isinstance(message, push.DeploymentEventsPush):
            for event in message.events:
                echo(_line(event))
        elif isinstance(message, push.DeploymentStatusPush):
            echo(f"status: {message.status}")
            return message.status
        elif isinstance(message, push.Problem):
            raise SystemExit(f"the platform refused: {message.message}")
        return None

    def _subscribe(self) -> str:
        if self.connection is not None:
            self.connection.close()
        socket_url = requests.get(f"{self.url}/api/socket", timeout=30).json()["url"]
        self.connection = connect(
            socket_url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            compression=None,
            ping_interval=None,
            open_timeout=30,
            legacy=True,
        )
        self.connection.send(
            push.Subscribe(team_slug=self.team, deployment_id=self.deployment).model_dump_json(by_alias=True)
        )
        while True:
            message = push.SERVER_MESSAGE.validate_json(self.connection.recv(timeout=30))
            if isinstance(message, push.Problem):
                raise SystemExit(f"the platform refused the subscription: {message.message}")
            if isinstance(message, push.Subscribed):
                return message.status


def _line(event: dict[str, Any]) -> str:
    """One readable line per event of the deployment log."""
    if event.get("log"):
        return " ".join(event["log"])
    state = event.get("containerState") or {}
    if state:
        return f"container {state.get('instanceId', '')}: {state.get('state', '')} {state.get('reason') or ''}".strip()
    return f"{event.get('type', 'event')}: {event.get('deploymentStatus') or ''}".strip()
