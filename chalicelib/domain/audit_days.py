"""Time-bounded logs kept by whole UTC days (the team audit log), pure date arithmetic.

An entry written on day D is kept `days` whole days after D: it expires (DynamoDB TTL) at midnight
starting day D + days + 1, and from that midnight on no read returns it, even before DynamoDB
removes it. Per-day counts make a total over whole days one small read; only the partial days at
the ends of a range are counted entry by entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

_DAY = timedelta(days=1)


def utc(moment: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def midnight(moment: datetime) -> datetime:
    """The start of the UTC day holding `moment`."""
    return utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def kept_since(now: datetime, days: int) -> datetime:
    """The first instant whose entries are still kept."""
    return midnight(now) - days * _DAY


def expires_at(written: datetime, days: int) -> int:
    """The TTL (epoch seconds) of an entry written at `written`, and of its day's count."""
    return int((midnight(written) + (days + 1) * _DAY).timestamp())


@dataclass(frozen=True)
class Split:
    """A time range [low, high) as whole UTC days (`first_day`..`last_day`, inclusive; `last_day` None
    = open-ended) and the partial days left at its ends (`spans`, each [start, end))."""

    first_day: date | None = None
    last_day: date | None = None
    spans: list[tuple[datetime, datetime]] = field(default_factory=list)


def split(low: datetime, high: datetime | None) -> Split:
    """Splits [low, high) (`high` None = up to now and beyond) into whole days and partial spans."""
    low = utc(low)
    first_whole = low if low == midnight(low) else midnight(low) + _DAY
    if high is None:
        return Split(first_whole.date(), None, [(low, first_whole)] if low < first_whole else [])
    high = utc(high)
    if high <= first_whole:
        return Split(spans=[(low, high)] if low < high else [])
    head = [(low, first_whole)] if low < first_whole else []
    last_whole = midnight(high)
    tail = [(last_whole, high)] if last_whole < high else []
    if last_whole == first_whole:
        return Split(spans=head + tail)
    return Split(first_whole.date(), (last_whole - _DAY).date(), head + tail)
