"""Call budgets: every route costs the same number of AWS calls whether the team has one of
everything or many.

Two teams are built the same way (tests/fixtures/route_catalogue.py); the large one then gets
`SIZE` of every collection a route can list, count or follow: teams of its owner and invitations
to others, members, projects, versions, images, deployments (of the version the routes name too),
nodes, registries, storages, notifications, tokens, audit entries, deployment and node events. Each
route the app declares is called once on each team, the same caller and the same kind of request,
with a hook counting every botocore call (DynamoDB, SQS, S3, KMS...). A route fails when the large
team costs more calls than the small one, or when its Queries without a page size read more items;
the few that must touch every item they delete are listed in GROWS with the reason.

The table of calls per route is written to `out/call-budgets.md` (docs/scale.md has a copy).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import Api, unique
from tests.fixtures.aws_calls import Calls, recording
from tests.fixtures.route_catalogue import (
    Team,
    all_routes,
    bearer,
    body_for,
    build_team,
    fill,
    ok,
    route_id,
)

SIZE = 6  # of every collection in the large team; the small one has 1
EVENTS = 60  # deployment and node events of the large team's deployment and node (the small: 2)
TABLE = Path(__file__).resolve().parents[2] / "out" / "call-budgets.md"

# Routes whose calls may grow with the data, and why. Only writes that must change every item
# they remove or copy belong here (DynamoDB writes items one by one, 25 to a BatchWriteItem).
GROWS: dict[str, str] = {
    "DELETE /api/teams/{teamId}": "removes every item the team holds, 25 to a BatchWriteItem",
    "POST /api/{teamSlug}/projects/{projectId}/versions": (
        "copies each deployment of the default version with its instances, as dyrector does: "
        "a Query and a transaction per deployment"
    ),
}

# Deletes run last, the leaves before what holds them (a version with a deployment is in use).
DELETE_ORDER = (
    "/token",
    "/script",
    "/containers",
    "/invitations/",
    "/api/tokens/",
    "/images/",
    "/deployments/",
    "/versions/",
    "/projects/",
    "/nodes/",
    "/registries/",
    "/storages/",
    "/notifications/",
    "/users/",
    "/api/teams/",
)


@dataclass
class Measured:
    route: str
    small: Calls
    large: Calls
    statuses: tuple[int, int]
    notes: list[str] = field(default_factory=list)


RESULTS: dict[str, Measured] = {}


def _order(route) -> tuple[int, int, str]:
    if route.method == "GET":
        return 0, 0, route.path
    if route.method != "DELETE":
        return 1, 0, route.path
    rank = next((i for i, part in enumerate(DELETE_ORDER) if part in route.path), len(DELETE_ORDER))
    return 2, rank, route.path


ROUTES = sorted((r for r in all_routes() if r.auth is not None), key=_order)


# --- the large team -------------------------------------------------------------------------


def grow(api: Api, team: Team, extra: int) -> None:
    """`extra` more of every collection, made through the API so every counter the writes keep is kept."""
    owner, base = team.owner, f"/api/{team.slug}"
    for _ in range(extra):
        api.create_team(owner)
        other = api.signup()  # a team that invites the owner: POST /api/users/me lists it
        elsewhere = api.create_team(other)
        ok(api.post(f"/api/teams/{elsewhere['id']}/users", other, {"email": owner.email, "firstName": "O"}), 201)
        member = api.signup()
        ok(api.post(f"/api/teams/{team.team['id']}/users", owner, {"email": member.email, "firstName": "M"}), 201)
        ok(api.post(f"/api/users/me/invitations/{team.team['id']}", member), 204)
        project = api.create_project(owner, team.slug)
        version = api.create_version(owner, team.slug, project["id"], kind="rolling")
        api.create_version(owner, team.slug, team.ids["projectId"])
        for project_id, version_id in ((team.ids["projectId"], team.ids["versionId"]), (project["id"], version["id"])):
            image = [{"registryId": team.ids["registryId"], "images": [f"acme/{unique('img')}:1"]}]
            ok(api.post(f"{base}/projects/{project_id}/versions/{version_id}/images", owner, image), 201)
        node = ok(api.post(f"{base}/nodes", owner, {"name": unique("node-")}), 201)
        for version_id in (version["id"], team.ids["versionId"]):  # the version the routes name, too
            deployment = {"versionId": version_id, "nodeId": node["id"], "prefix": unique("p")[:8]}
            ok(api.post(f"{base}/deployments", owner, deployment), 201)
        registry = {"type": "unchecked", "name": unique("Reg "), "details": {"url": "registry.local"}}
        ok(api.post(f"{base}/registries", owner, registry), 201)
        storage = {"name": unique("Store "), "url": "https://s3.example.com", "public": True}
        ok(api.post(f"{base}/storages", owner, storage), 201)
        hook = {"type": "discord", "name": unique("Hook "), "url": "https://discord.com/api/webhooks/1/abc"}
        ok(api.post(f"{base}/notifications", owner, hook), 201)
        ok(api.post("/api/tokens", owner, {"name": unique("pat "), "expirationInDays": 1}), 201)


def measured_deployment(api: Api, team: Team, events: int) -> None:
    """The deployment the routes name: one instance per image of the main version, `events` log lines,
    and as many events on the main node."""
    from chalicelib.db import deployments, node_events

    base, owner = f"/api/{team.slug}", team.owner
    body = {"versionId": team.ids["versionId"], "nodeId": team.ids["nodeId"], "prefix": unique("m")[:8]}
    deployment = ok(api.post(f"{base}/deployments", owner, body), 201)
    instances = ok(api.get(f"{base}/deployments/{deployment['id']}", owner))["instances"]
    deployments.add_events(
        deployment["id"], [("log", {"log": [f"line {i}"], "level": "info"}) for i in range(events)], attempt=0
    )
    for i in range(events):
        node_events.record(team.ids["nodeId"], "connected", {"n": i})
    team.ids.update(deploymentId=deployment["id"], deployment=deployment["id"], instanceId=instances[0]["id"])


@pytest.fixture(scope="module")
def teams(app_module, agent_package) -> Iterator[tuple[Api, Team, Team]]:
    from chalice.test import Client

    with Client(app_module.app) as c:
        api = Api(c)
        small, large = build_team(api), build_team(api)
        grow(api, large, SIZE - 1)
        measured_deployment(api, small, 2)
        measured_deployment(api, large, EVENTS)
        yield api, small, large
    write_table()


# --- the node's agent ----------------------------------------------------------------------


def waits_for_the_agent(route) -> bool:
    """Container list, log and inspection and secret keys answer with what the agent reports
    (services/nodes.py `_ask`)."""
    return route.method == "GET" and route.path.endswith(("/containers", "/secrets", "/log", "/inspect"))


def agent_result(command: dict) -> dict | None:
    """What the agent reports for a command the measured call waits on (None: no answer needed)."""
    kind = command.get("kind")
    if kind == "list-containers":
        return {"ok": True, "containers": []}
    if kind == "container-log":
        return {"ok": True, "log": {"lines": [{"text": "hello"}]}}
    if kind == "container-inspect":
        return {"ok": True, "inspection": {"prefix": command["prefix"], "name": command["name"], "state": "running"}}
    return None


@contextmanager
def answering(api: Api, team: Team, needed: bool) -> Iterator[None]:
    """While the block runs, the team's agent answers every command pushed to it (no containers)."""
    if not needed:
        yield
        return
    done = threading.Event()

    def answer() -> None:
        while not done.is_set():
            try:
                message = team.socket.pushed(timeout=0.2)
            except TimeoutError:
                continue
            command = message.get("command") or {}
            result = agent_result(command)
            if result is not None:
                headers = bearer(team.tokens["connection"])
                api.post(f"/api/agent/commands/{command['id']}/result", headers=headers, body=result)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


# --- measuring ------------------------------------------------------------------------------


def caller(route, team: Team) -> dict[str, str]:
    if route.auth == "agent":
        return bearer(team.tokens["connection"])
    if route.auth == "agent-install":
        return bearer(team.tokens["install"])
    if (route.method, route.path) == ("POST", "/api/auth/logout"):
        return bearer(team.tokens["spare-session"])  # ends a spare session, not the one the sweep goes on with
    return team.owner.headers


def call(api: Api, route, team: Team) -> tuple[Calls, int]:
    path = fill(route.path, team.slug, team.ids)
    body = body_for(route, {**team.ids, "teamSlug": team.slug})
    with answering(api, team, waits_for_the_agent(route)), recording() as calls:
        response = api.call(route.method, path, body=body, headers=caller(route, team))
    assert response.status_code < 500, f"{route_id(route)}: {response.status_code} {response.body[:300]}"
    # Measured as the caller it is meant for: a refused credential would measure only the refusal.
    assert response.status_code != 401, f"{route_id(route)}: 401 {response.body[:300]}"
    return calls, response.status_code


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_calls_do_not_grow_with_the_data(teams, route):
    api, small, large = teams
    small_calls, small_status = call(api, route, small)
    large_calls, large_status = call(api, route, large)
    name = route_id(route)
    RESULTS[name] = Measured(name, small_calls, large_calls, (small_status, large_status))
    assert small_status == large_status, f"the two teams took different paths: {small_status} vs {large_status}"
    if name in GROWS:
        return
    assert large_calls.total <= small_calls.total, (
        f"{name} makes {small_calls.total} AWS calls with 1 of each and {large_calls.total} with {SIZE}:\n"
        f"  1: {small_calls.summary()}\n  {SIZE}: {large_calls.summary()}"
    )
    assert large_calls.unbounded_reads <= small_calls.unbounded_reads, (
        f"{name} reads {small_calls.unbounded_reads} items without a page size with 1 of each and "
        f"{large_calls.unbounded_reads} with {SIZE} (a COUNT, or a list without a limit): {large_calls.summary()}"
    )


def write_table() -> None:
    rows = [
        f"| route | status | calls (1 of each) | calls ({SIZE} of each) | what they are ({SIZE}) |",
        "|---|---|---|---|---|",
    ]
    for measured in RESULTS.values():
        note = f" (grows: {GROWS[measured.route]})" if measured.route in GROWS else ""
        rows.append(
            f"| `{measured.route}` | {measured.statuses[1]} | {measured.small.total} | {measured.large.total} | "
            f"{measured.large.summary() or 'none'}{note} |"
        )
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text("\n".join(rows) + "\n")
