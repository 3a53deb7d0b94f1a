"""The Docker runtime against the real engine: list, start, stop, restart, delete by prefix."""

from __future__ import annotations

import pytest

from agent.runtime.base import ContainerNotFound
from agent.runtime.docker import DockerRuntime
from tests.fixtures.docker_engine import run_prefixed

pytestmark = pytest.mark.agent


def states(runtime, prefix):
    return {c.name: c.state for c in runtime.list_containers(prefix)}


def test_lists_only_the_prefix_with_image_ports_and_state(docker_client, busybox_image, prefix):
    runtime = DockerRuntime(docker_client)
    run_prefixed(docker_client, busybox_image, prefix, "web", ports={"8080/tcp": ("127.0.0.1", None)})
    run_prefixed(docker_client, busybox_image, prefix, "worker")
    run_prefixed(docker_client, busybox_image, prefix + "x", "other")
    try:
        found = {c.name: c for c in runtime.list_containers(prefix)}
        assert set(found) == {"web", "worker"}
        web = found["web"]
        assert (web.prefix, web.state, web.image_name, web.image_tag) == (
            prefix,
            "running",
            "dyrector-test/busybox",
            "1.0",
        )
        assert [p.internal for p in web.ports] == [8080] and web.ports[0].external
        assert web.created_at is not None and "sleep" in web.command
    finally:
        runtime.delete_prefix(prefix + "x")


def test_stop_start_restart_and_delete_follow_the_engine(docker_client, busybox_image, prefix):
    runtime = DockerRuntime(docker_client)
    container = run_prefixed(docker_client, busybox_image, prefix, "api")
    runtime.container_command(prefix, "api", "stop")
    assert states(runtime, prefix) == {"api": "exited"}
    runtime.container_command(prefix, "api", "start")
    assert states(runtime, prefix) == {"api": "running"}
    started = docker_client.containers.get(container.id).attrs["State"]["StartedAt"]
    runtime.container_command(prefix, "api", "restart")
    assert docker_client.containers.get(container.id).attrs["State"]["StartedAt"] != started
    runtime.delete_container(prefix, "api")
    assert states(runtime, prefix) == {}
    with pytest.raises(ContainerNotFound):
        runtime.delete_container(prefix, "api")
    with pytest.raises(ContainerNotFound):
        runtime.container_command(prefix, "api", "start")


def test_delete_prefix_removes_every_container_of_it_and_is_idempotent(docker_client, busybox_image, prefix):
    runtime = DockerRuntime(docker_client)
    for name in ("a", "b", "c"):
        run_prefixed(docker_client, busybox_image, prefix, name)
    runtime.delete_prefix(prefix)
    assert runtime.list_containers(prefix) == []
    runtime.delete_prefix(prefix)
