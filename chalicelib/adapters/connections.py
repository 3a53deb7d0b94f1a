"""API Gateway's `@connections` API: push a message to, or close, one WebSocket connection.

The management endpoint is the WebSocket API's own URL (`https://{api}.execute-api.{region}
.amazonaws.com/{stage}` on AWS, the local gateway under `make run`), read from the
environment, so every function, not only the socket handlers, can push.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from chalicelib import settings


class Gone(Exception):
    """The connection no longer exists (the peer left, or API Gateway closed it)."""


@functools.lru_cache(maxsize=4)
def _client(endpoint: str, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # Pushes are small and the caller decides what a failure means: one quick try.
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5)
    return boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint, region_name=region, config=config
    )


def _gone(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return (
        response.get("Error", {}).get("Code") == "GoneException"
        or response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 410
    )


def send(connection_id: str, data: bytes) -> None:
    """Raises Gone when the connection has left; other failures propagate."""
    endpoint = settings.socket_management_url()
    if not endpoint:
        raise Gone("no WebSocket API is configured")
    client = _client(endpoint, settings.region())
    try:
        client.post_to_connection(ConnectionId=connection_id, Data=data)
    except client.exceptions.GoneException:
        raise Gone(connection_id) from None
    except Exception as error:
        if _gone(error):
            raise Gone(connection_id) from None
        raise


def close(connection_id: str) -> None:
    endpoint = settings.socket_management_url()
    if not endpoint:
        return
    client = _client(endpoint, settings.region())
    with contextlib.suppress(client.exceptions.GoneException):
        client.delete_connection(ConnectionId=connection_id)
