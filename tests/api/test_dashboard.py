"""The dashboard counts real data and walks the onboarding checklist as the team progresses."""

from __future__ import annotations

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db.items import DeploymentItem

STEPS = ["signUp", "createTeam", "createNode", "createProject", "createVersion", "addImages", "addDeployment", "deploy"]


def done(board):
    return [step for step in STEPS if board["onboarding"][step]["done"]]


def save_deployment(team, project, version, status, owner):
    now, deployment_id = ids.utcnow(), ids.new_id()
    DeploymentItem(
        keys.team(team["id"]),
        keys.deployment(deployment_id),
        GSI1PK=keys.version_ref(version["id"]),
        GSI1SK=keys.deployment(deployment_id),
        id=deployment_id,
        project_id=project["id"],
        version_id=version["id"],
        node_id=ids.new_id(),
        prefix="web",
        status=status,
        created_at=now,
        created_by=owner.id,
        updated_at=now,
        updated_by=owner.id,
    ).save()
    return deployment_id


def test_dashboard_follows_the_team_from_sign_up_to_deploy(api, registry_item):
    owner = api.signup()
    team = api.create_team(owner)
    slug = team["slug"]
    board = api.get(f"/api/{slug}/dashboard", owner)
    assert board.status_code == 200
    assert set(board.json) == {
        "users",
        "auditLog",
        "projects",
        "versions",
        "deployments",
        "failedDeployments",
        "onboarding",
    }
    assert set(board.json["onboarding"]) == set(STEPS)
    assert all(set(item) == {"done", "resourceId"} for item in board.json["onboarding"].values())
    assert (board.json["users"], board.json["projects"], board.json["versions"], board.json["deployments"]) == (
        1,
        0,
        0,
        0,
    )
    assert done(board.json) == ["signUp", "createTeam"]
    assert board.json["onboarding"]["signUp"]["resourceId"] == owner.id
    assert board.json["onboarding"]["createTeam"]["resourceId"] == team["id"]

    project = api.create_project(owner, slug, "versioned")
    version = api.create_version(owner, slug, project["id"])
    base = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    [image] = api.post(base, owner, [{"registryId": registry_item(team), "images": ["acme/web:1"]}]).json
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert done(board) == ["signUp", "createTeam", "createProject", "createVersion", "addImages"]
    assert board["onboarding"]["createProject"]["resourceId"] == project["id"]
    assert board["onboarding"]["createVersion"]["resourceId"] == version["id"]
    assert board["onboarding"]["addImages"]["resourceId"] == image["id"]
    assert (board["projects"], board["versions"]) == (1, 1)
    assert board["auditLog"] >= 4  # team, project, version, images

    first = save_deployment(team, project, version, "failed", owner)
    save_deployment(team, project, version, "preparing", owner)
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert (board["deployments"], board["failedDeployments"]) == (2, 1)
    assert board["onboarding"]["addDeployment"] == {"done": True, "resourceId": first}
    assert board["onboarding"]["deploy"] == {"done": True, "resourceId": first}


def test_dashboard_of_another_team_is_forbidden(api):
    owner, stranger = api.signup(), api.signup()
    team = api.create_team(owner)
    assert api.get(f"/api/{team['slug']}/dashboard", stranger).status_code == 403
