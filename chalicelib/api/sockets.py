"""The WebSocket API (API Gateway, `$connect` / `$default` / `$disconnect`) and where to find it.

Agents hold their push channel here; consoles and CLIs follow deployments and nodes. The token
travels in the Authorization header of the opening handshake. A refused handshake answers with
its HTTP status (401, or 503 while AWS is unreachable); message bodies are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import settings
from chalicelib.adapters import observability
from chalicelib.adapters.aws import is_outage
from chalicelib.api.routing import RequestContext, Router
from chalicelib.errors import AppError
from chalicelib.models.base import ResponseModel
from chalicelib.services import sockets

route = Router("Live")
log = logging.getLogger(__name__)


class SocketResponse(ResponseModel):
    url: str


@route.get(
    "/api/socket", summary="The WebSocket URL for live deployment and node events", response=SocketResponse, auth=None
)
def get_socket(ctx: RequestContext):
    return {"url": settings.socket_url()}


# The three handlers are registered on the app in app.py: Chalice wraps websocket handlers as
# Lambda entry points only when they are declared on the app, not on a blueprint.
def connect(event: Any) -> dict[str, Any]:
    try:
        opened = sockets.connect(event.connection_id, _header(event.to_dict(), "authorization"))
    except AppError as error:
        log.info("connection refused: %d", error.status, extra={"status": error.status})
        return {"statusCode": error.status}
    except Exception as error:
        if is_outage(error):
            log.warning("connection refused: AWS unavailable (%s)", type(error).__name__)
            return {"statusCode": 503}
        raise
    observability.bind(node_id=opened.node_id)
    log.info("%s connected", opened.kind, extra={"kind": opened.kind})
    return {"statusCode": 200}


def message(event: Any) -> None:
    sockets.message(event.connection_id, event.body)


def disconnect(event: Any) -> None:
    sockets.disconnect(event.connection_id)
    log.info("disconnected")


def _header(event: dict[str, Any], name: str) -> str | None:
    """API Gateway keeps the client's spelling of header names; HTTP says they are case-blind."""
    return next((value for key, value in (event.get("headers") or {}).items() if key.lower() == name), None)
