"""A node's audit log (`NODEEVENT#<nid>`, time-ordered): installs, connects, container commands."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from chalicelib import ids
from chalicelib.db import audit, keys
from chalicelib.db.items import NodeEventItem

_KEEP_SECONDS = 90 * 86400


def record(node_id: str, event: str, data: dict[str, Any] | None = None) -> None:
    now = ids.utcnow()
    NodeEventItem(
        keys.node_events(node_id),
        ids.time_key(now),
        node_id=node_id,
        created_at=now,
        event=event,
        data=data,
        ttl=int(time.time()) + _KEEP_SECONDS,
    ).save()


def page(
    node_id: str, start: datetime | None, end: datetime | None, skip: int, take: int, event: str | None = None
) -> tuple[list[NodeEventItem], int]:
    predicate = (lambda item: item.event == event) if event else None
    return audit.page_by_time(NodeEventItem, keys.node_events(node_id), start, end, skip, take, predicate)
