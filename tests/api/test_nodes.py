"""Nodes: CRUD, install scripts with single-use tokens, the agent protocol, revocation, health."""

from __future__ import annotations

import shlex
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chalicelib.contracts.agent import AGENT_VERSION
from tests.fixtures.agents import AgentSocket, agent_headers, create_node, register, registered

NODE_KEYS = {"type", "status", "description", "icon", "address", "connectedAt", "version", "updating", "id", "name"}


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


@pytest.fixture()
def connected(api, team, agent_package):
    """(owner, team, node, token, socket): a registered node whose agent holds its WebSocket open."""
    owner, team_ = team
    node, token = registered(api, owner, team_)
    socket = AgentSocket(token)
    yield owner, team_, node, token, socket
    socket.close()


def test_create_list_get_update_delete_a_node(api, team):
    owner, team_ = team
    slug = team_["slug"]
    node = create_node(api, owner, team_)
    assert set(node) == NODE_KEYS
    assert (node["type"], node["status"], node["updating"], node["connectedAt"]) == (
        "docker",
        "unreachable",
        False,
        None,
    )
    assert [n["id"] for n in api.get(f"/api/{slug}/nodes", owner).json] == [node["id"]]
    details = api.get(f"/api/{slug}/nodes/{node['id']}", owner).json
    assert set(details) == NODE_KEYS | {"hasToken", "install", "inUse"}
    assert (details["hasToken"], details["install"], details["inUse"]) == (False, None, False)
    assert api.put(f"/api/{slug}/nodes/{node['id']}", owner, {"name": "edge-2"}).status_code == 204
    assert api.get(f"/api/{slug}/nodes/{node['id']}", owner).json["name"] == "edge-2"
    assert api.delete(f"/api/{slug}/nodes/{node['id']}", owner).status_code == 204
    assert api.get(f"/api/{slug}/nodes/{node['id']}", owner).status_code == 404


def test_node_names_are_unique_per_team(api, team):
    owner, team_ = team
    create_node(api, owner, team_, "edge")
    taken = api.post(f"/api/{team_['slug']}/nodes", owner, {"name": "EDGE"})
    assert taken.status_code == 409 and taken.json["property"] == "name"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x", "type": "docker"}, {"name": 1}])
def test_bad_node_bodies_get_400(api, module_team, body):
    owner, team_ = module_team
    assert api.post(f"/api/{team_['slug']}/nodes", owner, body).status_code == 400


def test_install_script_is_served_by_an_expiring_url_and_reused_until_it_expires(api, team, agent_package):
    owner, team_ = team
    node = create_node(api, owner, team_)
    path = f"/api/{team_['slug']}/nodes/{node['id']}/script"
    created = api.post(path, owner, {"type": "docker", "scriptType": "shell", "rootPath": "/opt/agent"})
    assert created.status_code == 201
    install = created.json
    assert set(install) == {"command", "script", "expireAt"}
    assert install["command"].startswith("curl -fsSL ") and install["command"].endswith("| sh -")
    url = shlex.split(install["command"])[2]
    fetched = requests.get(url, timeout=5)
    assert fetched.status_code == 200 and fetched.text == install["script"]
    assert "/opt/agent" in install["script"] and "python -m pip" not in install["script"]
    # The same request while it is live returns the same installer; details show it.
    assert api.post(path, owner, {"type": "docker", "scriptType": "shell"}).json == install
    assert api.get(f"/api/{team_['slug']}/nodes/{node['id']}", owner).json["install"] == install
    plain = api.get(path, owner)
    assert plain.status_code == 200 and plain.body == install["script"]
    assert plain.headers["Content-Type"].startswith("text/plain")
    # PowerShell variant, then discard it.
    ps = api.post(path, owner, {"type": "docker", "scriptType": "powershell"}).json
    assert ps["command"].startswith("Invoke-WebRequest") and "Start-Process" in ps["script"]
    assert api.delete(path, owner).status_code == 204
    assert api.get(path, owner).status_code == 404
    assert api.delete(path, owner).status_code == 404


def test_script_request_validation(api, team, agent_package):
    owner, team_ = team
    node = create_node(api, owner, team_)
    path = f"/api/{team_['slug']}/nodes/{node['id']}/script"
    for body in (
        {"type": "docker"},
        {"type": "vm", "scriptType": "shell"},
        {"type": "k8s", "scriptType": "powershell"},
        {"type": "docker", "scriptType": "shell", "rootPath": "/x'; rm -rf /"},
        {"type": "docker", "scriptType": "shell", "dagentTraefik": {"acmeEmail": "nope"}},
    ):
        assert api.post(path, owner, body).status_code == 400, body


def test_install_token_works_once_and_the_node_connects_with_its_socket(api, team, agent_package):
    owner, team_ = team
    node = create_node(api, owner, team_)
    slug = team_["slug"]
    script = api.post(f"/api/{slug}/nodes/{node['id']}/script", owner, {"type": "docker", "scriptType": "shell"}).json[
        "script"
    ]
    first = register(api, script)
    assert first.status_code == 200
    assert set(first.json) == {"nodeId", "token", "socketUrl", "pingSeconds", "seenEveryPings", "reconnectSeconds"}
    assert first.json["socketUrl"].startswith("ws")
    again = register(api, script)
    assert again.status_code == 401
    # Registered but not yet on its socket: not connected.
    assert api.get(f"/api/{slug}/nodes/{node['id']}", owner).json["status"] == "unreachable"
    socket = AgentSocket(first.json["token"], first.json["socketUrl"])
    details = api.get(f"/api/{slug}/nodes/{node['id']}", owner).json
    assert (details["status"], details["hasToken"], details["install"], details["version"]) == (
        "connected",
        True,
        None,
        AGENT_VERSION,
    )
    assert details["connectedAt"]
    # A connected node refuses a new installer until its token is revoked.
    assert (
        api.post(f"/api/{slug}/nodes/{node['id']}/script", owner, {"type": "docker", "scriptType": "shell"}).status_code
        == 409
    )
    events = [e["event"] for e in api.get(f"/api/{slug}/nodes/{node['id']}/audit", owner).json["items"]]
    assert events[-2:] == ["connected", "installed"]  # newest first
    socket.close()


def test_revoked_token_locks_the_agent_out_at_once(api, connected):
    owner, team_, node, token, socket = connected
    beat = {"version": AGENT_VERSION}
    assert api.post("/api/agent/heartbeat", headers=agent_headers(token), body=beat).status_code == 200
    assert api.delete(f"/api/{team_['slug']}/nodes/{node['id']}/token", owner).status_code == 204
    # THEN its socket is closed by the platform and a new one is refused
    with pytest.raises(ConnectionClosed):
        socket.pushed(timeout=5)
    with pytest.raises(InvalidStatus) as refused:
        AgentSocket(token)
    assert refused.value.response.status_code == 401
    assert api.post("/api/agent/heartbeat", headers=agent_headers(token), body=beat).status_code == 401
    assert api.get("/api/agent/commands", headers=agent_headers(token)).status_code == 401
    details = api.get(f"/api/{team_['slug']}/nodes/{node['id']}", owner).json
    assert (details["status"], details["hasToken"]) == ("unreachable", False)
    assert api.delete(f"/api/{team_['slug']}/nodes/{node['id']}/token", owner).status_code == 404


def test_a_deleted_node_locks_its_agent_out(api, connected):
    owner, team_, node, token, socket = connected
    assert api.delete(f"/api/{team_['slug']}/nodes/{node['id']}", owner).status_code == 204
    assert api.post("/api/agent/heartbeat", headers=agent_headers(token), body={"version": "0.1.0"}).status_code == 401


def test_agent_tokens_are_not_user_tokens_and_vice_versa(api, connected):
    owner, team_, _, token, _ = connected
    assert api.get(f"/api/{team_['slug']}/nodes", headers=agent_headers(token)).status_code == 401
    assert api.get("/api/agent/commands", owner).status_code == 401
    assert api.get("/api/agent/commands").status_code == 401


def test_container_commands_are_pushed_to_the_agent_and_closed_by_ack_and_result(api, connected):
    owner, team_, node, token, socket = connected
    slug = team_["slug"]
    assert api.post(f"/api/{slug}/nodes/{node['id']}/web/containers/api/restart", owner).status_code == 204
    assert api.post(f"/api/{slug}/nodes/{node['id']}/containers/solo/stop", owner).status_code == 204
    # THEN both arrive on the agent's socket at once, in order
    pushed = [socket.pushed() for _ in range(2)]
    assert [m["type"] for m in pushed] == ["command", "command"]
    assert [(c["kind"], c["prefix"], c["name"], c["operation"]) for c in (m["command"] for m in pushed)] == [
        ("container-command", "web", "api", "restart"),
        ("container-command", "", "solo", "stop"),
    ]
    # AND they stay pending (what a reconnecting agent fetches) until acknowledged
    polled = api.get("/api/agent/commands", headers=agent_headers(token)).json
    assert [c["id"] for c in polled] == [m["command"]["id"] for m in pushed]
    for command in polled:
        assert api.post(f"/api/agent/commands/{command['id']}/ack", headers=agent_headers(token)).status_code == 204
        done = api.post(f"/api/agent/commands/{command['id']}/result", headers=agent_headers(token), body={"ok": True})
        assert done.status_code == 204
    assert api.get("/api/agent/commands", headers=agent_headers(token)).json == []
    audit = api.get(f"/api/{slug}/nodes/{node['id']}/audit?take=10", owner).json
    assert [e["event"] for e in audit["items"]][:2] == ["containerCommand", "containerCommand"]
    assert audit["items"][0]["data"]["operation"] == "stopContainer"


def test_container_calls_need_a_connected_node_and_valid_prefixes(api, team):
    owner, team_ = team
    node = create_node(api, owner, team_)
    base = f"/api/{team_['slug']}/nodes/{node['id']}"
    assert api.get(f"{base}/containers", owner).status_code == 412
    assert api.post(f"{base}/web/containers/api/start", owner).status_code == 412
    assert api.delete(f"{base}/_/containers", owner).status_code == 400


def test_node_becomes_unreachable_when_its_last_seen_is_too_old(api, connected, client, monkeypatch):
    from chalicelib import ids
    from chalicelib.services import node_health

    owner, team_, node, _, _ = connected
    path = f"/api/{team_['slug']}/nodes/{node['id']}"
    assert api.get(path, owner).json["status"] == "connected"
    # GIVEN no sign of life for longer than the window (a lost $disconnect), WHEN the scheduled sweep runs
    # A sweep "in the past" leaves this node alone (other tests' nodes may well be silent by now).
    assert node["id"] not in node_health.sweep(ids.utcnow() - timedelta(minutes=5))
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    monkeypatch.setenv("NODE_TIMEOUT_SECONDS", "0")
    client.lambda_.invoke("check_health", event)
    # THEN the node is unreachable and its audit log says why
    assert api.get(path, owner).json["status"] == "unreachable"
    events = [e["event"] for e in api.get(f"{path}/audit", owner).json["items"]]
    assert events[0] == "left"


def test_update_asks_a_connected_agent_to_replace_itself(api, connected):
    owner, team_, node, token, socket = connected
    path = f"/api/{team_['slug']}/nodes/{node['id']}"
    assert api.post(f"{path}/update", owner).status_code == 204
    assert api.get(path, owner).json["status"] == "updating"
    [command] = api.get("/api/agent/commands", headers=agent_headers(token)).json
    assert command["kind"] == "update" and command["url"].startswith("http")
    assert api.post(f"{path}/update", owner).status_code == 412
    settings = api.post("/api/agent/heartbeat", headers=agent_headers(token), body={"version": AGENT_VERSION}).json
    assert settings["socketUrl"].startswith("ws")
    assert api.get(path, owner).json["status"] == "connected"
    assert api.get(f"{path}/audit", owner).json["items"][0]["event"] == "updateCompleted"


def test_node_added_event_is_published(api, team, events_queue):
    import json

    owner, team_ = team
    node = create_node(api, owner, team_, "announced")
    bodies = [json.loads(b) for b in events_queue()]
    assert {
        "type": "node-added",
        "teamId": team_["id"],
        "nodeId": node["id"],
        "nodeName": "announced",
        "actorName": "Ada Lovelace",
    } in bodies


@contextmanager
def agent_answering(api, token: str, socket: AgentSocket, answer):
    """While the block runs, the node's agent acknowledges every command pushed to it and reports
    `answer(command)` as its result; the commands it got are collected in the yielded list."""
    got: list[dict] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                command = socket.pushed(timeout=0.2).get("command") or {}
            except TimeoutError:
                continue
            got.append(command)
            api.post(f"/api/agent/commands/{command['id']}/ack", headers=agent_headers(token))
            api.post(f"/api/agent/commands/{command['id']}/result", headers=agent_headers(token), body=answer(command))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield got
    finally:
        done.set()
        thread.join()


def container_reads_answer(command: dict) -> dict:
    """What an agent reports for a container's log or inspection (`missing` is no container)."""
    if command["name"] == "missing":
        return {"ok": False, "notFound": True, "error": f"container {command['name']} not found"}
    if command["kind"] == "container-log":
        lines = [
            {"time": "2024-05-01T10:00:00.123456Z", "stream": "stdout", "text": "hello"},
            {"time": "2024-05-01T10:00:01Z", "stream": "stderr", "text": "pw ******"},
        ]
        return {"ok": True, "log": {"lines": lines, "truncated": False}}
    return {
        "ok": True,
        "inspection": {
            "prefix": command["prefix"],
            "name": command["name"],
            "state": "running",
            "status": "running",
            "image": "acme/web:1.0",
            "restartCount": 1,
            "health": "healthy",
            "ports": [{"internal": 80, "external": 8080}],
            "labels": {"org.dyrectorio.secret.keys": "DB_PASSWORD"},
            "mounts": [{"type": "volume", "source": "web-data", "destination": "/data", "readOnly": False}],
            # An agent that failed to mask: the platform masks what the label names anyway.
            "environment": [{"key": "MODE", "value": "prod"}, {"key": "DB_PASSWORD", "value": "leaked"}],
        },
    }


def test_container_log_and_inspect_are_answered_by_the_agent(api, connected):
    owner, team_, node, token, socket = connected
    base = f"/api/{team_['slug']}/nodes/{node['id']}"
    with agent_answering(api, token, socket, container_reads_answer) as got:
        # WHEN a container's log is read, of a prefix and without one
        log = api.get(f"{base}/web/containers/api/log?tail=5&since=2024-05-01T09:00:00Z", owner)
        assert log.status_code == 200, log.body
        assert log.json == {
            "lines": [
                {"time": "2024-05-01T10:00:00.123Z", "stream": "stdout", "text": "hello"},
                {"time": "2024-05-01T10:00:01.000Z", "stream": "stderr", "text": "pw ******"},
            ],
            "truncated": False,
        }
        assert api.get(f"{base}/containers/solo/log", owner).status_code == 200
        # AND inspected
        inspected = api.get(f"{base}/web/containers/api/inspect", owner)
        assert inspected.status_code == 200, inspected.body
        body = inspected.json
        assert (body["id"], body["state"], body["restartCount"], body["health"]) == (
            {"prefix": "web", "name": "api"},
            "running",
            1,
            "healthy",
        )
        assert body["environment"] == [
            {"key": "MODE", "value": "prod", "secret": False},
            {"key": "DB_PASSWORD", "value": "******", "secret": True},
        ]
        assert "leaked" not in inspected.body
        assert api.get(f"{base}/containers/solo/inspect", owner).json["id"] == {"prefix": "", "name": "solo"}
        # AND an unknown container is a 404 naming it
        for path in (f"{base}/web/containers/missing/log", f"{base}/containers/missing/inspect"):
            missing = api.get(path, owner)
            assert missing.status_code == 404
            assert missing.json == {"message": "Container not found.", "property": "name", "value": "missing"}
    # THEN the agent was asked exactly that
    assert [(c["kind"], c["prefix"], c["name"]) for c in got] == [
        ("container-log", "web", "api"),
        ("container-log", "", "solo"),
        ("container-inspect", "web", "api"),
        ("container-inspect", "", "solo"),
        ("container-log", "web", "missing"),
        ("container-inspect", "", "missing"),
    ]
    assert (got[0]["tail"], got[0]["since"], got[1]["tail"], got[1]["since"]) == (5, "2024-05-01T09:00:00Z", 100, None)
    # AND a log or inspection is not kept once read
    for command in got:
        assert api.get(f"/api/agent/commands/{command['id']}", headers=agent_headers(token)).status_code == 404
    # AND reading is not a write: nothing in the node's audit
    events = [e["event"] for e in api.get(f"{base}/audit?take=10", owner).json["items"]]
    assert "containerCommand" not in events


def test_container_log_refuses_bad_queries_and_nodes_that_cannot_answer(api, connected, team):
    owner, team_, node, token, _ = connected
    base = f"/api/{team_['slug']}/nodes/{node['id']}"
    for query in ("tail=0", "tail=1001", "tail=x", "since=yesterday"):
        refused = api.get(f"{base}/web/containers/api/log?{query}", owner)
        assert refused.status_code == 400 and refused.json["property"] == query.split("=")[0], (query, refused.body)
    assert api.get(f"{base}/Not_A_Prefix/containers/api/log", owner).status_code == 400
    # An agent before 0.4 does not know the commands: refused, with what to do
    beat = api.post("/api/agent/heartbeat", headers=agent_headers(token), body={"version": "0.3.0"})
    assert beat.status_code == 200
    for path in (f"{base}/web/containers/api/log", f"{base}/containers/api/inspect"):
        old = api.get(path, owner)
        assert old.status_code == 412 and "update it" in old.json["message"], old.body
        assert (old.json["property"], old.json["value"]) == ("nodeId", "0.3.0")
    assert api.get("/api/agent/commands", headers=agent_headers(token)).json == []  # nothing was sent
    # A node without a connected agent: the 412 every container call gives
    other = create_node(api, owner, team_, "edge-off")
    offline = api.get(f"/api/{team_['slug']}/nodes/{other['id']}/containers/api/log", owner)
    assert offline.status_code == 412 and offline.json["property"] == "nodeId"
    # Another team's member learns nothing
    stranger = api.signup()
    api.create_team(stranger)
    assert api.get(f"{base}/containers/api/inspect", stranger).status_code in (403, 404)
