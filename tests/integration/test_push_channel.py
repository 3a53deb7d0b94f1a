"""The push channel end to end, real parts only: `make run`'s stack with its local WebSocket API (short
idle and age limits), a real agent installed by its install command, and the real Docker engine.

An agent cut off mid-way gets the command it missed once it is back, and runs it once; a connection
at its maximum age is replaced without losing a command; a node's status follows its connection at
once (not after the sweep's 20 s); `cli deploy --wait` follows a deployment to its end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.fixtures.docker_engine import build_busybox
from tests.fixtures.local_stack import agent_log, install_agent, running_local_stack, stop_agent
from tests.fixtures.waiting import wait_for

# Idle connections close after 4 s (an agent pinging every second never is); connections live 6 s at
# most and agents replace theirs after 3 s. The sweep's own window stays 20 s, so anything faster
# than that is the connection's doing.
LIMITS = {
    "WS_IDLE_SECONDS": "4",
    "WS_MAX_CONNECTION_SECONDS": "6",
    "AGENT_PING_SECONDS": "1",
    "AGENT_SEEN_EVERY_PINGS": "3",
    "AGENT_RECONNECT_SECONDS": "3",
}
SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]


@pytest.fixture(scope="module")
def stack():
    with running_local_stack(env=LIMITS) as running:
        yield running


@pytest.fixture(scope="module")
def image(docker_client) -> str:
    return build_busybox(docker_client, "push")


@pytest.fixture()
def node(stack, tmp_path, docker_client, image):
    data_dir = tmp_path / "agent"
    api, slug, node, pid = install_agent(stack.url, data_dir)
    registry = api.call(
        "POST",
        f"/api/{slug}/registries",
        {"type": "unchecked", "name": "local", "details": {"local": True}},
        expect=201,
    ).json()
    wait_for(lambda: status(api, slug, node) == "connected", 60, "never connected:\n" + agent_log(data_dir))
    prefixes: list[str] = []
    try:
        yield Node(api, slug, node, pid, data_dir, image, registry["id"], prefixes)
    finally:
        stop_agent(Node.pid_of(data_dir))
        for prefix in prefixes:
            for container in docker_client.containers.list(
                all=True, filters={"label": f"org.dyrectorio.container.prefix={prefix}"}
            ):
                container.remove(force=True)


class Node:
    def __init__(self, api, slug, node, pid, data_dir: Path, image, registry_id, prefixes):
        self.api, self.slug, self.node, self.pid, self.data_dir = api, slug, node, pid, data_dir
        self.image, self.registry_id, self.prefixes = image, registry_id, prefixes

    @staticmethod
    def pid_of(data_dir: Path) -> int:
        return int((data_dir / "agent.pid").read_text())

    def deployment(self, image: str | None = None) -> str:
        """A new one-container deployment of `image` (the local busybox by default) on this node; its path."""
        api, slug = self.api, self.slug
        project = api.call(
            "POST", f"/api/{slug}/projects", {"type": "versionless", "name": f"p{uuid.uuid4().hex[:8]}"}, expect=201
        ).json()
        version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
        images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
        [added] = api.call(
            "POST", images, [{"registryId": self.registry_id, "images": [image or self.image]}], expect=201
        ).json()
        api.call(
            "PATCH",
            f"{images}/{added['id']}",
            {"config": {"name": "app", "commands": [{"key": c} for c in SLEEPER[:2]], "args": [{"key": SLEEPER[2]}]}},
            expect=204,
        )
        prefix = f"w{uuid.uuid4().hex[:8]}"
        self.prefixes.append(prefix)
        created = api.call(
            "POST",
            f"/api/{slug}/deployments",
            {"versionId": version["id"], "nodeId": self.node["id"], "prefix": prefix},
            expect=201,
        ).json()
        return f"/api/{slug}/deployments/{created['id']}"

    def final(self, path: str, timeout: float = 90) -> str:
        return wait_for(
            lambda: (s := self.api.call("GET", path).json()["status"]) in ("successful", "failed") and s,
            timeout,
            "never finished; agent log:\n" + agent_log(self.data_dir),
        )

    def audit(self) -> list[str]:
        items = self.api.call("GET", f"/api/{self.slug}/nodes/{self.node['id']}/audit?take=100").json()["items"]
        return [item["event"] for item in reversed(items)]  # oldest first


def status(api, slug, node) -> str:
    return api.call("GET", f"/api/{slug}/nodes/{node['id']}").json()["status"]


@pytest.mark.timeout(240)
def test_a_cut_off_agent_gets_the_command_it_missed_once_back(node, docker_client):
    path = node.deployment()
    # GIVEN the agent frozen (a cut network): the platform still counts it connected until the idle limit
    os.kill(node.pid, signal.SIGSTOP)
    try:
        # WHEN a deployment starts, its command is pushed into the dead connection
        node.api.call("POST", f"{path}/start", expect=204)
        # THEN the connection is closed for idling and the node is unreachable at once
        wait_for(
            lambda: status(node.api, node.slug, node.node) == "unreachable", 15, "the silent connection was not closed"
        )
    finally:
        os.kill(node.pid, signal.SIGCONT)
    # WHEN the agent is back THEN it reconnects, gets the missed command, and the deployment succeeds
    assert node.final(path) == "successful", node.api.call("GET", f"{path}/log?take=50").text
    wait_for(lambda: status(node.api, node.slug, node.node) == "connected", 30, "never reconnected")
    # AND it ran the deploy once: one container, one successful final status, one command executed
    prefix = node.prefixes[-1]
    containers = docker_client.containers.list(all=True, filters={"label": f"org.dyrectorio.container.prefix={prefix}"})
    assert [c.name for c in containers] == [f"{prefix}-app"]
    log = node.api.call("GET", f"{path}/log?take=100").json()["items"]
    assert [e["deploymentStatus"] for e in log if e["type"] == "deployment-status"] == ["in-progress", "successful"]
    assert agent_log(node.data_dir).count("(deploy)") == 1, agent_log(node.data_dir)
    assert node.audit()[-2:] == ["left", "connected"]


@pytest.mark.timeout(240)
def test_connections_at_their_maximum_age_are_replaced_without_losing_a_command(node):
    # GIVEN connections that live 6 s, replaced by the agent after 3 s; WHEN commands keep coming for 12 s
    base = f"/api/{node.slug}/nodes/{node.node['id']}/containers"
    answered = 0
    for _ in range(12):
        reply = node.api.call("GET", base)  # the agent must answer each one (listing its containers)
        assert reply.status_code == 200, reply.text
        answered += 1
        time.sleep(1)  # spread over several connection lifetimes
    path = node.deployment()
    node.api.call("POST", f"{path}/start", expect=204)
    assert node.final(path) == "successful"
    # THEN every command was answered, the connection was replaced several times, and the node never left
    assert answered == 12
    assert agent_log(node.data_dir).count("replaced before its maximum age") >= 2, agent_log(node.data_dir)
    assert "left" not in node.audit()


@pytest.mark.timeout(120)
def test_node_status_follows_the_connection(node):
    # WHEN the agent process dies THEN its connection closes and the node is unreachable at once
    os.kill(node.pid, signal.SIGKILL)
    wait_for(
        lambda: status(node.api, node.slug, node.node) == "unreachable",
        10,
        "the closed connection did not make the node unreachable",
    )
    assert node.audit()[-1] == "left"
    # WHEN it starts again (same data directory) THEN the node is connected again
    restarted = subprocess.Popen(
        [sys.executable, "-m", "agent", "run", "--url", node.api.base, "--data-dir", str(node.data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    (node.data_dir / "agent.pid").write_text(str(restarted.pid))
    wait_for(lambda: status(node.api, node.slug, node.node) == "connected", 30, "did not reconnect")
    assert node.audit()[-1] == "connected"


def deploy_with_cli(node, path: str) -> subprocess.CompletedProcess:
    deployment_id = path.rsplit("/", 1)[1]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "deploy",
            "--url",
            node.api.base,
            "--token",
            node.api.token,
            "--team",
            node.slug,
            "--deployment",
            deployment_id,
            "--wait",
            "--timeout",
            "120",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.timeout(300)
def test_cli_deploy_wait_exits_0_on_success_and_1_on_failure(node):
    ok = deploy_with_cli(node, node.deployment())
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "status: in-progress" in ok.stdout and ok.stdout.strip().endswith("deployment successful")
    broken = deploy_with_cli(node, node.deployment(image="no-such-image:9.9.9"))
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "could not be pulled" in broken.stdout and broken.stdout.strip().endswith("deployment failed")
