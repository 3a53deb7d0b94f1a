"""A node's audit log (`NODEEVENT#<nid>`, time-ordered): installs, connects, container commands.

Events expire after `EVENT_RETENTION_DAYS` (TTL), so the partition, and the count each page makes,
stays bounded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import ids
from chalicelib.db import audit, keys
from chalicelib.db.items import NodeEventItem
from chalicelib.db.retention import event_ttl


def new_item(
    node_id: str, event: str, data: dict[str, Any] | None = None, now: datetime | None = None
) -> NodeEventItem:
    """An event not yet written (the health sweep writes it in one transaction with the node's status)."""
    now = now or ids.utcnow()
    return NodeEventItem(
        keys.node_events(node_id),
        ids.time_key(now),
        node_id=node_id,
        created_at=now,
        event=event,
        data=data,
        ttl=event_ttl(now),
    )


def record(node_id: str, event: str, data: dict[str, Any] | None = None) -> None:
    new_item(node_id, event, data).save()


def page(
    node_id: str, start: datetime | None, end: datetime | None, skip: int, take: int, event: str | None = None
) -> tuple[list[NodeEventItem], int]:
    predicate = (lambda item: item.event == event) if event else None
    return audit.page_by_time(NodeEventItem, keys.node_events(node_id), start, end, skip, take, predicate)
