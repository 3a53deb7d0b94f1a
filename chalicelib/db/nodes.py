"""Nodes (`NODE#<nid>` in the team partition, name-guarded) and their agent connection state.

Registration consumes the installer atomically (condition on its id and expiry), so an
install token works once. Every agent call is checked against the node's `tokenId`;
removing it (revoke) or the node itself locks the agent out at once. The node item counts the
deployments targeting it, so it is deleted only when none is left (`db/stats.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from chalicelib import ids
from chalicelib.db import keys, named, stats
from chalicelib.db.conditions import conditional, unchanged
from chalicelib.db.items import BaseItem, DeploymentItem, NodeEventItem, NodeItem
from chalicelib.db.named import set_or_remove
from chalicelib.db.transactions import Transaction, commit_units
from chalicelib.errors import PreconditionFailedError, UnauthorizedError, not_found, taken
from chalicelib.models.paging import Page, PageQuery


def new_item(
    team_id: str, node_id: str, name: str, description: str | None, icon: str | None, by: str, now: datetime
) -> NodeItem:
    return NodeItem(
        keys.team(team_id),
        keys.node(node_id),
        id=node_id,
        name=name,
        description=description,
        icon=icon,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def get(team_id: str, node_id: str) -> NodeItem | None:
    return named.get(NodeItem, team_id, keys.node(node_id))


def list_for_team(team_id: str) -> list[NodeItem]:
    return named.query(NodeItem, team_id, keys.NODE_PREFIX)


def page_for_team(team_id: str, query: PageQuery) -> Page[NodeItem]:
    return named.page(NodeItem, team_id, keys.NODE_PREFIX, query)


def create(team_id: str, node: NodeItem) -> None:
    tx = stats.on_team(Transaction(), team_id, {"node_count": 1}, {"first_node_id": node.id})
    named.create(team_id, node, keys.node_name(node.name), taken("node", value=node.name), tx)


def update(
    team_id: str, node: NodeItem, name: str, description: str | None, icon: str | None, by: str, now: datetime
) -> None:
    named.update(
        team_id,
        node,
        keys.node_name(node.name),
        keys.node_name(name),
        [
            NodeItem.name.set(name),
            set_or_remove(NodeItem.description, description),
            set_or_remove(NodeItem.icon, icon),
            NodeItem.updated_at.set(now),
            NodeItem.updated_by.set(by),
        ],
        taken("node", value=name),
        not_found("node"),
    )


def delete(team_id: str, node: NodeItem) -> None:
    """Removes the node unless a deployment targets it (checked in the same write), then its commands
    and events."""
    named.delete(
        team_id,
        node,
        keys.node_name(node.name),
        (NodeItem.deployment_count == 0) | NodeItem.deployment_count.does_not_exist(),
        PreconditionFailedError("The node has deployments; delete them first.", property="nodeId"),
        stats.on_team(Transaction(), team_id, {"node_count": -1}),
    )
    with BaseItem.batch_write() as batch:
        for partition in (keys.node_commands(node.id), keys.node_events(node.id)):
            for item in BaseItem.query(partition, attributes_to_get=["PK", "SK"]):
                batch.delete(item)
    stats.forget(team_id, ("first_node_id", node.id))


def has_deployments(team_id: str, node_id: str) -> bool:
    """Only for a node written before its `deploymentCount` existed (a filtered Query over the
    team's deployments)."""
    found = DeploymentItem.query(
        keys.team(team_id),
        DeploymentItem.SK.startswith(keys.DEPLOYMENT_PREFIX),
        filter_condition=DeploymentItem.node_id == node_id,
    )
    return next(iter(found), None) is not None


def set_installer(
    node: NodeItem,
    install_id: str,
    expires_at: datetime,
    node_type: str,
    script_type: str,
    command: str,
    script_key: str,
) -> None:
    _update(
        node,
        [
            NodeItem.install_id.set(install_id),
            NodeItem.install_expires_at.set(expires_at),
            NodeItem.install_type.set(node_type),
            NodeItem.install_script_type.set(script_type),
            NodeItem.install_command.set(command),
            NodeItem.install_script_key.set(script_key),
            NodeItem.kind.set(node_type),
        ],
    )


def clear_installer(node: NodeItem) -> None:
    _update(
        node,
        [
            NodeItem.install_id.remove(),
            NodeItem.install_expires_at.remove(),
            NodeItem.install_type.remove(),
            NodeItem.install_script_type.remove(),
            NodeItem.install_command.remove(),
            NodeItem.install_script_key.remove(),
        ],
    )


def register(
    node: NodeItem,
    install_id: str,
    token_id: str,
    *,
    version: str,
    kind: str,
    public_key: str,
    address: str | None,
    hostname: str,
    now: datetime,
) -> None:
    """Swaps the single-use installer for a connection token (the node connects with its WebSocket)."""
    actions = [
        NodeItem.install_id.remove(),
        NodeItem.install_expires_at.remove(),
        NodeItem.install_type.remove(),
        NodeItem.install_script_type.remove(),
        NodeItem.install_command.remove(),
        NodeItem.install_script_key.remove(),
        NodeItem.token_id.set(token_id),
        NodeItem.version.set(version),
        NodeItem.kind.set(kind),
        NodeItem.public_key.set(public_key),
        set_or_remove(NodeItem.address, address),
        NodeItem.hostname.set(hostname),
    ]
    unspent = (NodeItem.install_id == install_id) & (NodeItem.install_expires_at > now)
    conditional(
        lambda: node.update(actions=actions, condition=unspent),
        UnauthorizedError("The install token was already used or has expired."),
    )


def heartbeat(node: NodeItem, token_id: str, *, version: str, public_key: str | None, address: str | None) -> None:
    """What the agent reports when it starts: its version and key (liveness is its WebSocket's)."""
    actions = [NodeItem.version.set(version)]
    if public_key:
        actions.append(NodeItem.public_key.set(public_key))
    if address:
        actions.append(NodeItem.address.set(address))
    conditional(
        lambda: node.update(actions=actions, condition=NodeItem.token_id == token_id),
        UnauthorizedError("Token revoked."),
    )


def connect_actions(node: NodeItem, connection_id: str, now: datetime) -> list:
    """What a new WebSocket connection changes on its node: the newest connection wins."""
    return [NodeItem.connection_id.set(connection_id), *_connected(node.id, now, reconnected=True)]


def detach(team_id: str, node_id: str, connection_id: str) -> NodeItem | None:
    """The node's connection is gone: unreachable (the node as it is now), unless a newer connection
    replaced it (None)."""
    node = NodeItem(keys.team(team_id), keys.node(node_id))  # update() fills it with the new state
    left = conditional(
        lambda: node.update(
            actions=[NodeItem.connection_id.remove(), *_disconnected()],
            condition=NodeItem.connection_id == connection_id,
        )
    )
    return node if left else None


def seen(team_id: str, node_id: str, connection_id: str, now: datetime) -> bool:
    """An agent's occasional sign of life on its connection (the health sweep reads it)."""
    node = NodeItem(keys.team(team_id), keys.node(node_id))
    return conditional(
        lambda: node.update(
            actions=_connected(node_id, now, reconnected=False), condition=NodeItem.connection_id == connection_id
        )
    )


def revoke_token(node: NodeItem) -> None:
    conditional(
        lambda: node.update(
            actions=[NodeItem.token_id.remove(), NodeItem.connection_id.remove(), *_disconnected()],
            condition=NodeItem.token_id.exists(),
        ),
        not_found("token"),
    )


def silent_since(shard: str, cutoff: datetime, limit: int) -> list[NodeItem]:
    """Up to `limit` connected nodes last seen before `cutoff`, longest silent first (GSI2 range Query)."""
    return [
        item
        for item in BaseItem.gsi2.query(shard, BaseItem.GSI2SK < ids.iso(cutoff), limit=limit)  # noqa: SIM300
        if isinstance(item, NodeItem)
    ]


def mark_unreachable(silent: list[tuple[NodeItem, NodeEventItem]], cutoff: datetime) -> Iterator[list[NodeItem]]:
    """Each node unreachable with its event, in shared transactions, each conditioned on the node
    being as the sweep read it: still connected, last seen before `cutoff` (a mark that lands
    meanwhile wins and the node stays connected) and with the same followers. Yields the nodes (as
    read) each transaction flipped."""

    def build(tx: Transaction, unit: tuple[NodeItem, NodeEventItem]) -> None:
        node, event = unit
        still_silent = (
            (NodeItem.connection == "connected")
            & (NodeItem.last_seen < cutoff)
            & unchanged(NodeItem.followed_until, node.followed_until)
        )
        tx.update(node, [NodeItem.connection_id.remove(), *_disconnected()], still_silent)
        tx.put(event)

    for written in commit_units(silent, build):
        yield [node for node, _ in written]


def follow(team_id: str, node_id: str, until: int) -> NodeItem | None:
    """Notes that someone follows the node live until `until` (epoch seconds); returns the node as it is
    now, or None when the team has no such node. The sweep looks up followers only while this holds."""
    node = NodeItem(keys.team(team_id), keys.node(node_id))  # update() fills it with the current state
    actions = [NodeItem.followed_until.set(until)]
    return node if conditional(lambda: node.update(actions=actions, condition=NodeItem.PK.exists())) else None


def set_updating(node: NodeItem, since: datetime | None) -> None:
    _update(node, [NodeItem.updating_since.set(since) if since else NodeItem.updating_since.remove()])


def _connected(node_id: str, now: datetime, reconnected: bool) -> list:
    actions = [
        NodeItem.connection.set("connected"),
        NodeItem.last_seen.set(now),
        NodeItem.GSI2PK.set(keys.connected_shard(node_id)),
        NodeItem.GSI2SK.set(keys.connected_since(ids.iso(now), node_id)),
    ]
    if reconnected:
        actions.append(NodeItem.connected_at.set(now))
    return actions


def _disconnected() -> list:
    return [NodeItem.connection.set("unreachable"), NodeItem.GSI2PK.remove(), NodeItem.GSI2SK.remove()]


def _update(node: NodeItem, actions: list) -> None:
    conditional(lambda: node.update(actions=actions, condition=NodeItem.PK.exists()), not_found("node"))
