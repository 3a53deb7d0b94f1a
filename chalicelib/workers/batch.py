"""SQS batch processing with partial failures, so one bad record never redelivers its neighbours.

Infra enables ReportBatchItemFailures on every SQS event source; the local pump honours
the same response. A record that keeps failing reaches the queue's dead-letter queue.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)


def process(records: Iterable[Any], handle: Callable[[str], None]) -> dict[str, list[dict[str, str]]]:
    failures = []
    for record in records:
        try:
            handle(record.body)
        except Exception:  # noqa: BLE001 - reported back to SQS for redelivery / DLQ
            # Never log the body: messages may carry e-mail addresses or secrets.
            log.exception("message %s failed", record.to_dict().get("messageId"))
            failures.append({"itemIdentifier": record.to_dict().get("messageId")})
    return {"batchItemFailures": failures}
