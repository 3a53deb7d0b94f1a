"""Races against the running stack (`make run` on free ports, its embedded DynamoDB emulator).

Each test releases N requests at once from N threads (a barrier, one HTTP session per
thread) and checks what the database let through: one winner for a unique name, one try and
one agent command for parallel starts, and every answer served to its own caller.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from chalicelib.contracts.agent import AGENT_VERSION
from tests.fixtures.agents import AgentSocket, install_token
from tests.fixtures.local_stack import HttpApi
from tests.fixtures.waiting import wait_for

CREATES = 20
STARTS = 10
FIGURES: Counter = Counter()


def fire(base: str, requests_: list[tuple[str, str, dict | None, str]]) -> list[requests.Response]:
    """Sends every (method, path, body, token) at the same moment, one thread and session each."""
    barrier = threading.Barrier(len(requests_))

    def send(call):
        method, path, body, token = call
        with requests.Session() as session:
            session.get(f"{base}/api/health", timeout=30)  # connect before the barrier
            barrier.wait(timeout=60)
            return session.request(
                method, base + path, json=body, timeout=60, headers={"Authorization": f"Bearer {token}"}
            )

    with ThreadPoolExecutor(max_workers=len(requests_)) as pool:
        replies = list(pool.map(send, requests_))
    FIGURES["parallel requests"] += len(replies)
    return replies


def statuses(replies) -> Counter:
    return Counter(r.status_code for r in replies)


@pytest.fixture(scope="module")
def owner(local_stack) -> HttpApi:
    api = HttpApi(local_stack)
    api.sign_in(f"race-{uuid.uuid4().hex[:8]}@example.com")
    return api


@pytest.fixture(scope="module")
def team(owner) -> str:
    slug = f"r{uuid.uuid4().hex[:10]}"
    owner.call("POST", "/api/teams", {"name": f"Race {slug}", "slug": slug}, expect=201)
    return slug


def test_parallel_requests_are_each_served_to_their_own_caller(local_stack):
    # GIVEN five users WHEN each asks "who am I" four times, all twenty at once
    users = []
    for _ in range(5):
        api = HttpApi(local_stack)
        api.sign_in(f"who-{uuid.uuid4().hex[:8]}@example.com")
        users.append((api.call("POST", "/api/users/me", expect=200).json()["user"]["id"], api.token))
    calls = [("POST", "/api/users/me", None, token) for _, token in users] * 4
    replies = fire(local_stack, calls)
    # THEN every answer names the caller whose token it carried
    assert [r.status_code for r in replies] == [200] * len(calls)
    expected = [user_id for user_id, _ in users] * 4
    assert [r.json()["user"]["id"] for r in replies] == expected


def one_winner(replies, conflict=409) -> requests.Response:
    counts = statuses(replies)
    assert counts == Counter({201: 1, conflict: len(replies) - 1}), [(r.status_code, r.text[:120]) for r in replies]
    return next(r for r in replies if r.status_code == 201)


def test_parallel_teams_with_one_slug_make_one_team(local_stack, owner):
    slug = f"s{uuid.uuid4().hex[:10]}"
    replies = fire(
        local_stack,
        [("POST", "/api/teams", {"name": f"Team {slug} {i}", "slug": slug}, owner.token) for i in range(CREATES)],
    )
    winner = one_winner(replies)
    assert [t["id"] for t in owner.call("GET", "/api/teams").json() if t["slug"] == slug] == [winner.json()["id"]]


@pytest.mark.parametrize(
    "resource,body",
    [
        ("projects", lambda name: {"type": "versioned", "name": name}),
        ("nodes", lambda name: {"name": name}),
        ("registries", lambda name: {"type": "unchecked", "name": name, "details": {"url": "registry.local"}}),
    ],
)
def test_parallel_creates_with_one_name_make_one(local_stack, owner, team, resource, body):
    name = f"race-{uuid.uuid4().hex[:8]}"
    path = f"/api/{team}/{resource}"
    # Differently cased names collide too: names are unique case-insensitively.
    replies = fire(
        local_stack, [("POST", path, body(name if i % 2 else name.upper()), owner.token) for i in range(CREATES)]
    )
    winner = one_winner(replies)
    listed = [item["id"] for item in owner.call("GET", path).json() if item["name"].lower() == name]
    assert listed == [winner.json()["id"]]


@pytest.fixture(scope="module")
def ready_deployment(owner, team):
    """A rolling deployment on a node whose agent (driven by hand here) is connected: its socket is open."""
    node = owner.call("POST", f"/api/{team}/nodes", {"name": "race-node"}, expect=201).json()
    script = owner.call(
        "POST", f"/api/{team}/nodes/{node['id']}/script", {"type": "docker", "scriptType": "shell"}, expect=201
    ).json()["script"]
    agent = HttpApi(owner.base)
    agent.token = install_token(script)
    public_key = base64.b64encode(b"k" * 32).decode()
    registered = agent.call(
        "POST", "/api/agent/register", {"version": AGENT_VERSION, "type": "docker", "publicKey": public_key}, expect=200
    ).json()
    agent.token = registered["token"]
    socket = AgentSocket(agent.token, registered["socketUrl"])
    registry = owner.call(
        "POST",
        f"/api/{team}/registries",
        {"type": "unchecked", "name": "race registry", "details": {"url": "registry.local"}},
        expect=201,
    ).json()
    project = owner.call(
        "POST", f"/api/{team}/projects", {"type": "versionless", "name": "race app"}, expect=201
    ).json()
    version = owner.call("GET", f"/api/{team}/projects/{project['id']}").json()["versions"][0]
    owner.call(
        "POST",
        f"/api/{team}/projects/{project['id']}/versions/{version['id']}/images",
        [{"registryId": registry["id"], "images": ["acme/web:1"]}],
        expect=201,
    )
    deployment = owner.call(
        "POST",
        f"/api/{team}/deployments",
        {"versionId": version["id"], "nodeId": node["id"], "prefix": "race"},
        expect=201,
    ).json()
    agent.call("POST", "/api/agent/heartbeat", {"version": AGENT_VERSION}, expect=200)
    yield deployment, agent
    socket.close()


def test_parallel_starts_run_the_deployment_once(local_stack, owner, team, ready_deployment):
    deployment, agent = ready_deployment
    path = f"/api/{team}/deployments/{deployment['id']}"
    # WHEN ten starts of one deployment arrive at once
    replies = fire(local_stack, [("POST", f"{path}/start", None, owner.token)] * STARTS)
    # THEN one is accepted and the rest are refused as conflicting with the running try
    counts = statuses(replies)
    assert counts[204] == 1 and counts[204] + counts[409] + counts[412] == STARTS, [
        (r.status_code, r.text[:120]) for r in replies
    ]
    details = owner.call("GET", path).json()
    assert details["lastTry"] == 1 and details["status"] == "in-progress"
    log = owner.call("GET", f"{path}/log?skip=0&take=100").json()["items"]
    assert [e["deploymentStatus"] for e in log if e["type"] == "deployment-status"] == ["in-progress"]

    # AND the agent is handed exactly one deploy command (the event pump delivered the message)
    def deploy_commands():
        commands = agent.call("GET", "/api/agent/commands", expect=200).json()
        return [c for c in commands if c.get("kind") == "deploy" and c.get("deploymentId") == deployment["id"]]

    first = wait_for(deploy_commands, 60, "no deploy command reached the agent")
    # Wait a few pump rounds more (the pump long-polls 1 s): a second dispatch would show up here.
    time.sleep(3)
    later = deploy_commands()
    assert len(first) == 1 and len(later) == 1 and later[0]["attempt"] == 1
    FIGURES["deploy commands"] += len(later)
    print(f"\nconcurrency: {dict(FIGURES)}; start answers {dict(counts)}")
