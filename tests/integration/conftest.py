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
