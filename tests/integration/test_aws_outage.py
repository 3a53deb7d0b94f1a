"""The AWS endpoint goes away while the API runs (issue 6): `make run`'s stack against a separate
moto server reached through a TCP relay the test can cut (new connections refused, open ones
dropped) and restore, as a restarting or partitioned emulator would look to the platform.

A user must get a clean 503 with a JSON body (never a 500 or a stack trace), nothing may be half
written, and everything must work again once the endpoint is back.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from tests.fixtures.docker_engine import prefixed_containers
from tests.fixtures.local_stack import (
    HttpApi,
    agent_log,
    free_port,
    http_get,
    install_agent,
    running_local_stack,
    stop_agent,
    v2_registry,
    wait_connected,
)
from tests.fixtures.waiting import wait_for


class Relay:
    """127.0.0.1:<port> → target; `cut()` closes the listener and every open connection, `restore()` reopens."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.open: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.restore()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        listener, self.listener = self.listener, None
        listener.close()
        with self.lock:
            sockets, self.open = self.open, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="module")
def relay():
    port = free_port()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _answers(f"http://127.0.0.1:{port}/moto-api/"), 20, "moto server did not start", 0.2)
        relay = Relay(port)
        yield relay
        if relay.listener is not None:
            relay.cut()
    finally:
        moto.terminate()
        moto.wait(10)


def _answers(url: str) -> bool:
    try:
        return http_get(url, timeout=1)[0] == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def outage_stack(relay):
    with running_local_stack(endpoint=relay.url, env={"DEPLOYMENT_TIMEOUT_SECONDS": "120"}) as running:
        yield running


def assert_unavailable(reply, started: float) -> None:
    assert reply.status_code == 503, f"{reply.request.method} {reply.url}: {reply.status_code} {reply.text[:500]}"
    assert reply.headers["Content-Type"].startswith("application/json")
    body = reply.json()
    assert set(body) == {"message"} and "Traceback" not in reply.text
    assert time.monotonic() - started < 30, "the request hung instead of failing fast"


@pytest.mark.timeout(300)
def test_requests_during_an_aws_outage_are_503_json_and_nothing_is_half_written(outage_stack, relay):
    # GIVEN a signed-in user with a team and a project
    api = HttpApi(outage_stack.url)
    api.sign_in(f"outage-{uuid.uuid4().hex[:8]}@example.com")
    slug = f"o{uuid.uuid4().hex[:10]}"
    api.call("POST", "/api/teams", {"name": f"Outage {slug}", "slug": slug}, expect=201)
    kept = api.call("POST", f"/api/{slug}/projects", {"type": "versioned", "name": "kept"}, expect=201).json()
    before = outage_stack.log()

    # WHEN the AWS endpoint goes away
    relay.cut()
    try:
        # THEN reads, creates (name guard + item + audit), logins and agent calls all answer 503 JSON
        calls = [
            ("GET", f"/api/{slug}/projects", None),
            ("GET", f"/api/{slug}/projects/{kept['id']}", None),
            ("POST", f"/api/{slug}/projects", {"type": "versioned", "name": "during outage"}),
            ("POST", f"/api/{slug}/nodes", {"name": "edge during outage"}),
            ("PUT", f"/api/{slug}/projects/{kept['id']}", {"name": "renamed during outage"}),
            ("DELETE", f"/api/{slug}/projects/{kept['id']}", None),
        ]
        for method, path, body in calls:
            started = time.monotonic()
            assert_unavailable(api.call(method, path, body), started)
        started = time.monotonic()
        assert_unavailable(
            api.session.post(
                f"{api.base}/api/auth/login", timeout=60, json={"email": "nobody@example.com", "password": "whatever1"}
            ),
            started,
        )
        started = time.monotonic()
        assert_unavailable(
            api.session.post(
                f"{api.base}/api/auth/signup",
                timeout=60,
                json={
                    "email": f"late-{uuid.uuid4().hex[:8]}@example.com",
                    "password": "correct horse",
                    "firstName": "L",
                },
            ),
            started,
        )
        # AND health tells the truth instead of failing
        status, body = http_get(f"{outage_stack.url}/api/health", timeout=30)
        assert (status, json.loads(body)["status"]) == (200, "disrupted")
    finally:
        # WHEN the endpoint is back
        relay.restore()

    # THEN the API recovers without a restart, and nothing of the failed writes exists
    wait_for(lambda: api.call("GET", f"/api/{slug}/projects").status_code == 200, 30, "the API did not recover")
    assert json.loads(http_get(f"{outage_stack.url}/api/health")[1])["status"] == "operational"
    projects = api.call("GET", f"/api/{slug}/projects", expect=200).json()
    assert [p["name"] for p in projects] == ["kept"]
    assert api.call("GET", f"/api/{slug}/nodes", expect=200).json() == []
    # AND the names the failed creates tried are free (no guard was left without its item)
    api.call("POST", f"/api/{slug}/projects", {"type": "versioned", "name": "during outage"}, expect=201)
    api.call("POST", f"/api/{slug}/nodes", {"name": "edge during outage"}, expect=201)
    api.call("PUT", f"/api/{slug}/projects/{kept['id']}", {"name": "renamed"}, expect=204)
    # AND the audit log holds only the writes that happened
    audit = api.call("GET", f"/api/{slug}/audit-log?take=100", expect=200).text
    assert audit.count("during outage") == 2 and "renamed during outage" not in audit
    # AND the stack logged the outage as warnings, never a traceback, and kept running
    during = outage_stack.log()[len(before) :]
    assert "Traceback" not in during, during[max(0, during.find("Traceback") - 600) : during.find("Traceback") + 300]
    assert "AWS unavailable" in during
    assert outage_stack.process.poll() is None
    # AND the event pump, which lost its queues meanwhile, found them again
    assert "unavailable" in during
    wait_for(
        lambda: all(f"{name} <- queue" in outage_stack.log()[len(before) :] for name in ("on_deploy", "on_event")),
        30,
        "the pump did not resume",
    )


@pytest.mark.timeout(400)
def test_an_aws_outage_mid_deployment_delays_it_but_loses_and_repeats_nothing(
    outage_stack, relay, local_registry, docker_client, tmp_path
):
    # GIVEN a node with its agent and a deployment whose container has a slow init container
    data_dir = tmp_path / "agent"
    api, slug, node, pid = install_agent(outage_stack.url, data_dir)
    prefix = f"o{uuid.uuid4().hex[:8]}"
    try:
        wait_connected(api, slug, node, data_dir)
        registry = v2_registry(api, slug, local_registry)
        project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "p"}, expect=201).json()
        version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
        images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
        [web] = api.call(
            "POST", images, [{"registryId": registry["id"], "images": ["acme/web:1.0"]}], expect=201
        ).json()
        api.call(
            "PATCH",
            f"{images}/{web['id']}",
            {
                "config": {
                    "name": "web",
                    "environment": [{"key": "MODE", "value": "prod"}],
                    "secrets": [],
                    "commands": [{"key": "sh"}, {"key": "-c"}],
                    "args": [{"key": "sleep 600"}],
                    "initContainers": [
                        {
                            "name": "slow",
                            "image": f"{local_registry.host}/acme/web:1.0",
                            "command": [{"key": "sleep"}],
                            "args": [{"key": "3"}],
                        }
                    ],
                }
            },
            expect=204,
        )
        deployment = api.call(
            "POST",
            f"/api/{slug}/deployments",
            {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix},
            expect=201,
        ).json()
        path = f"/api/{slug}/deployments/{deployment['id']}"
        api.call("POST", f"{path}/start", expect=204)
        wait_for(
            lambda: docker_client.containers.list(filters={"name": f"{prefix}-web-slow"}),
            60,
            "the init container never started; agent log:\n" + agent_log(data_dir),
        )

        # WHEN AWS goes away while the agent deploys, and stays away until well after it is done
        relay.cut()
        try:
            wait_for(
                lambda: docker_client.containers.list(filters={"name": f"{prefix}-web$"}),
                60,
                "the container never started during the outage",
            )
            # (until the agent, done, has had its reports refused a few times and backs off: 1 s, 2 s, 4 s)
            seen = len(agent_log(data_dir))
            wait_for(
                lambda: agent_log(data_dir)[seen:].count("platform unreachable") >= 3,
                60,
                "the agent never retried its reports; agent log:\n" + agent_log(data_dir),
            )
            assert api.call("GET", path).status_code == 503
        finally:
            relay.restore()

        # THEN the deployment ends successful once AWS is back, not failed by the timeout
        status = wait_for(
            lambda: (s := api.call("GET", path).json().get("status")) in ("successful", "failed") and s,
            90,
            "deployment never finished; agent log:\n" + agent_log(data_dir),
        )
        assert status == "successful"
        # AND nothing was lost or repeated: one run of the init container and the container, every event kept
        items = api.call("GET", f"{path}/log?skip=0&take=100", expect=200).json()["items"]
        lines = [line for item in items for line in item["log"] or []]
        assert sum("running init container slow" in line for line in lines) == 1, lines
        assert sum(f"container {prefix}-web is running" in line for line in lines) == 1, lines
        assert [i["deploymentStatus"] for i in items if i["type"] == "deployment-status"] == [
            "in-progress",
            "successful",
        ]
        assert [c.name for c in prefixed_containers(docker_client, prefix)] == [f"{prefix}-web"]
        assert "resuming command" not in agent_log(data_dir)
    finally:
        stop_agent(int((data_dir / "agent.pid").read_text()))
        for container in prefixed_containers(docker_client, prefix):
            container.remove(force=True)
