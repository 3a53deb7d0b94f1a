"""Pushing over the WebSocket API: each command to its node's agent, live events to their followers.

A command is stored before it is pushed (`db/commands`), so a push that fails changes nothing:
the command stays pending and the agent fetches it, in order, when it next connects. A
connection API Gateway reports gone is cleared from its node (unless a newer one replaced it,
which then gets the push) and the node becomes unreachable at once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, TypeVar

from chalicelib.adapters import connections, observability
from chalicelib.contracts import push
from chalicelib.contracts.events import NodeStatusChanged
from chalicelib.db import keys, node_events
from chalicelib.db import nodes as node_repo
from chalicelib.db import sockets as socket_repo
from chalicelib.db.items import CommandItem, DeploymentItem, NodeItem
from chalicelib.models.deployments import DeploymentEventResponse
from chalicelib.services import events

log = logging.getLogger(__name__)
Item = TypeVar("Item", NodeItem, DeploymentItem)


def command(team_id: str, node: NodeItem, item: CommandItem) -> bool:
    """Pushes a stored command to the node's agent; False when no connection took it (it stays pending)."""
    message = push.CommandPush(command=item.body).model_dump_json(by_alias=True).encode()
    if len(message) > push.MAX_MESSAGE_BYTES:  # the agent fetches it over HTTPS
        message = push.CommandRef(id=item.id).model_dump_json(by_alias=True).encode()
    current: NodeItem | None = node
    for _ in range(2):  # the connection read, then the one that may have replaced it meanwhile
        connection_id = current.connection_id if current is not None else None
        if not connection_id:
            return False
        try:
            connections.send(connection_id, message)
        except connections.Gone:
            node_left(team_id, node.id, connection_id, "connection gone")
        else:
            observability.metric(observability.COMMANDS_PUSHED, command_id=item.id, node_id=node.id)
            return True
        current = node_repo.get(team_id, node.id)
    log.info("command %s waits for node %s to connect", item.id, node.id, extra={"command_id": item.id})
    return False


def node_left(team_id: str, node_id: str, connection_id: str, reason: str) -> bool:
    """The node's connection closed: unreachable now (event, followers, notification), unless a
    newer connection replaced it. True when the node went unreachable."""
    node = node_repo.detach(team_id, node_id, connection_id)
    if node is None:
        return False
    node_events.record(node_id, "left", {"reason": reason})
    publish_node(team_id, node_id, "unreachable", node.name)
    log.info("node %s unreachable: %s", node_id, reason, extra={"node_id": node_id, "team_id": team_id})
    observability.metric(observability.AGENTS_LOST, node_id=node_id, reason=reason)
    return True


def nodes_left(nodes: list[NodeItem]) -> None:
    """What the sweep's unreachable nodes announce: their followers (only for nodes someone follows,
    so a mass drop reads no empty follower lists) and one notification event each, batched."""
    for node in followed(nodes):
        publish(f"NODE#{node.id}", push.NodeStatusPush(node_id=node.id, status="unreachable"))
    events.publish_all(
        [
            NodeStatusChanged(
                team_id=keys.team_id_of(node.PK), node_id=node.id, node_name=node.name or "", status="unreachable"
            )
            for node in nodes
        ]
    )


def followed(items: list[Item]) -> list[Item]:
    """The nodes or deployments someone may follow live now (their `followed_until` mark)."""
    now = time.time()
    return [item for item in items if item.followed_until and item.followed_until > now]


def follow_until() -> int:
    """How long a new follower may follow: as long as its connection can live."""
    return socket_repo.expiry()


def publish_node(team_id: str, node_id: str, status: str, name: str | None = None) -> None:
    publish(f"NODE#{node_id}", push.NodeStatusPush(node_id=node_id, status=status))
    events.publish(NodeStatusChanged(team_id=team_id, node_id=node_id, node_name=name or "", status=status))


def deployment(deployment_id: str, events: list[Any], status: str | None = None) -> None:
    """New log entries of a deployment, and its status when it changed, to its followers."""
    topic = f"DEPLOYMENT#{deployment_id}"
    if events:
        shaped = [DeploymentEventResponse.of(e).model_dump(mode="json", by_alias=True) for e in events]
        publish(topic, push.DeploymentEventsPush(deployment_id=deployment_id, events=shaped))
    if status:
        publish(topic, push.DeploymentStatusPush(deployment_id=deployment_id, status=status))


def publish(topic: str, message: push.Message) -> int:
    """Sends `message` to every connection following `topic`; returns how many took it."""
    followers = socket_repo.subscribers(topic)
    if not followers:
        return 0
    data, sent = message.model_dump_json(by_alias=True).encode(), 0
    for connection_id in followers:
        try:
            connections.send(connection_id, data)
            sent += 1
        except connections.Gone:
            socket_repo.unsubscribe(topic, connection_id)
        except Exception:  # noqa: BLE001 - a follower's trouble never fails the change it follows
            log.warning("push to a follower of %s failed", topic.split("#")[0])
    return sent


def reply(connection_id: str, message: push.Message) -> None:
    """An answer to the connection that asked (a subscription's current state, an error)."""
    with contextlib.suppress(connections.Gone):
        connections.send(connection_id, message.model_dump_json(by_alias=True).encode())
