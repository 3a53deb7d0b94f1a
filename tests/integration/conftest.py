"""Fixtures for the integration tests: `make run`'s stack in a subprocess (tests/fixtures/local_stack.py)
and an agent installed on this machine by its install command."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.docker_engine import prefix  # noqa: F401 - a fixture
from tests.fixtures.local_stack import LocalStack, install_agent, running_local_stack, stop_agent


@pytest.fixture(scope="session")
def local_stack_process() -> Iterator[LocalStack]:
    """The running local stack; on teardown Ctrl-C must stop it cleanly (exit 0)."""
    with running_local_stack() as running:
        yield running
        code = running.stop()
        assert code == 0, f"local stack exited with {code} on SIGINT; log:\n{running.log()}"


# What AWS gets: one JSON object per log line and the metrics as EMF objects, in a namespace of its own.
JSON_STACK_ENV = {"LOG_FORMAT": "json", "METRICS_NAMESPACE": "dyrector-it"}


@pytest.fixture(scope="session")
def json_stack_process() -> Iterator[LocalStack]:
    """A local stack that logs as on AWS (LOG_FORMAT=json): the observability and secrets-hygiene tests read
    its log. Ctrl-C must stop it cleanly too."""
    with running_local_stack(env=JSON_STACK_ENV) as running:
        yield running
        code = running.stop()
        assert code == 0, f"local stack exited with {code} on SIGINT; log:\n{running.log()}"


@pytest.fixture(scope="session")
def local_stack(local_stack_process: LocalStack) -> str:
    """Base URL of the running local stack, e.g. http://127.0.0.1:PORT."""
    return local_stack_process.url


@pytest.fixture()
def installed_node(local_stack, tmp_path):
    """A team with a node whose agent was installed on this machine by running the install command."""
    data_dir = tmp_path / "agent"
    api, slug, node, pid = install_agent(local_stack, data_dir)
    try:
        yield api, slug, node, pid, data_dir
    finally:
        stop_agent(pid)
