"""SQS batch processing with partial failures, so one bad record never redelivers its neighbours.

Infra enables ReportBatchItemFailures on every SQS event source; the local pump honours
the same response. A record that keeps failing reaches the queue's dead-letter queue.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)


def process(records: Iterable[Any], handle: Callable[[str], None]) -> dict[str, list[dict[str, str]]]:
    failures = []
    for record in records:
        try:
            handle(record.body)
        except Exception as error:  # noqa: BLE001 - reported back to SQS for redelivery / DLQ
            # Never log the body, nor the error's message: parsers quote their input (pydantic's
            # `input_value`), and messages may carry e-mail addresses, webhook URLs or secrets.
            log.error(
                "message %s failed: %s\n%s", record.to_dict().get("messageId"), type(error).__name__, _frames(error)
            )
            failures.append({"itemIdentifier": record.to_dict().get("messageId")})
    return {"batchItemFailures": failures}


def _frames(error: BaseException) -> str:
    """Where the error was raised (the traceback's frames and source lines), without its message."""
    return "".join(traceback.format_list(traceback.extract_tb(error.__traceback__))).rstrip()
