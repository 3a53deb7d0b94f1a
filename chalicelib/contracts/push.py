"""What travels on the WebSocket API: commands pushed to agents, live events pushed to people.

One outbound connection per agent replaces polling (architecture.md): the platform pushes each
command the moment it exists; a command too large for one API Gateway message travels as a
reference the agent fetches over HTTPS. Consoles and CLIs connect to the same API with a user
token and subscribe to a deployment or a node. Both sides read this module (the agent ships it).
"""

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from chalicelib.contracts.agent import Message

# API Gateway WebSocket limits: 128 KB per message (we keep a margin for the envelope),
# 10 minutes idle, 2 hours per connection.
MAX_MESSAGE_BYTES = 120 * 1024
IDLE_TIMEOUT_SECONDS = 600
MAX_CONNECTION_SECONDS = 7200

# Browsers cannot set the handshake's Authorization header: they offer the token as the second of
# two subprotocols, `Sec-WebSocket-Protocol: bearer, <token>`, and the platform selects `bearer`
# (never echoing the token). Never in the URL: query strings are logged.
BEARER_SUBPROTOCOL = "bearer"


# --- platform → agent -----------------------------------------------------------------------
class CommandPush(Message):
    """A command, whole (the same JSON `GET /api/agent/commands` returns)."""

    type: Literal["command"] = "command"
    command: dict[str, Any]


class CommandRef(Message):
    """A command larger than one message: fetch `GET /api/agent/commands/{id}` with the agent token."""

    type: Literal["command-ref"] = "command-ref"
    id: str


# --- platform → subscriber ------------------------------------------------------------------
class DeploymentStatusPush(Message):
    type: Literal["deployment-status"] = "deployment-status"
    deployment_id: str
    status: str


class DeploymentEventsPush(Message):
    """New entries of the deployment's event log, oldest first, shaped as `GET …/deployments/{id}/log` shows them."""

    type: Literal["deployment-events"] = "deployment-events"
    deployment_id: str
    events: list[dict[str, Any]]


class NodeStatusPush(Message):
    type: Literal["node-status"] = "node-status"
    node_id: str
    status: str


class Subscribed(Message):
    """The answer to a subscription: the current state, so nothing between read and subscribe is lost."""

    type: Literal["subscribed"] = "subscribed"
    topic: str
    status: str


class Problem(Message):
    type: Literal["error"] = "error"
    message: str
    property: str | None = None


ServerMessage = Annotated[
    CommandPush | CommandRef | DeploymentStatusPush | DeploymentEventsPush | NodeStatusPush | Subscribed | Problem,
    Field(discriminator="type"),
]


# --- client → platform ----------------------------------------------------------------------
class Ping(Message):
    """Keepalive inside API Gateway's idle timeout. `seen` asks for a last-seen write (agents,
    every few minutes); a plain ping costs no table access."""

    action: Literal["ping"] = "ping"
    seen: bool = False


class Subscribe(Message):
    """Follow one deployment's status and events, or one node's status (team access rules apply)."""

    action: Literal["subscribe"] = "subscribe"
    team_slug: str
    deployment_id: str | None = None
    node_id: str | None = None


ClientMessage = Annotated[Ping | Subscribe, Field(discriminator="action")]

_LAZY = ConfigDict(defer_build=True)
SERVER_MESSAGE: TypeAdapter[Any] = TypeAdapter(ServerMessage, config=_LAZY)
CLIENT_MESSAGE: TypeAdapter[Any] = TypeAdapter(ClientMessage, config=_LAZY)
