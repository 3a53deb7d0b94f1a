"""A real node: the install command run on this machine starts a real agent, which connects
to `make run`'s stack and drives the real Docker engine for the container endpoints."""

from __future__ import annotations

import pytest

from tests.fixtures.docker_engine import run_prefixed
from tests.fixtures.local_stack import agent_log as _log
from tests.fixtures.local_stack import alive as _alive
from tests.fixtures.waiting import wait_for


def engine_state(client, name):
    try:
        return client.containers.get(name).status
    except Exception:  # noqa: BLE001 - docker.errors.NotFound
        return "gone"


@pytest.mark.timeout(240)
def test_installed_agent_connects_and_drives_the_engine(installed_node, docker_client, busybox_image, prefix):
    api, slug, node, pid, data_dir = installed_node
    base = f"/api/{slug}/nodes/{node['id']}"
    # THEN the node becomes connected, with the agent's version and address
    details = wait_for(
        lambda: (d := api.call("GET", base).json())["status"] == "connected" and d,
        60,
        "node never connected; agent log:\n" + _log(data_dir),
    )
    assert details["hasToken"] and details["version"] and details["address"]
    assert (data_dir / "connection.token").exists() and not (data_dir / "install.token").exists()

    # GIVEN two containers of a prefix on the engine
    run_prefixed(docker_client, busybox_image, prefix, "web", ports={"8080/tcp": ("127.0.0.1", None)})
    run_prefixed(docker_client, busybox_image, prefix, "worker")
    listed = api.call("GET", f"{base}/containers?prefix={prefix}", expect=200).json()
    assert {(c["id"]["prefix"], c["id"]["name"], c["state"]) for c in listed} == {
        (prefix, "web", "running"),
        (prefix, "worker", "running"),
    }
    web = next(c for c in listed if c["id"]["name"] == "web")
    assert (web["imageName"], web["imageTag"]) == ("dyrector-test/busybox", "1.0")
    assert web["ports"][0]["internal"] == 8080

    # WHEN they are stopped, started and restarted through the API THEN the engine follows
    api.call("POST", f"{base}/{prefix}/containers/web/stop", expect=204)
    wait_for(lambda: engine_state(docker_client, f"{prefix}-web") == "exited", 30, "web did not stop")
    api.call("POST", f"{base}/{prefix}/containers/web/start", expect=204)
    wait_for(lambda: engine_state(docker_client, f"{prefix}-web") == "running", 30, "web did not start")
    started = docker_client.containers.get(f"{prefix}-web").attrs["State"]["StartedAt"]
    api.call("POST", f"{base}/{prefix}/containers/web/restart", expect=204)
    wait_for(
        lambda: docker_client.containers.get(f"{prefix}-web").attrs["State"]["StartedAt"] != started,
        30,
        "web did not restart",
    )

    # WHEN one container, then the whole prefix, is deleted THEN they are gone from the engine
    api.call("DELETE", f"{base}/{prefix}/containers/worker", expect=204)
    assert engine_state(docker_client, f"{prefix}-worker") == "gone"
    assert api.call("DELETE", f"{base}/{prefix}/containers/worker").status_code == 404
    api.call("DELETE", f"{base}/{prefix}/containers", expect=204)
    assert engine_state(docker_client, f"{prefix}-web") == "gone"
    assert api.call("GET", f"{base}/containers?prefix={prefix}", expect=200).json() == []
    events = [e["event"] for e in api.call("GET", f"{base}/audit?take=50", expect=200).json()["items"]]
    assert events.count("containerCommand") == 5 and "installed" in events


@pytest.mark.timeout(120)
def test_revoking_the_token_stops_the_agent(installed_node):
    api, slug, node, pid, data_dir = installed_node
    base = f"/api/{slug}/nodes/{node['id']}"
    wait_for(
        lambda: api.call("GET", base).json()["status"] == "connected",
        60,
        "node never connected; agent log:\n" + _log(data_dir),
    )
    api.call("DELETE", f"{base}/token", expect=204)
    assert api.call("GET", base).json()["status"] == "unreachable"
    # The agent's next call is refused: it forgets its token and exits.
    wait_for(lambda: not _alive(pid), 60, "agent kept running after revocation")
    assert not (data_dir / "connection.token").exists()
    assert "refused our token" in _log(data_dir)


@pytest.mark.timeout(120)
def test_update_replaces_the_agent_program_and_it_reconnects(installed_node):
    api, slug, node, pid, data_dir = installed_node
    base = f"/api/{slug}/nodes/{node['id']}"
    wait_for(
        lambda: api.call("GET", base).json()["status"] == "connected",
        60,
        "node never connected; agent log:\n" + _log(data_dir),
    )
    program = data_dir / "agent.pyz"
    before = program.stat().st_mtime_ns
    api.call("POST", f"{base}/update", expect=204)
    assert api.call("GET", base).json()["status"] == "updating"
    # THEN the agent downloads the platform's agent, restarts on it, and reports in again
    wait_for(
        lambda: "updateCompleted" in [e["event"] for e in api.call("GET", f"{base}/audit").json()["items"]],
        60,
        "update never completed; agent log:\n" + _log(data_dir),
    )
    assert program.stat().st_mtime_ns != before
    assert api.call("GET", base).json()["status"] == "connected"
    assert "restarting with the updated agent" in _log(data_dir) and _alive(pid)
