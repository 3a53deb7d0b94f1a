"""Counters kept in the items they describe (issue 16): routes cost the same number of AWS calls
whatever the team holds, concurrent writes never make a counter drift, and the backfill brings
data written before the counters to the same answers."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import ids
from tests.conftest import unique
from tests.fixtures.aws_calls import recording


def build(api, registry_item, n: int) -> dict:
    """A user with n teams; the first with n pending invitations beside its owner, n nodes, n projects,
    the first project with n versions (an image each) and n deployments on the first node."""
    owner = api.signup()
    teams = [api.create_team(owner) for _ in range(n)]
    team, slug = teams[0], teams[0]["slug"]
    for _ in range(n):
        api.post(f"/api/teams/{team['id']}/users", owner, {"email": f"{unique()}@example.com", "firstName": "P"})
    nodes = [api.post(f"/api/{slug}/nodes", owner, {"name": f"node {i}"}).json for i in range(n)]
    projects = [api.create_project(owner, slug, "versioned") for _ in range(n)]
    registry = registry_item(team)
    for i in range(n):
        version = api.create_version(owner, slug, projects[0]["id"], kind="rolling")
        images = f"/api/{slug}/projects/{projects[0]['id']}/versions/{version['id']}/images"
        api.post(images, owner, [{"registryId": registry, "images": [f"acme/web{i}:1"]}])
        deployment = {"versionId": version["id"], "nodeId": nodes[0]["id"], "prefix": f"p{i}"}
        assert api.post(f"/api/{slug}/deployments", owner, deployment).status_code == 201
    return {"owner": owner, "team": team, "slug": slug, "project": projects[0], "node": nodes[0]}


def routes(w: dict) -> list[str]:
    base = f"/api/{w['slug']}"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT12:00:00.000Z")
    return [
        "/api/teams",
        f"/api/teams/{w['team']['id']}",
        f"{base}/dashboard",
        f"{base}/projects",
        f"{base}/projects/{w['project']['id']}",
        f"{base}/nodes/{w['node']['id']}",
        f"{base}/audit-log",
        f"{base}/audit-log?from={yesterday}&take=5",
        f"{base}/audit-log?filter=post",
    ]


def calls_of(api, w: dict) -> dict[str, dict[str, int]]:
    """The AWS calls each route makes, warm (a first call fills per-process caches)."""
    made = {}
    for path, route in zip(routes(w), routes(TEMPLATE), strict=True):
        assert api.get(path, w["owner"]).status_code == 200, path
        with recording() as calls:
            assert api.get(path, w["owner"]).status_code == 200, path
        made[route] = dict(calls.by_operation())
    return made


TEMPLATE = {
    "slug": "{teamSlug}",
    "team": {"id": "{teamId}"},
    "project": {"id": "{projectId}"},
    "node": {"id": "{nodeId}"},
}


def test_reads_cost_the_same_calls_for_one_item_and_for_six(api, registry_item):
    small = calls_of(api, build(api, registry_item, 1))
    large = calls_of(api, build(api, registry_item, 6))
    assert large == small
    assert small["/api/teams"] == {"dynamodb:BatchGetItem": 2, "dynamodb:Query": 1}  # auth, my teams, the teams


def test_concurrent_creates_count_only_what_was_written(api, registry_item):
    from chalicelib.db import deployments as deployment_repo
    from chalicelib.db import nodes as node_repo
    from chalicelib.db import projects as project_repo
    from chalicelib.db import teams as team_repo
    from chalicelib.db import versions as version_repo
    from chalicelib.db.transactions import Transaction
    from chalicelib.errors import AppError

    w = build(api, registry_item, 1)
    tid, now = w["team"]["id"], ids.utcnow()
    version = version_repo.list_for_project(tid, w["project"]["id"])[0]
    barrier = threading.Barrier(8)

    def at_once(write):
        def run(i):
            barrier.wait(timeout=30)
            try:
                write(i)
                return "written"
            except AppError as error:
                return type(error).__name__

        with ThreadPoolExecutor(max_workers=8) as pool:
            return sorted(pool.map(run, range(8)))

    # GIVEN 8 writers at once WHEN they create one name, 8 names, or one node+prefix
    same = at_once(
        lambda i: project_repo.create(
            tid, project_repo.new_item(tid, ids.new_id(), "Same", None, "versioned", "t", now), Transaction()
        )
    )
    nodes = at_once(
        lambda i: node_repo.create(tid, node_repo.new_item(tid, ids.new_id(), unique("n"), None, None, "t", now))
    )
    placed = at_once(
        lambda i: deployment_repo.create(
            tid,
            deployment_repo.new_item(
                tid, ids.new_id(), version.project_id, version.id, w["node"]["id"], "race", None, {}, "t", now
            ),
            [],
            version.kind,
        )
    )
    # THEN each counter counts exactly the writes that landed
    assert same == ["ConflictError"] * 7 + ["written"]
    assert nodes == ["written"] * 8
    assert placed == ["ConflictError"] * 7 + ["written"]
    team = team_repo.get(tid)
    assert (int(team.project_count), int(team.node_count), int(team.deployment_count)) == (2, 9, 2)
    assert int(node_repo.get(tid, w["node"]["id"]).deployment_count) == 2


def test_a_final_status_reported_by_several_at_once_is_counted_once(api, registry_item):
    from chalicelib.db import deployments as deployment_repo
    from chalicelib.db import projects as project_repo
    from chalicelib.db import teams as team_repo
    from chalicelib.services import deployment_lifecycle

    w = build(api, registry_item, 1)
    tid = w["team"]["id"]
    [deployment] = deployment_repo.page_for_team(tid, 100, None).items
    attempt = deployment_repo.start(tid, deployment, "rolling", None, ids.utcnow())
    running = deployment_repo.get(tid, deployment.id, consistent=True)
    barrier = threading.Barrier(6)

    def finish(_):
        barrier.wait(timeout=30)
        return deployment_lifecycle.finish(tid, running, attempt, "failed")

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(finish, range(6))) == [False] * 5 + [True]
    assert int(team_repo.get(tid).failed_deployment_count) == 1
    assert int(project_repo.get(tid, w["project"]["id"]).deployments_in_progress) == 0


def snapshot(api, w: dict) -> dict:
    base = f"/api/{w['slug']}"
    return {
        "teams": [t for t in api.get("/api/teams", w["owner"]).json if t["id"] == w["team"]["id"]],
        "details": api.get(f"/api/teams/{w['team']['id']}", w["owner"]).json["statistics"],
        "dashboard": api.get(f"{base}/dashboard", w["owner"]).json,
        "projects": api.get(f"{base}/projects", w["owner"]).json,
        "project": api.get(f"{base}/projects/{w['project']['id']}", w["owner"]).json["deletable"],
        "node": api.get(f"{base}/nodes/{w['node']['id']}", w["owner"]).json["inUse"],
        "audit": api.get(f"{base}/audit-log?take=1000", w["owner"]).json,
    }


def forget_counters(team_id: str) -> None:
    """Makes the team look written before the counters: no counter, pointer, day count nor entry TTL."""
    from chalicelib.db import keys
    from chalicelib.db.items import AuditItem, BaseItem, MemberItem, NodeItem, ProjectItem, TeamItem, UserItem

    removed = {
        TeamItem: [
            "memberCount",
            "invitationCount",
            "userCount",
            "projectCount",
            "versionCount",
            "nodeCount",
            "deploymentCount",
            "failedDeploymentCount",
            "firstNodeId",
            "firstProjectId",
            "firstDeploymentId",
            "imagesProjectId",
            "imagesVersionId",
        ],
        ProjectItem: ["versionCount", "deploymentsInProgress"],
        NodeItem: ["deploymentCount"],
    }
    users = [item.user_id for item in BaseItem.query(keys.team(team_id)) if isinstance(item, MemberItem)]
    for user in UserItem.batch_get([(keys.user(user_id), keys.PROFILE) for user_id in users]):
        user.update(actions=[UserItem.team_count.remove(), UserItem.invitation_count.remove()])
    for item in BaseItem.query(keys.team(team_id)):
        for name in removed.get(type(item), []):
            attribute = next(a for a in type(item).get_attributes().values() if a.attr_name == name)
            item.update(actions=[attribute.remove()])
    for item in BaseItem.query(keys.audit_days(team_id)):
        item.delete()
    for entry in AuditItem.query(keys.audit(team_id)):
        entry.update(actions=[AuditItem.ttl.remove()])


def test_the_backfill_brings_data_written_before_the_counters_to_the_same_answers(api, registry_item, capsys):
    from chalicelib.db import audit as audit_repo
    from chalicelib.db import backfill, keys
    from chalicelib.db import users as user_repo
    from chalicelib.db.items import AuditItem
    from infra import backfill as command
    from tests.api.test_dashboard import fail

    w = build(api, registry_item, 3)
    tid = w["team"]["id"]
    fail(tid, api.get(f"/api/{w['slug']}/deployments", w["owner"]).json[0]["id"])
    before = snapshot(api, w)
    assert before["dashboard"]["failedDeployments"] == 1 and before["teams"][0]["statistics"]["users"] == 4
    # GIVEN the team as an older release left it, with an entry older than the retention
    forget_counters(tid)
    old = audit_repo.new_item(
        tid,
        ids.utcnow() - timedelta(days=120),
        actor_type="user",
        context="http",
        method="post",
        event="/api/old",
        data=None,
    )
    old.ttl = None
    old.save()
    assert snapshot(api, w) != before
    # WHEN the backfill runs (twice: it is idempotent)
    for _ in range(2):
        assert command.main(["--team", tid]) == 0
        # THEN every answer is what the counters gave
        assert snapshot(api, w) == before
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    report = [line for line in lines if line.get("team") == tid][-1]
    assert (report["team"], report["projectCount"], report["failedDeploymentCount"]) == (tid, 3, 1)
    assert (report["memberCount"], report["invitationCount"], report["userCount"]) == (1, 3, 4)
    owner = [line for line in lines if line.get("user") == w["owner"].id][-1]
    assert (owner["teamCount"], owner["invitationCount"]) == (3, 0)  # every team of the owner, not only this one
    assert int(user_repo.get(w["owner"].id).team_count) == 3
    assert report["auditEntries"] == before["audit"]["total"]
    assert all(entry.ttl for entry in AuditItem.query(keys.audit(tid)))
    assert "/api/old" not in {entry.event for entry in AuditItem.query(keys.audit(tid))}  # past its retention
    assert tid in backfill.team_ids()


@pytest.mark.parametrize("kind", ["versionless", "versioned"])
def test_project_deletion_counts_down_its_versions(api, kind):
    owner = api.signup()
    team = api.create_team(owner)
    project = api.create_project(owner, team["slug"], kind)
    if kind == "versioned":
        for _ in range(3):
            api.create_version(owner, team["slug"], project["id"])
    listed = api.get(f"/api/{team['slug']}/projects", owner).json
    assert [p["versionCount"] for p in listed] == [1 if kind == "versionless" else 3]
    assert api.delete(f"/api/{team['slug']}/projects/{project['id']}", owner).status_code == 204
    stats = api.get(f"/api/teams/{team['id']}", owner).json["statistics"]
    assert (stats["projects"], stats["versions"]) == (0, 0)


def test_the_timeout_sweep_counts_the_deployments_it_fails(api, registry_item):
    from chalicelib.db import deployments as deployment_repo
    from chalicelib.db import projects as project_repo
    from chalicelib.db import teams as team_repo
    from chalicelib.services import deployment_lifecycle

    # GIVEN three deployments of one project in progress, one failed before
    w = build(api, registry_item, 3)
    tid = w["team"]["id"]
    # (new versions bring the default version's deployments along: one per prefix, one in flight per prefix)
    first, *others = {d.prefix: d for d in deployment_repo.page_for_team(tid, 100, None).items}.values()
    deployment_repo.start(tid, first, "rolling", None, ids.utcnow())
    deployment_lifecycle.finish(tid, deployment_repo.get(tid, first.id, consistent=True), 1, "failed")
    for deployment in [deployment_repo.get(tid, first.id, consistent=True), *others]:
        deployment_repo.start(tid, deployment, "rolling", None, ids.utcnow())
    assert int(project_repo.get(tid, w["project"]["id"]).deployments_in_progress) == 3
    # WHEN the schedule fails them (in one transaction: one unit for the team)
    later = ids.utcnow() + timedelta(hours=2)
    failed = set()
    for _ in range(5):
        failed |= set(deployment_lifecycle.fail_stuck(later))
    # THEN the counts follow: three failed, none in progress
    assert {first.id, *(d.id for d in others)} <= failed
    assert int(team_repo.get(tid).failed_deployment_count) == 3
    assert int(project_repo.get(tid, w["project"]["id"]).deployments_in_progress) == 0
