"""Commands for node agents: `NODECMD#<nid>` / `CMD#<ulid>` (ULIDs sort by time).

A pending command also carries GSI2 `PENDING#<nid>`, so a reconnecting agent reads only what is
still to deliver; acknowledging removes it from the index. Results are kept a day (TTL)
for the API call that waits on them.
"""

from __future__ import annotations

import time
from typing import Any

from ulid import ULID

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import BaseItem, CommandItem

_KEEP_SECONDS = 86400


def new_item(team_id: str, node_id: str, kind: str, body: dict[str, Any]) -> CommandItem:
    """A pending command, not yet written (callers that must write it with other items use this)."""
    command_id = str(ULID())
    return CommandItem(
        keys.node_commands(node_id),
        keys.command(command_id),
        GSI2PK=keys.pending_commands(node_id),
        GSI2SK=command_id,
        id=command_id,
        node_id=node_id,
        team_id=team_id,
        kind=kind,
        body={**body, "id": command_id, "kind": kind},
        status="pending",
        created_at=ids.utcnow(),
        ttl=int(time.time()) + _KEEP_SECONDS,
    )


def enqueue(team_id: str, node_id: str, kind: str, body: dict[str, Any]) -> CommandItem:
    item = new_item(team_id, node_id, kind, body)
    item.save()
    return item


def pending(node_id: str, limit: int = 20) -> list[CommandItem]:
    return [
        item
        for item in BaseItem.gsi2.query(keys.pending_commands(node_id), limit=limit)
        if isinstance(item, CommandItem)
    ]


def get(node_id: str, command_id: str) -> CommandItem | None:
    try:
        return CommandItem.get(keys.node_commands(node_id), keys.command(command_id), consistent_read=True)
    except CommandItem.DoesNotExist:
        return None


def acknowledge(item: CommandItem) -> bool:
    """Idempotent: a repeated ack of the same command changes nothing (and is False)."""
    actions = [
        CommandItem.status.set("acknowledged"),
        CommandItem.acknowledged_at.set(ids.utcnow()),
        CommandItem.GSI2PK.remove(),
        CommandItem.GSI2SK.remove(),
    ]
    return conditional(lambda: item.update(actions=actions, condition=CommandItem.status == "pending"))


def finish(item: CommandItem, ok: bool, result: dict[str, Any]) -> None:
    item.update(
        actions=[
            CommandItem.status.set("done" if ok else "failed"),
            CommandItem.result.set(result),
            CommandItem.finished_at.set(ids.utcnow()),
            CommandItem.GSI2PK.remove(),
            CommandItem.GSI2SK.remove(),
        ],
        condition=CommandItem.PK.exists(),
    )


def discard(item: CommandItem) -> None:
    """Deletes a finished command with its result (one whose result the caller has read)."""
    item.delete()
