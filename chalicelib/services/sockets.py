"""The WebSocket API's events: who connects, what they say, who leaves.

Tokens travel in the handshake's Authorization header, or from a browser as the subprotocol pair
`bearer, <token>` (api/sockets.py), never in the query string, which API Gateway logs. An agent
connects with its connection token: the node becomes connected with this connection (the newest
wins) at once. A person or CI job connects with a login, personal or deployment token and
subscribes to a deployment or a node; team access rules apply as on the REST routes. When a
connection closes, its node becomes unreachable at once, unless a newer connection replaced it.
An idle connection costs nothing here: a plain ping touches no table, an agent's occasional
`seen` ping writes its node's last-seen time (the health sweep's safety net reads it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from chalicelib import ids
from chalicelib.adapters import observability
from chalicelib.contracts import push as messages
from chalicelib.db import deployments as deployment_repo
from chalicelib.db import node_events
from chalicelib.db import nodes as node_repo
from chalicelib.db import sockets as socket_repo
from chalicelib.db.items import SocketItem
from chalicelib.errors import AppError, ForbiddenError, NotFoundError, UnauthorizedError
from chalicelib.security import jwts
from chalicelib.security.agent_tokens import CONNECTION
from chalicelib.services import access, agents, identity, nodes, push
from chalicelib.services.identity import Identity


@dataclass(frozen=True)
class Opened:
    kind: str  # agent | user
    node_id: str | None = None


def connect(connection_id: str, authorization: str | None) -> Opened:
    """Raises UnauthorizedError for a missing, bad or revoked token (the handshake is refused)."""
    if jwts.unverified_type(identity.bearer_token(authorization)) == CONNECTION:
        return _connect_agent(connection_id, authorization)
    caller = identity.authenticate(authorization, allow_deploy_token=True)
    socket_repo.open_user(connection_id, caller.user_id, caller.deployment_id, ids.utcnow())
    return Opened("user")


def _connect_agent(connection_id: str, authorization: str | None) -> Opened:
    agent = agents.authenticate(authorization, CONNECTION)
    node, now = agent.node, ids.utcnow()
    was_connected = node.connection == "connected"
    socket = socket_repo.agent_socket(connection_id, agent.team_id, node.id, agent.token_id, now)
    socket_repo.open_agent(node, socket, node_repo.connect_actions(node, connection_id, now))
    observability.metric(observability.AGENT_CONNECTIONS, node_id=node.id, team_id=agent.team_id)
    if not was_connected:
        node_events.record(node.id, "connected", {"version": node.version, "address": node.address})
        node.connection, node.last_seen = "connected", now
        push.publish_node(agent.team_id, node.id, nodes.status(node), node.name)
    return Opened("agent", node.id)


def disconnect(connection_id: str) -> None:
    socket = socket_repo.get(connection_id)
    if socket is None:
        return
    if socket.kind == "agent" and socket.team_id and socket.node_id:
        push.node_left(socket.team_id, socket.node_id, connection_id, "disconnected")
    socket_repo.forget(connection_id)


def message(connection_id: str, body: str) -> None:
    """A client's message; anything wrong is answered on the connection, never raised."""
    try:
        request = messages.CLIENT_MESSAGE.validate_json(body)
    except ValidationError as error:
        push.reply(connection_id, messages.Problem(message="Unknown message.", property=_field(error)))
        return
    if isinstance(request, messages.Ping):
        if request.seen:
            _seen(connection_id)
        return
    try:
        push.reply(connection_id, _subscribe(connection_id, request))
    except AppError as error:
        push.reply(connection_id, messages.Problem(message=error.message, property=error.property))


def _seen(connection_id: str) -> None:
    socket = socket_repo.get(connection_id)
    if socket is not None and socket.kind == "agent" and socket.team_id and socket.node_id:
        node_repo.seen(socket.team_id, socket.node_id, connection_id, ids.utcnow())


def _subscribe(connection_id: str, request: messages.Subscribe) -> messages.Subscribed:
    """Subscribes first, then reads the current state: a change in between is pushed, never lost."""
    socket = _person(connection_id)
    caller = Identity(
        user_id=socket.user_id or "", email="", name="", kind="socket", deployment_id=socket.deployment_id
    )
    team = access.member_of_slug(request.team_slug, caller)
    topic, read = _topic(team.team_id, socket, request)
    socket_repo.subscribe(topic, connection_id)
    status = read()
    if status is None:  # not this team's: nothing is followed, nothing is revealed
        socket_repo.unsubscribe(topic, connection_id)
        raise NotFoundError("Not found.", property="deploymentId" if request.deployment_id else "nodeId")
    return messages.Subscribed(topic=topic.split("#")[0].lower(), status=status)


def _topic(team_id: str, socket: SocketItem, request: messages.Subscribe) -> tuple[str, Callable[[], str | None]]:
    """What the request follows, and how to read its current status (None: not in this team). The
    read marks the item followed, so sweeps that change many at once look up only followed ones."""
    if request.deployment_id:
        if socket.deployment_id and socket.deployment_id != request.deployment_id:
            raise ForbiddenError("This deployment token follows another deployment.", property="deploymentId")
        deployment_id = request.deployment_id

        def deployment_status() -> str | None:
            deployment = deployment_repo.follow(team_id, deployment_id, push.follow_until())
            return deployment.status if deployment else None

        return f"DEPLOYMENT#{deployment_id}", deployment_status
    if request.node_id and not socket.deployment_id:
        node_id = request.node_id

        def node_status() -> str | None:
            node = node_repo.follow(team_id, node_id, push.follow_until())
            return nodes.status(node) if node else None

        return f"NODE#{node_id}", node_status
    raise ForbiddenError("Subscribe to a deployment or a node.", property="deploymentId")


def _person(connection_id: str) -> SocketItem:
    socket = socket_repo.get(connection_id)
    if socket is None or socket.kind != "user" or not socket.user_id:
        raise UnauthorizedError("Only a person's or a CI job's connection can subscribe.")
    return socket


def _field(error: ValidationError) -> str | None:
    problems = error.errors()
    return ".".join(str(part) for part in problems[0]["loc"]) if problems and problems[0]["loc"] else None
