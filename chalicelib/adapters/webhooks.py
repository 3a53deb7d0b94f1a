"""POSTing JSON to chat webhooks, through `outbound` (address checks, one deadline, and no redirect
that would repeat the body elsewhere). The URL holds the webhook's secret, so it is never logged."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import outbound

TIMEOUT = 8.0
MAX_ANSWER_BYTES = 64 * 1024


class DeliveryFailed(Exception):
    """The receiver did not accept the message; the text names neither the URL nor what answered."""


def post(url: str, body: dict[str, Any]) -> None:
    # One message for every failure (refused address, closed port, timeout, non-2xx): no oracle.
    try:
        reply = outbound.request(
            "POST",
            url,
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode(),
            deadline=outbound.Deadline(TIMEOUT),
            max_bytes=MAX_ANSWER_BYTES,
        )
    except outbound.OutboundError:
        raise DeliveryFailed("the receiver is not reachable or did not accept it") from None
    if not 200 <= reply.status < 300:
        raise DeliveryFailed("the receiver is not reachable or did not accept it")
