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
