"""SQS: send messages to the platform queues by name (URLs resolved once per process)."""

from __future__ import annotations

import functools

from chalicelib import settings
from chalicelib.adapters import aws


@functools.lru_cache(maxsize=16)
def _queue_url(name: str, endpoint: str | None, region: str) -> str:
    return aws.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def queue_url(name: str) -> str:
    return _queue_url(name, settings.endpoint_url(), settings.region())


def send(queue_name: str, body: str) -> str:
    response = aws.client("sqs").send_message(QueueUrl=queue_url(queue_name), MessageBody=body)
    return response["MessageId"]


BATCH = 10  # SQS's limit per SendMessageBatch


def send_batch(queue_name: str, bodies: list[str]) -> int:
    """Sends the bodies `BATCH` to a call; returns how many SQS refused (it reports them per entry)."""
    refused = 0
    for start in range(0, len(bodies), BATCH):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + BATCH])]
        response = aws.client("sqs").send_message_batch(QueueUrl=queue_url(queue_name), Entries=entries)
        refused += len(response.get("Failed", []))
    return refused
