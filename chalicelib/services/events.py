"""Publishing platform events to the events queue.

Publishing is best effort: a queue outage is logged and never fails the request that
caused the event (the worker side retries and dead-letters what it cannot deliver).
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import settings
from chalicelib.adapters import queues
from chalicelib.contracts import events

log = logging.getLogger(__name__)


def publish(event) -> bool:
    try:
        queues.send(settings.events_queue_name(), events.dump(event))
        return True
    except Exception:  # noqa: BLE001 - any transport failure is logged, never raised
        log.exception("could not publish %s event for team %s", event.type, event.team_id)
        return False


def publish_all(batch: list[Any]) -> int:
    """Several events in as few calls as SQS allows (a sweep's); returns how many were not queued."""
    if not batch:
        return 0
    try:
        refused = queues.send_batch(settings.events_queue_name(), [events.dump(event) for event in batch])
    except Exception:  # noqa: BLE001 - any transport failure is logged, never raised
        log.exception("could not publish %d events", len(batch))
        return len(batch)
    if refused:
        log.error("the events queue refused %d of %d events", refused, len(batch))
    return refused
