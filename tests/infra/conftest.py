"""Fixtures for infra tests: a moto server of their own and clients bound to it.

Nothing here touches os.environ, so these tests run beside the API tests' moto in the same
session; moto keeps state per process, so every test names its stack and prefix uniquely.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

REGION = "us-east-1"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs `chalice package` or cfn-lint (seconds, not milliseconds)")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws(moto_endpoint: str) -> Callable[[str], Any]:
    """`aws("sqs")` -> a boto3 client for the moto server (a new session each call: thread-safe)."""

    def client(service: str) -> Any:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        )
        return session.client(service, endpoint_url=moto_endpoint)

    return client


def unique_prefix(word: str) -> str:
    return f"{word}-{uuid.uuid4().hex[:8]}"
