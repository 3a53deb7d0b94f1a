"""Docker deploys on the real engine, below the platform: what the agent does with a Deploy command."""

from __future__ import annotations

import uuid

import pytest

from agent.runtime.docker import DockerRuntime
from agent.settings import DockerSettings
from chalicelib.contracts.agent import Deploy, Workload

pytestmark = pytest.mark.agent

SERVE = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]


def command(prefix: str, *workloads: Workload) -> Deploy:
    return Deploy(
        id=str(uuid.uuid4()), deployment_id=str(uuid.uuid4()), attempt=1, prefix=prefix, workloads=list(workloads)
    )


def workload(image: str, name: str, argv: list[str], **config) -> Workload:
    return Workload(
        instance_id=str(uuid.uuid4()),
        name=name,
        image=image,
        config={"commands": [{"key": a} for a in argv[:2]], "args": [{"key": a} for a in argv[2:]], **config},
    )


def deploy(docker_client, request: Deploy, settings: DockerSettings | None = None) -> tuple[bool, list]:
    events: list = []
    ok = DockerRuntime(docker_client, settings).deploy(request, events.extend, lambda sealed: sealed)
    return ok, events


def log_lines(events) -> str:
    return "\n".join(line for e in events if e.type == "log" for line in e.log)


def test_containers_start_in_image_order_and_the_deployment_succeeds(docker_client, busybox_image, prefix):
    ok, events = deploy(docker_client, command(prefix, *(workload(busybox_image, f"c{i}", SERVE) for i in range(3))))
    assert ok, log_lines(events)
    started = [docker_client.api.inspect_container(f"{prefix}-c{i}")["State"]["StartedAt"] for i in range(3)]
    assert started == sorted(started)
    assert [e.state for e in events if e.type == "container-state"] == ["running"] * 3


@pytest.mark.parametrize("policy", ["always", "no"])
def test_a_container_that_exits_at_once_fails_the_deployment(docker_client, busybox_image, prefix, policy):
    crashing = workload(busybox_image, "crash", ["sh", "-c", "exit 3"], restartPolicy=policy)
    ok, events = deploy(docker_client, command(prefix, workload(busybox_image, "fine", SERVE), crashing))
    assert not ok
    assert "crash:" in log_lines(events) and "exit code 3" in log_lines(events)
    assert events[-1].type == "container-state" and events[-1].state == "exited"


@pytest.mark.parametrize("policy", ["always", "no"])
def test_with_a_crash_window_a_container_that_dies_within_it_fails_the_deployment(
    docker_client, busybox_image, prefix, policy
):
    crashing = workload(busybox_image, "crash", ["sh", "-c", "sleep 0.3; exit 3"], restartPolicy=policy)
    request = command(prefix, workload(busybox_image, "fine", SERVE), crashing)
    ok, events = deploy(docker_client, request, DockerSettings(crash_window=1.0))
    assert not ok
    assert "crash:" in log_lines(events) and ("exit code 3" in log_lines(events) or "restarts" in log_lines(events))
    assert events[-1].type == "container-state" and events[-1].state == "exited"


def test_an_expected_exit_code_counts_as_success(docker_client, busybox_image, prefix):
    job = workload(
        busybox_image,
        "job",
        ["sh", "-c", "exit 4"],
        restartPolicy="no",
        expectedState={"state": "exited", "exitCode": 4, "timeout": 20},
    )
    ok, events = deploy(docker_client, command(prefix, job))
    assert ok, log_lines(events)
    wrong = workload(
        busybox_image,
        "job",
        ["sh", "-c", "exit 5"],
        restartPolicy="no",
        expectedState={"state": "exited", "exitCode": 4, "timeout": 20},
    )
    ok, events = deploy(docker_client, command(prefix, wrong))
    assert not ok and "exited with code 5, expected 4" in log_lines(events)


def test_a_redeploy_replaces_the_containers_of_the_prefix(docker_client, busybox_image, prefix):
    request = command(prefix, *(workload(busybox_image, f"c{i}", SERVE) for i in range(2)))
    assert deploy(docker_client, request)[0]
    first = {i: docker_client.api.inspect_container(f"{prefix}-c{i}")["Id"] for i in range(2)}
    ok, events = deploy(docker_client, request)
    assert ok, log_lines(events)
    again = {i: docker_client.api.inspect_container(f"{prefix}-c{i}")["Id"] for i in range(2)}
    assert all(first[i] != again[i] for i in range(2))
    assert len(docker_client.api.containers(all=True, filters={"name": prefix})) == 2


KILLED_MID_INIT = """
import sys
from agent.runtime.docker import DockerRuntime
from agent.settings import DockerSettings
from chalicelib.contracts.agent import Deploy
DockerRuntime().deploy(Deploy.model_validate_json(sys.argv[1]), lambda events: None, lambda sealed: sealed)
"""


def test_an_agent_killed_during_an_init_container_leaves_nothing_the_prefix_cannot_see_or_delete(
    docker_client, busybox_image, prefix
):
    import subprocess
    import sys
    import time
    from pathlib import Path

    # GIVEN an agent process deploying a workload whose init container takes long
    slow = workload(
        busybox_image,
        "web",
        SERVE,
        initContainers=[
            {"name": "migrate", "image": busybox_image, "command": [{"key": "sleep"}], "args": [{"key": "600"}]}
        ],
    )
    agent = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_INIT, command(prefix, slow).model_dump_json()],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not docker_client.containers.list(all=True, filters={"name": f"{prefix}-web-migrate"}):
            assert time.monotonic() < deadline and agent.poll() is None, "the init container never started"
            time.sleep(0.2)
    finally:
        # WHEN the agent is killed mid-init
        agent.kill()
        agent.wait()
    # THEN the orphaned init container belongs to the prefix: the node lists it and deleting the prefix removes it
    runtime = DockerRuntime(docker_client)
    assert "web-migrate" in [c.name for c in runtime.list_containers(prefix)]
    runtime.delete_prefix(prefix)
    assert docker_client.containers.list(all=True, filters={"name": f"{prefix}-"}) == []


# busybox's httpd answers /ready (a file) and 404 for anything else
HTTPD = ["sh", "-c", "mkdir -p /www && echo ok > /www/ready && exec httpd -f -p 8080 -h /www"]


def test_a_container_counts_as_up_only_once_its_health_check_passes(docker_client, busybox_image, prefix):
    # GIVEN a web server whose readiness path answers
    healthy = workload(
        busybox_image, "web", HTTPD, ports=[{"internal": 8080}], healthCheckConfig={"readinessProbe": "/ready"}
    )
    # WHEN it is deployed
    ok, events = deploy(docker_client, command(prefix, healthy))
    # THEN the deployment succeeds with the container healthy, probed by the engine's HEALTHCHECK
    assert ok, log_lines(events)
    state = docker_client.api.inspect_container(f"{prefix}-web")
    assert state["State"]["Health"]["Status"] == "healthy"
    assert "http://localhost:8080/ready" in " ".join(state["Config"]["Healthcheck"]["Test"])


def test_a_container_that_never_becomes_healthy_fails_the_deployment_with_the_probes_answer(
    docker_client, busybox_image, prefix
):
    # GIVEN a running web server whose readiness path does not exist
    unhealthy = workload(
        busybox_image,
        "web",
        HTTPD,
        ports=[{"internal": 8080}],
        healthCheckConfig={"readinessProbe": "/missing"},
        expectedState={"state": "running", "timeout": 5},
    )
    # WHEN it is deployed
    ok, events = deploy(docker_client, command(prefix, unhealthy))
    # THEN the deployment fails within the expected state's timeout, saying why in the log
    assert not ok
    lines = log_lines(events)
    assert "web: did not become healthy within 5 s" in lines and "404" in lines, lines
    assert events[-1].type == "container-state" and events[-1].state == "exited"


def test_cpu_and_memory_limits_reach_the_engine(docker_client, busybox_image, prefix):
    limited = workload(busybox_image, "web", SERVE, resourceConfig={"limits": {"cpu": "500m", "memory": "64Mi"}})
    ok, events = deploy(docker_client, command(prefix, limited))
    assert ok, log_lines(events)
    host = docker_client.api.inspect_container(f"{prefix}-web")["HostConfig"]
    assert (host["NanoCpus"], host["Memory"]) == (500_000_000, 64 * 1024 * 1024)
