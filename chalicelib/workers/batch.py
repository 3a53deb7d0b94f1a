"""SQS batch processing with partial failures, so one bad record never redelivers its neighbours.

Infra enables ReportBatchItemFailures on every SQS event source; the local pump honours
the same response. A record that keeps failing reaches the queue's dead-letter queue: its last
try counts as a poison message (`PoisonMessages`), every failed try as a `MessageFailures` and every
redelivery as a `MessageRetries`, each by queue (docs/operations.md).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from chalicelib import settings
from chalicelib.adapters import observability

log = logging.getLogger(__name__)


def process(records: Iterable[Any], handle: Callable[[str], None], queue: str) -> dict[str, list[dict[str, str]]]:
    """Handles each record on its own (its message id in the log keys); `queue` names the queue in metrics."""
    failures = []
    for record in records:
        raw = record.to_dict()
        message_id, receives = raw.get("messageId"), _receive_count(raw)
        with observability.scope(message_id=message_id):
            if receives > 1:
                observability.metric(observability.MESSAGE_RETRIES, dimensions={"Queue": queue})
            try:
                handle(record.body)
            except Exception as error:  # noqa: BLE001 - reported back to SQS for redelivery / DLQ
                _failed(queue, message_id, receives, error)
                failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def _failed(queue: str, message_id: str | None, receives: int, error: BaseException) -> None:
    # Never log the body, nor the error's message: parsers quote their input (pydantic's
    # `input_value`), and messages may carry e-mail addresses, webhook URLs or secrets.
    last = receives >= settings.max_receive_count()
    log.error(
        "message %s failed (receive %d of %d%s): %s\n%s",
        message_id,
        receives,
        settings.max_receive_count(),
        "; it moves to the dead-letter queue" if last else "; SQS delivers it again",
        type(error).__name__,
        _frames(error),
        extra={"error": type(error).__name__, "receive_count": receives},
    )
    observability.metric(observability.MESSAGE_FAILURES, dimensions={"Queue": queue})
    if last:
        observability.metric(observability.POISON_MESSAGES, dimensions={"Queue": queue})


def _receive_count(record: dict[str, Any]) -> int:
    """How many times SQS delivered this message (1 on its first delivery)."""
    try:
        return int((record.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
    except (TypeError, ValueError):
        return 1


def _frames(error: BaseException) -> str:
    """Where the error was raised (the traceback's frames and source lines), without its message."""
    return "".join(traceback.format_list(traceback.extract_tb(error.__traceback__))).rstrip()
