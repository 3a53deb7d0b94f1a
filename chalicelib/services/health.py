"""Platform health: is the table reachable, and which schema version is deployed."""

from __future__ import annotations

import logging

from chalicelib import settings
from chalicelib.db import keys
from chalicelib.db.items import GuardItem

log = logging.getLogger(__name__)


def check() -> dict[str, str]:
    try:
        # A cheap strongly-keyed read proves the table and credentials work.
        GuardItem.count(keys.META, limit=1)
        status = "operational"
    except Exception as error:  # noqa: BLE001 - health reports, it does not raise
        # An outage is an expected state, not a bug: one line, no traceback (uptime checks poll this).
        log.warning("health check: table unreachable (%s)", type(error).__name__)
        status = "disrupted"
    return {"status": status, "version": settings.VERSION, "last_migration": settings.SCHEMA_VERSION}
