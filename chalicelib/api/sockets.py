"""The WebSocket API (API Gateway, `$connect` / `$default` / `$disconnect`) and where to find it.

Agents hold their push channel here; consoles and CLIs follow deployments and nodes. The token
travels in the opening handshake, never in the URL (API Gateway logs query strings): in the
Authorization header, or, from a browser, which cannot set that header, as the second of two
subprotocols, `Sec-WebSocket-Protocol: bearer, <token>`; the answer then selects `bearer` (API
Gateway passes the header to `$connect` and puts `$connect`'s answer in the handshake's response;
a browser fails a handshake that selects none of the subprotocols it offered). A token in both
places is a 400. A refused handshake answers with its HTTP status (400, 401, or 503 while AWS is
unreachable); headers and message bodies are never logged.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import Field

from chalicelib import settings
from chalicelib.adapters import observability
from chalicelib.adapters.aws import is_outage
from chalicelib.api.routing import RequestContext, Router
from chalicelib.contracts.push import BEARER_SUBPROTOCOL
from chalicelib.errors import AppError
from chalicelib.models.base import ResponseModel
from chalicelib.services import sockets

route = Router("Live")
log = logging.getLogger(__name__)


class SocketResponse(ResponseModel):
    url: str = Field(
        description="Where to connect. The token goes in the handshake's `Authorization: Bearer <token>` header or, "
        "from a browser, as the subprotocols `bearer`, `<token>` (the answer selects `bearer`); never in the URL."
    )


@route.get(
    "/api/socket", summary="The WebSocket URL for live deployment and node events", response=SocketResponse, auth=None
)
def get_socket(ctx: RequestContext):
    return {"url": settings.socket_url()}


# The three handlers are registered on the app in app.py: Chalice wraps websocket handlers as
# Lambda entry points only when they are declared on the app, not on a blueprint.
def connect(event: Any) -> dict[str, Any]:
    raw = event.to_dict()
    authorization = _header(raw, "authorization")
    try:
        token = bearer_subprotocol(_subprotocols(raw))
    except ValueError:
        log.info("connection refused: 400 (subprotocols)", extra={"status": 400})
        return {"statusCode": 400}
    accepted: dict[str, Any] = {"statusCode": 200}
    if token is not None:
        if authorization:  # one token, one place (RFC 6750 §2)
            log.info("connection refused: 400 (a token in two places)", extra={"status": 400})
            return {"statusCode": 400}
        authorization = f"Bearer {token}"
        accepted["headers"] = {"Sec-WebSocket-Protocol": BEARER_SUBPROTOCOL}
    try:
        opened = sockets.connect(event.connection_id, authorization)
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
    return accepted


def message(event: Any) -> None:
    sockets.message(event.connection_id, event.body)


def disconnect(event: Any) -> None:
    sockets.disconnect(event.connection_id)
    log.info("disconnected")


def bearer_subprotocol(offered: list[str]) -> str | None:
    """The token of an offer `bearer, <token>`; None when `bearer` is not offered (other
    subprotocols are not ours to refuse). ValueError: `bearer` offered in any other shape."""
    if BEARER_SUBPROTOCOL not in offered:
        return None
    if len(offered) != 2 or offered[0] != BEARER_SUBPROTOCOL or not offered[1]:
        raise ValueError("offer the token as `bearer, <token>`")
    return offered[1]


def _subprotocols(event: dict[str, Any]) -> list[str]:
    """The subprotocols the client offered, in its order, over every Sec-WebSocket-Protocol line."""
    multi = event.get("multiValueHeaders") or {}
    lines = next((values for key, values in multi.items() if key.lower() == "sec-websocket-protocol"), None)
    if lines is None:
        single = _header(event, "sec-websocket-protocol")
        lines = [single] if single is not None else []
    return [part.strip() for line in lines for part in str(line).split(",") if part.strip()]


def _header(event: dict[str, Any], name: str) -> str | None:
    """API Gateway keeps the client's spelling of header names; HTTP says they are case-blind."""
    return next((value for key, value in (event.get("headers") or {}).items() if key.lower() == name), None)
