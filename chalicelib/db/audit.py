"""Time-ordered logs: the team audit log (one partition per team) and node event logs.

Sort keys are `<ISO time>#<ULID>`, so a time range is a key range and a page is a Query.

Audit entries expire `settings.audit_retention_days()` whole days after the day they were written
(`ttl`), and reads never return older ones. Each entry ADDs one to its day's count
(`AUDITDAYS#<tid>` / `<YYYY-MM-DD>`, same expiry) in the entry's own transaction, so a page's `total`
is one Query over at most retention + 1 day counts plus a COUNT of the partial days at the ends of
the asked range (at most two days' entries), never a count of the whole partition.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.db import keys
from chalicelib.db.items import AuditDayItem, AuditItem, BaseItem
from chalicelib.db.transactions import Transaction
from chalicelib.domain import audit_days

_EARLIEST = "0000"
_LATEST = "9999"
_MS = timedelta(milliseconds=1)


def put(item: AuditItem) -> None:
    """The entry and its day's count, together."""
    day = AuditDayItem(keys.audit_days(item.team_id), item.created_at.date().isoformat())
    actions = [AuditDayItem.count.add(1), AuditDayItem.ttl.set(item.ttl), AuditDayItem.type.set(AuditDayItem)]
    Transaction().create(item).update(day, actions).commit()


def new_item(team_id: str, now: datetime, **fields) -> AuditItem:
    expires = audit_days.expires_at(now, settings.audit_retention_days())
    return AuditItem(keys.audit(team_id), ids.time_key(now), team_id=team_id, created_at=now, ttl=expires, **fields)


def _range(model, start: datetime | None, end: datetime | None):
    low = ids.iso(start) if start else _EARLIEST
    # The "~" sorts after "#<ulid>", so entries at exactly `end` are included.
    high = f"{ids.iso(end)}~" if end else _LATEST
    return model.SK.between(low, high)


def newest(
    model, partition: str, condition, skip: int, take: int, predicate: Callable[[BaseItem], bool] | None = None
) -> tuple[list, int]:
    """A page of a log, newest first, without counting the log: reads the `skip + take` newest entries
    and one more (with a `predicate`, among at most `settings.audit_filter_max_scan()` entries), so
    `total` is exact when the log ends on this page and otherwise one past it (more follow)."""
    wanted = skip + take + 1
    scan = wanted if predicate is None else max(wanted, settings.audit_filter_max_scan())
    read = model.query(partition, condition, scan_index_forward=False, limit=scan, page_size=min(scan, 1000))
    found = list(itertools.islice(read if predicate is None else filter(predicate, read), wanted))
    return found[skip : skip + take], len(found)


def page_by_time(
    model, partition: str, start: datetime | None, end: datetime | None, skip: int, take: int, predicate=None
) -> tuple[list, int]:
    """Newest first within a time range (see `newest` for `total`)."""
    return newest(model, partition, _range(model, start, end), skip, take, predicate)


def _kept(start: datetime | None, end: datetime | None, now: datetime) -> tuple[datetime, datetime | None]:
    """The asked range as [low, high) in whole milliseconds (the keys' precision), from the first kept day."""
    floor = audit_days.kept_since(now, settings.audit_retention_days())
    low = max(audit_days.utc(start), floor) if start else floor
    low = low.replace(microsecond=low.microsecond // 1000 * 1000)
    if end is None:
        return low, None
    end = audit_days.utc(end)
    return low, end.replace(microsecond=end.microsecond // 1000 * 1000) + _MS


def _between(low: datetime, high: datetime | None):
    # Keys are `<iso>#<ulid>`, so the bare ISO of `high` sorts before every entry at `high`: [low, high).
    return AuditItem.SK.between(ids.iso(low), ids.iso(high) if high else _LATEST)


def page(
    team_id: str, start: datetime | None, end: datetime | None, skip: int, take: int, now: datetime
) -> tuple[list[AuditItem], int]:
    """Newest first, with the number of kept entries in the range."""
    low, high = _kept(start, end, now)
    if high is not None and high <= low:
        return [], 0
    query = AuditItem.query(
        keys.audit(team_id), _between(low, high), scan_index_forward=False, page_size=min(skip + take, 1000)
    )
    return list(itertools.islice(query, skip, skip + take)), _total(team_id, low, high)


def filtered_page(
    team_id: str,
    start: datetime | None,
    end: datetime | None,
    skip: int,
    take: int,
    predicate: Callable[[AuditItem], bool],
    now: datetime,
) -> tuple[list[AuditItem], int]:
    """The entries matching `predicate` among the newest `settings.audit_filter_max_scan()` in the range,
    and how many matched."""
    low, high = _kept(start, end, now)
    if high is not None and high <= low:
        return [], 0
    scanned = AuditItem.query(
        keys.audit(team_id), _between(low, high), scan_index_forward=False, limit=settings.audit_filter_max_scan()
    )
    matching = [item for item in scanned if predicate(item)]
    return matching[skip : skip + take], len(matching)


def kept_total(team_id: str, now: datetime) -> int:
    """How many entries the team's audit log holds (one Query over its day counts)."""
    low, high = _kept(None, None, now)
    return _total(team_id, low, high)


def _total(team_id: str, low: datetime, high: datetime | None) -> int:
    parts = audit_days.split(low, high)
    total = sum(AuditItem.count(keys.audit(team_id), _between(start, end)) for start, end in parts.spans)
    if parts.first_day is not None:
        first = parts.first_day.isoformat()
        days = first <= AuditDayItem.SK
        if parts.last_day is not None:
            days = AuditDayItem.SK.between(first, parts.last_day.isoformat())
        total += sum(int(day.count) for day in AuditDayItem.query(keys.audit_days(team_id), days))
    return total


def delete_all(team_id: str) -> None:
    with BaseItem.batch_write() as batch:
        for partition in (keys.audit(team_id), keys.audit_days(team_id)):
            for item in BaseItem.query(partition, attributes_to_get=["PK", "SK"]):
                batch.delete(item)
