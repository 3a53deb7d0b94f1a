"""Time-ordered logs: the team audit log (one partition per team) and node event logs.

Sort keys are `<ISO time>#<ULID>`, so a time range is a key range and a page is a Query.
"""

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


def _range(model, start: datetime | None, end: datetime | None):
    low = ids.iso(start) if start else _EARLIEST
    # The "~" sorts after "#<ulid>", so entries at exactly `end` are included.
    high = f"{ids.iso(end)}~" if end else _LATEST
    return model.SK.between(low, high)


def page_by_time(
    model, partition: str, start: datetime | None, end: datetime | None, skip: int, take: int, predicate=None
) -> tuple[list, int]:
    """Newest first; `total` counts every entry in the range (after `predicate`)."""
    condition = _range(model, start, end)
    if predicate is None:
        total = model.count(partition, condition)
        items = model.query(partition, condition, scan_index_forward=False, page_size=min(skip + take, 1000))
        return list(itertools.islice(items, skip, skip + take)), total
    matching = [item for item in model.query(partition, condition, scan_index_forward=False) if predicate(item)]
    return matching[skip : skip + take], len(matching)


def page(
    team_id: str, start: datetime | None, end: datetime | None, skip: int, take: int, predicate=None
) -> tuple[list[AuditItem], int]:
    return page_by_time(AuditItem, keys.audit(team_id), start, end, skip, take, predicate)


def delete_all(team_id: str) -> None:
    with AuditItem.batch_write() as batch:
        for item in AuditItem.query(keys.audit(team_id)):
            batch.delete(item)
