"""boto3 clients built lazily, one per (service, endpoint, region).

Clients are never created at import (cold start, emulator switching); the cache key
includes the endpoint so a test that points AWS_ENDPOINT_URL elsewhere gets a fresh one.
"""

from __future__ import annotations

import functools
from typing import Any

from chalicelib import settings


@functools.lru_cache(maxsize=32)
def _client(service: str, endpoint: str | None, region: str) -> Any:
    import boto3
    from botocore.config import Config

    # The pool caps the connections kept per endpoint; botocore's 10 overflowed in the local stack,
    # where one process serves many requests at once (on Lambda it is only an upper bound).
    config = Config(
        retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=20, max_pool_connections=32
    )
    if service == "s3":
        config = config.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return boto3.session.Session().client(service, endpoint_url=endpoint, region_name=region, config=config)


def client(service: str) -> Any:
    return _client(service, settings.endpoint_url(), settings.region())


_OUTAGE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def is_outage(exc: BaseException | None) -> bool:
    """True for errors (or their causes) that mean AWS, or the emulator, could not be reached or
    is throttling: the caller gets 503 and may retry, never a 500. pynamodb wraps botocore
    errors, so the causes are followed."""
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

    unreachable = (BotoConnectionError, EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionError)
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, unreachable) or getattr(exc, "cause_response_code", None) in _OUTAGE_CODES:
            return True
        exc = exc.__cause__ or exc.__context__
    return False
