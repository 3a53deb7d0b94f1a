"""Run a Chalice app's SQS and schedule handlers outside Lambda (local stack, tests).

`chalice local` serves HTTP only. For each `@app.on_sqs_message` the pump does what Lambda's
event source mapping does: long-poll the queue, call the handler with a Lambda-shaped batch,
delete what succeeded and leave the rest for SQS to redeliver, so a poison message reaches the
dead-letter queue by the queue's own redrive policy. A partial batch response
(`{"batchItemFailures": [...]}`, ReportBatchItemFailures) is honoured. Each `@app.schedule`
fires like an EventBridge rule. The callable invoked is the one Lambda invokes
(`app.handler_map[name]`), middleware included. Message bodies are never logged.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from chalice.app import Chalice, ScheduledEventConfig, ScheduleExpression, SQSEventConfig
from chalice.local import LambdaContext

log = logging.getLogger(__name__)

ClientFactory = Callable[[str], Any]
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def default_client_factory(service: str) -> Any:
    from infra.stack import client

    return client(service)


class EventPump:
    """Threads that feed an app's SQS and schedule handlers; `start()`, then `stop()`."""

    def __init__(
        self,
        app: Chalice,
        *,
        client_factory: ClientFactory = default_client_factory,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        wait_seconds: int = 1,
        schedule_seconds: float | None = None,
        timeout_seconds: int = 60,
        memory_mb: int = 128,
    ) -> None:
        self.app = app
        self.region = region
        self.account_id = account_id
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sources: list[tuple[str, Callable[[], None]]] = []
        self._timeout_seconds = timeout_seconds
        self._memory_mb = memory_mb
        for config in app.event_sources:
            if isinstance(config, SQSEventConfig):
                self._sources.append((config.name, _SqsPoller(self, config, client_factory, wait_seconds).run))
            elif isinstance(config, ScheduledEventConfig):
                try:
                    self._sources.append((config.name, _Schedule(self, config, schedule_seconds).run))
                except ValueError as error:
                    log.warning("schedule %s is not emulated locally: %s", config.name, error)
            else:
                log.info("event source %s (%s) is not emulated locally", config.name, type(config).__name__)

    def start(self) -> EventPump:
        for name, run in self._sources:
            thread = threading.Thread(target=run, name=f"pump-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling and firing; a handler already running finishes first."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> EventPump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def stopping(self) -> threading.Event:
        return self._stop

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        """Call the handler Lambda would call for function `name`."""
        context = LambdaContext(name, self._memory_mb, max_runtime_ms=self._timeout_seconds * 1000)
        context.invoked_function_arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"
        return self.app.handler_map[name](event, context)


class _SqsPoller:
    def __init__(self, pump: EventPump, config: SQSEventConfig, factory: ClientFactory, wait_seconds: int):
        self.pump = pump
        self.name = config.name
        self.queue = config.queue or (config.queue_arn or "").rsplit(":", 1)[-1]
        self.batch_size = max(1, min(10, config.batch_size))
        self.factory = factory
        self.wait_seconds = wait_seconds

    def run(self) -> None:
        sqs = self.factory("sqs")
        url, arn = None, None
        while not self.pump.stopping.is_set():
            try:
                if url is None:
                    url = sqs.get_queue_url(QueueName=self.queue)["QueueUrl"]
                    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                    log.info("pump: %s <- queue %s", self.name, self.queue)
                self.poll_once(sqs, url, arn)
            except Exception as error:  # noqa: BLE001 - keep polling; the emulator may be restarting
                log.warning("pump: queue %s unavailable (%s); retrying", self.queue, type(error).__name__)
                url = None
                self.pump.stopping.wait(2)

    def poll_once(self, sqs: Any, url: str, arn: str) -> None:
        messages = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return
        event = {"Records": [self._record(m, arn) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        try:
            result = self.pump.invoke(self.name, event)
            failed = _failed_ids(result, ids)
        except Exception as error:  # noqa: BLE001 - Lambda returns the whole batch to the queue
            failed = set(ids)
            log.warning(
                "pump: %s raised %s at %s; %d message(s) left for redelivery",
                self.name,
                type(error).__name__,
                _where(error),
                len(ids),
            )
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            response = sqs.delete_message_batch(QueueUrl=url, Entries=entries)
            if response.get("Failed"):
                log.warning("pump: %d delete(s) failed on %s", len(response["Failed"]), self.queue)
        log.info(
            "pump: %s handled %d message(s): %d ok, %d left for redelivery",
            self.name,
            len(ids),
            len(done),
            len(ids) - len(done),
        )

    def _record(self, message: dict[str, Any], arn: str) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {k: _attribute(v) for k, v in message.get("MessageAttributes", {}).items()},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": arn,
            "awsRegion": self.pump.region,
        }


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    """boto3's MessageAttributes entry in the shape Lambda puts in an SQS record."""
    binary = value.get("BinaryValue")
    return {
        "stringValue": value.get("StringValue"),
        "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
        "stringListValues": value.get("StringListValues", []),
        "binaryListValues": [base64.b64encode(b).decode() for b in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType"),
    }


def _failed_ids(result: Any, ids: list[str]) -> set[str]:
    """Lambda's reading of a partial batch response: which message ids must be retried.

    No response or an empty list means all succeeded; an entry without a known
    `itemIdentifier` makes Lambda retry the whole batch.
    """
    failures = result.get("batchItemFailures") if isinstance(result, dict) else None
    if not failures:
        return set()
    entries = failures if isinstance(failures, list) else [None]
    failed = {entry.get("itemIdentifier") if isinstance(entry, dict) else None for entry in entries}
    if not failed <= set(ids):
        log.warning("pump: malformed batchItemFailures; the whole batch is retried")
        return set(ids)
    return failed


def _where(error: BaseException) -> str:
    """Where an exception was raised (file:line), without its message: that may quote a body."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


class _Schedule:
    def __init__(self, pump: EventPump, config: ScheduledEventConfig, override_seconds: float | None):
        self.pump = pump
        self.name = config.name
        expression = config.schedule_expression
        self.expression = expression.to_string() if isinstance(expression, ScheduleExpression) else str(expression)
        self.period = override_seconds or rate_seconds(self.expression)
        self.cron = None if self.period else parse_cron(self.expression)

    def run(self) -> None:
        log.info(
            "pump: %s on %s%s", self.name, self.expression, f" (every {self.period:g}s locally)" if self.period else ""
        )
        next_at = time.monotonic() + (self.period or 0)
        last_minute = None
        while True:
            # A cron is checked half a second into every minute (UTC), like EventBridge's.
            delay = next_at - time.monotonic() if self.period else 60.5 - time.time() % 60
            if self.pump.stopping.wait(max(0.0, delay)):
                return
            if self.period:
                next_at = max(next_at + self.period, time.monotonic())
                self.fire()
                continue
            minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
            if minute != last_minute and cron_matches(self.cron, minute):
                last_minute = minute
                self.fire()

    def fire(self) -> None:
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": self.pump.account_id,
            "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.pump.region,
            "resources": [f"arn:aws:events:{self.pump.region}:{self.pump.account_id}:rule/{self.name}"],
            "detail": {},
        }
        try:
            self.pump.invoke(self.name, event)
            log.debug("pump: schedule %s fired", self.name)
        except Exception as error:  # noqa: BLE001 - EventBridge just tries again next time
            log.warning("pump: schedule %s raised %s at %s", self.name, type(error).__name__, _where(error))


def rate_seconds(expression: str) -> float | None:
    """Seconds between firings of `rate(N unit)`; None for a cron expression."""
    match = re.fullmatch(r"rate\(\s*(\d+)\s+(minute|hour|day)s?\s*\)", expression.strip())
    if match:
        return int(match.group(1)) * _RATE_UNITS[match.group(2)]
    if expression.strip().startswith("cron("):
        return None
    raise ValueError(f"unsupported schedule expression {expression!r}")


_MONTHS = {
    m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
}
_DAYS = {d: i + 1 for i, d in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_CRON_FIELDS = [(0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (1, 7, _DAYS), (1970, 2199, {})]


def parse_cron(expression: str) -> list[list[tuple[int, int, int]]]:
    """EventBridge `cron(min hour day-of-month month day-of-week year)` as (start, end, step) ranges.

    Supports `*`, `?`, lists, ranges, steps and names; not `L`, `W` or `#`.
    """
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    return [
        [_cron_range(part, low, high, names) for part in text.upper().split(",")]
        for text, (low, high, names) in zip(fields, _CRON_FIELDS, strict=True)
    ]


def _cron_range(part: str, low: int, high: int, names: dict[str, int]) -> tuple[int, int, int]:
    """One list item of a cron field (`*`, `?`, `5`, `MON-FRI`, `0/15`, `10-50/5`) as (start, end, step)."""
    base, _, step = part.partition("/")
    if base in ("*", "?"):
        return low, high, int(step or 1)
    first, _, last = base.partition("-")
    start = names.get(first) or int(first)
    end = (names.get(last) or int(last)) if last else (high if step else start)
    return start, end, int(step or 1)


def cron_matches(cron: list[list[tuple[int, int, int]]], when: dt.datetime) -> bool:
    weekday = (when.weekday() + 1) % 7 + 1  # EventBridge: 1 = Sunday
    values = [when.minute, when.hour, when.day, when.month, weekday, when.year]
    return all(
        any(start <= value <= end and (value - start) % step == 0 for start, end, step in ranges)
        for ranges, value in zip(cron, values, strict=True)
    )
