"""Open WebSocket connections (`SOCKET#<connectionId>`) and who follows what (`SUBS#<topic>`).

API Gateway tells a message or disconnect handler only the connection id, so the connection
item says whose it is (an agent's node, a user) without a token. Items expire with API
Gateway's maximum connection time (TTL), so a disconnect that never arrived leaves nothing
behind for long. A node's own connection id lives on the node (`db/nodes.attach`).
"""

from __future__ import annotations

import time
from datetime import datetime

from chalicelib.contracts.push import MAX_CONNECTION_SECONDS
from chalicelib.db import keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import NodeItem, SocketItem, SubscriptionItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import UnauthorizedError

# A page of followers is what one status change fans out to; more are dropped, not queued.
MAX_SUBSCRIBERS = 100


def expiry() -> int:
    """When a connection item made now expires (epoch seconds): after API Gateway has closed it."""
    return int(time.time()) + MAX_CONNECTION_SECONDS + 600


def agent_socket(connection_id: str, team_id: str, node_id: str, token_id: str, now: datetime) -> SocketItem:
    return SocketItem(
        keys.socket(connection_id),
        keys.SOCKET,
        kind="agent",
        team_id=team_id,
        node_id=node_id,
        token_id=token_id,
        connected_at=now,
        ttl=expiry(),
    )


def open_user(connection_id: str, user_id: str, deployment_id: str | None, now: datetime) -> None:
    SocketItem(
        keys.socket(connection_id),
        keys.SOCKET,
        kind="user",
        user_id=user_id,
        deployment_id=deployment_id,
        connected_at=now,
        ttl=expiry(),
    ).save()


def open_agent(node: NodeItem, socket: SocketItem, node_actions: list) -> None:
    """The connection item and the node's new connection in one write; refused once the token is revoked."""
    Transaction().put(socket).update(
        node, node_actions, NodeItem.token_id == socket.token_id, UnauthorizedError("Token revoked.")
    ).commit()


def get(connection_id: str) -> SocketItem | None:
    try:
        return SocketItem.get(keys.socket(connection_id), keys.SOCKET)
    except SocketItem.DoesNotExist:
        return None


def forget(connection_id: str) -> None:
    SocketItem(keys.socket(connection_id), keys.SOCKET).delete()


def subscribe(topic: str, connection_id: str) -> None:
    SubscriptionItem(keys.subscribers(topic), connection_id, connection_id=connection_id, ttl=expiry()).save()


def subscribers(topic: str) -> list[str]:
    return [item.connection_id for item in SubscriptionItem.query(keys.subscribers(topic), limit=MAX_SUBSCRIBERS)]


def unsubscribe(topic: str, connection_id: str) -> None:
    conditional(lambda: SubscriptionItem(keys.subscribers(topic), connection_id).delete())
