"""How long kept logs live: their `ttl` (the table's TTL attribute, epoch seconds); DynamoDB deletes
an expired item by itself, usually within a few days, at no write cost."""

from __future__ import annotations

from datetime import datetime

from chalicelib import settings

_DAY = 86400


def event_ttl(created: datetime) -> int:
    """Expiry of a deployment-log or node-audit event: `EVENT_RETENTION_DAYS` after it happened."""
    return int(created.timestamp()) + settings.event_retention_days() * _DAY
