"""The team audit log: one partition per team, sorted by time so ranges are Queries."""

from __future__ import annotations

import itertools
from datetime import datetime

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db.items import AuditItem

_EARLIEST = "0000"
_LATEST = "9999"


def put(item: AuditItem) -> None:
    item.save()


def new_item(team_id: str, now: datetime, **fields) -> AuditItem:
    return AuditItem(keys.audit(team_id), ids.time_key(now), team_id=team_id, created_at=now, **fields)


def _range(start: datetime | None, end: datetime | None):
    low = ids.iso(start) if start else _EARLIEST
    # The "~" sorts after "#<ulid>", so entries at exactly `end` are included.
    high = f"{ids.iso(end)}~" if end else _LATEST
    return AuditItem.SK.between(low, high)


def page(team_id: str, start: datetime | None, end: datetime | None, skip: int, take: int,
         predicate=None) -> tuple[list[AuditItem], int]:
    """Newest first; `total` counts every entry in the range (after `predicate`)."""
    condition = _range(start, end)
    if predicate is None:
        total = AuditItem.count(keys.audit(team_id), condition)
        items = AuditItem.query(keys.audit(team_id), condition, scan_index_forward=False, page_size=min(skip + take, 1000))
        return list(itertools.islice(items, skip, skip + take)), total
    matching = [item for item in AuditItem.query(keys.audit(team_id), condition, scan_index_forward=False)
                if predicate(item)]
    return matching[skip:skip + take], len(matching)


def delete_all(team_id: str) -> None:
    with AuditItem.batch_write() as batch:
        for item in AuditItem.query(keys.audit(team_id)):
            batch.delete(item)
