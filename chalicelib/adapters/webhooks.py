"""POSTing JSON to chat webhooks. The URL holds the webhook's secret, so it is never logged."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 5


class DeliveryFailed(Exception):
    """The receiver did not accept the message; the text names the status, never the URL."""


def post(url: str, body: dict[str, Any]) -> None:
    try:
        reply = requests.post(url, json=body, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise DeliveryFailed(f"the webhook could not be reached ({type(error).__name__})") from None
    if not 200 <= reply.status_code < 300:
        raise DeliveryFailed(f"the webhook answered HTTP {reply.status_code}")
