"""Identifiers and timestamps: UUIDv4 ids as dyrector uses, ULIDs to order time-keyed items."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except (ValueError, AttributeError, TypeError):
        return False


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Sortable UTC timestamp with milliseconds, as the API documents (`...T04:25:58.018Z`)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def time_key(dt: datetime | None = None) -> str:
    """Sort key for time-ordered children: ISO time plus a ULID so equal instants never collide."""
    from ulid import ULID  # on first use: it loads package metadata, too slow for every cold start

    return f"{iso(dt or utcnow())}#{ULID()}"
