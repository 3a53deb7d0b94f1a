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


def test_the_log_has_both_streams_timed_in_order_tail_and_since(docker_client, busybox_image, prefix):
    import time
    from datetime import UTC, datetime, timedelta

    runtime = DockerRuntime(docker_client)
    script = (
        "for i in 1 2 3; do echo out$i; sleep 0.1; echo err$i >&2; sleep 0.1; done; "
        "printf 'caf\\303\\251 \\377\\n'; sleep 600"
    )
    run_prefixed(docker_client, busybox_image, prefix, "talk", command=["sh", "-c", script])
    deadline = time.monotonic() + 20
    while "caf" not in docker_client.containers.get(f"{prefix}-talk").logs().decode("utf-8", "replace"):
        assert time.monotonic() < deadline, "the container wrote nothing"
        time.sleep(0.1)
    log = runtime.container_log(prefix, "talk", 100, None)
    assert [(line.stream, line.text) for line in log.lines] == [
        ("stdout", "out1"),
        ("stderr", "err1"),
        ("stdout", "out2"),
        ("stderr", "err2"),
        ("stdout", "out3"),
        ("stderr", "err3"),
        ("stdout", "café \ufffd"),
    ]
    assert all(line.time for line in log.lines) and not log.truncated
    assert [line.text for line in runtime.container_log(prefix, "talk", 2, None).lines] == ["err3", "café \ufffd"]
    assert runtime.container_log(prefix, "talk", 100, datetime.now(UTC) + timedelta(minutes=5)).lines == []
    with pytest.raises(ContainerNotFound):
        runtime.container_log(prefix, "silent", 100, None)


def test_inspect_and_log_mask_the_values_of_the_labelled_secret_keys(docker_client, busybox_image, prefix):
    from chalicelib.contracts.naming import SECRET_KEYS_LABEL

    runtime = DockerRuntime(docker_client)
    secret = "pw-never-shown-42"
    docker_client.containers.run(
        busybox_image,
        ["sh", "-c", 'echo "connecting with $DB_PASSWORD as $DB_USER"; sleep 600'],
        name=f"{prefix}-db",
        detach=True,
        environment={"DB_PASSWORD": secret, "DB_USER": "app"},
        labels={"org.dyrectorio.container.prefix": prefix, "org.dyrectorio.container.name": "db"}
        | {SECRET_KEYS_LABEL: "DB_PASSWORD"},
        volumes={f"{prefix}-data": {"bind": "/data", "mode": "rw"}},
    )
    try:
        found = runtime.inspect_container(prefix, "db")
        env = {v.key: (v.value, v.secret) for v in found.environment}
        assert env["DB_PASSWORD"] == ("******", True) and env["DB_USER"] == ("app", False)
        assert (found.state, found.status, found.restart_count, found.health) == ("running", "running", 0, None)
        assert found.image == busybox_image and found.image_id.startswith("sha256:") and found.started_at
        assert [(m.type, m.source, m.destination) for m in found.mounts] == [("volume", f"{prefix}-data", "/data")]
        assert secret not in found.model_dump_json()
        import time

        deadline = time.monotonic() + 20
        while not runtime.container_log(prefix, "db", 10, None).lines:
            assert time.monotonic() < deadline, "the container wrote nothing"
            time.sleep(0.1)
        [line] = runtime.container_log(prefix, "db", 10, None).lines
        assert line.text == "connecting with ****** as app"
        docker_client.containers.get(f"{prefix}-db").stop(timeout=1)
        stopped = runtime.inspect_container(prefix, "db")
        assert (stopped.state, stopped.exit_code is not None, stopped.finished_at is not None) == ("exited", True, True)
    finally:
        runtime.delete_prefix(prefix)
        docker_client.volumes.get(f"{prefix}-data").remove(force=True)
