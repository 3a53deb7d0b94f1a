"""The event pump against moto: delivery in Lambda's shape, deletion, partial batches,
redelivery into the dead-letter queue, schedules, and no message bodies in the logs."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import queue
import time
import uuid

import pytest
from chalice import Chalice, Cron, Rate

from infra import stack
from infra.pump import EventPump, cron_matches, parse_cron, rate_seconds
from tests.fixtures.waiting import eventually

PREFIX = f"pump-{uuid.uuid4().hex[:8]}"
SECRET = "s3cr3t-registry-password"

app = Chalice(app_name="pumptest")
delivered: queue.Queue = queue.Queue()
ticks: queue.Queue = queue.Queue()
rejected_once: set[str] = set()


@app.on_sqs_message(queue=f"{PREFIX}-events", batch_size=10)
def record_events(event):
    """Records every delivery; rejects a `flaky` message once through a partial batch response."""
    failures = []
    for record in event:
        delivered.put(record.to_dict())
        if record.body.startswith("flaky") and record.body not in rejected_once:
            rejected_once.add(record.body)
            failures.append({"itemIdentifier": record.to_dict()["messageId"]})
    return {"batchItemFailures": failures}


@app.on_sqs_message(queue=f"{PREFIX}-deploy")
def always_fails(event):
    for record in event:
        raise RuntimeError(f"cannot deploy {record.body}")  # the message must not reach the logs


@app.schedule(Rate(1, unit=Rate.HOURS))
def tick(event):
    ticks.put(event.to_dict())


@pytest.fixture(scope="module")
def resources(aws):
    outputs = stack.create_stack(
        PREFIX, {"Prefix": PREFIX, "VisibilityTimeout": "1"}, cloudformation=aws("cloudformation")
    )
    return stack.export_outputs(outputs, environ={})


@pytest.fixture(scope="module")
def pump(aws, resources):
    with EventPump(app, client_factory=aws, wait_seconds=1, schedule_seconds=0.3) as running:
        yield running


def send(aws, queue_name: str, body: str, **kwargs) -> str:
    sqs = aws("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    return sqs.send_message(QueueUrl=url, MessageBody=body, **kwargs)["MessageId"]


def queue_counts(aws, queue_name: str) -> tuple[int, int]:
    sqs = aws("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"]), int(
        attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
    )


def collect(source: queue.Queue, count: int, timeout: float) -> list:
    items, deadline = [], time.monotonic() + timeout
    while len(items) < count and time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            items.append(source.get(timeout=0.2))
    return items


@pytest.mark.timeout(60)
def test_message_is_delivered_in_lambda_shape_and_deleted(aws, resources, pump):
    # GIVEN a message with an attribute on the events queue
    message_id = send(
        aws,
        resources["EVENTS_QUEUE_NAME"],
        json.dumps({"n": 1}),
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "note"}},
    )

    # WHEN the pump delivers it
    (record,) = [r for r in collect(delivered, 1, 15) if r["messageId"] == message_id]

    # THEN the handler saw what Lambda would pass
    assert record["body"] == '{"n": 1}'
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(f":{resources['EVENTS_QUEUE_NAME']}")
    assert record["awsRegion"] == "us-east-1"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["kind"]["stringValue"] == "note"
    assert record["messageAttributes"]["kind"]["dataType"] == "String"
    assert record["receiptHandle"]

    # AND it was deleted: neither visible nor in flight (an undeleted message would stay in flight until the
    # visibility timeout, then come back), and nothing comes back
    eventually(lambda: queue_counts(aws, resources["EVENTS_QUEUE_NAME"]) == (0, 0), 5)
    assert collect(delivered, 1, 1) == []
    assert queue_counts(aws, resources["EVENTS_QUEUE_NAME"]) == (0, 0)


@pytest.mark.timeout(60)
def test_partial_batch_failure_redelivers_only_the_failed_message(aws, resources, pump):
    # GIVEN a good message and one the handler rejects the first time
    flaky_body = f"flaky-{uuid.uuid4().hex}"
    good_id = send(aws, resources["EVENTS_QUEUE_NAME"], "good")
    flaky_id = send(aws, resources["EVENTS_QUEUE_NAME"], flaky_body)

    # WHEN the pump runs past one visibility timeout
    deliveries = collect(delivered, 3, 20)
    # (until both are deleted: a message left in flight would come back after the visibility timeout)
    eventually(lambda: queue_counts(aws, resources["EVENTS_QUEUE_NAME"]) == (0, 0), 5)
    deliveries += collect(delivered, 1, 0.5)

    # THEN the flaky one came twice (second receive), the good one once, and the queue is empty
    by_id: dict[str, list] = {}
    for record in deliveries:
        by_id.setdefault(record["messageId"], []).append(record["attributes"]["ApproximateReceiveCount"])
    assert by_id[good_id] == ["1"]
    assert by_id[flaky_id] == ["1", "2"]
    assert queue_counts(aws, resources["EVENTS_QUEUE_NAME"]) == (0, 0)


@pytest.mark.timeout(90)
def test_failing_message_ends_in_the_dead_letter_queue_and_its_body_is_not_logged(aws, resources, pump, caplog):
    caplog.set_level(logging.DEBUG, logger="infra")  # botocore's own DEBUG log would show bodies
    # GIVEN a message carrying a secret that the deploy handler always fails on
    message_id = send(aws, resources["DEPLOY_QUEUE_NAME"], f"password={SECRET}")

    # WHEN SQS has redelivered it maxReceiveCount (5) times
    sqs = aws("sqs")
    dlq_url = sqs.get_queue_url(QueueName=resources["DEPLOY_DEAD_LETTER_QUEUE_NAME"])["QueueUrl"]
    moved = []
    deadline = time.monotonic() + 60
    while not moved and time.monotonic() < deadline:
        moved = sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1, MessageSystemAttributeNames=["All"]).get(
            "Messages", []
        )

    # THEN it is in the dead-letter queue, out of the work queue
    assert [m["MessageId"] for m in moved] == [message_id]
    assert queue_counts(aws, resources["DEPLOY_QUEUE_NAME"]) == (0, 0)
    # AND the failures were logged without the body (nor the exception message quoting it)
    assert "always_fails raised RuntimeError" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.timeout(30)
def test_schedule_fires_a_cloudwatch_scheduled_event(pump):
    events = collect(ticks, 2, 10)
    assert len(events) == 2
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"][0].endswith(":rule/tick")


@pytest.mark.timeout(30)
def test_stop_ends_every_thread_promptly(aws, resources):
    started = time.monotonic()
    pump = EventPump(app, client_factory=aws, wait_seconds=1, schedule_seconds=60).start()
    time.sleep(0.5)
    assert pump.running
    pump.stop(timeout=10)
    assert time.monotonic() - started < 5
    assert not pump.running


def test_rate_expressions():
    assert rate_seconds(Rate(5, unit=Rate.MINUTES).to_string()) == 300
    assert rate_seconds("rate(1 hour)") == 3600
    assert rate_seconds("rate(2 days)") == 172800
    assert rate_seconds(Cron(0, 3, "*", "*", "?", "*").to_string()) is None
    with pytest.raises(ValueError):
        rate_seconds("every 5 minutes")


@pytest.mark.parametrize(
    ("expression", "when", "expected"),
    [
        ("cron(0 3 * * ? *)", dt.datetime(2026, 11, 22, 3, 0), True),
        ("cron(0 3 * * ? *)", dt.datetime(2026, 11, 22, 3, 1), False),
        ("cron(*/15 * * * ? *)", dt.datetime(2026, 11, 22, 7, 45), True),
        ("cron(*/15 * * * ? *)", dt.datetime(2026, 11, 22, 7, 44), False),
        ("cron(0 9 ? * MON-FRI *)", dt.datetime(2026, 11, 23, 9, 0), True),  # a Monday
        ("cron(0 9 ? * MON-FRI *)", dt.datetime(2026, 11, 22, 9, 0), False),  # a Sunday
        ("cron(0 0 1 JAN,JUL ? 2026)", dt.datetime(2026, 7, 1, 0, 0), True),
        ("cron(0 0 1 JAN,JUL ? 2026)", dt.datetime(2027, 7, 1, 0, 0), False),
    ],
)
def test_cron_expressions(expression, when, expected):
    assert cron_matches(parse_cron(expression), when) is expected


def test_unsupported_cron_is_reported_not_emulated():
    with pytest.raises(ValueError):
        parse_cron("cron(0 0 L * ? *)")
