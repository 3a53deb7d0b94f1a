"""The dashboard counts real data and walks the onboarding checklist as the team progresses."""

from __future__ import annotations

from chalicelib import ids
from chalicelib.db import deployments as deployment_repo
from chalicelib.services import deployment_lifecycle

STEPS = ["signUp", "createTeam", "createNode", "createProject", "createVersion", "addImages", "addDeployment", "deploy"]


def done(board):
    return [step for step in STEPS if board["onboarding"][step]["done"]]


def fail(team_id: str, deployment_id: str) -> None:
    """Runs one try of the deployment to `failed`, as a failed agent report would."""
    item = deployment_repo.get(team_id, deployment_id, consistent=True)
    attempt = deployment_repo.start(team_id, item, "incremental", None, ids.utcnow())
    running = deployment_repo.get(team_id, deployment_id, consistent=True)
    deployment_lifecycle.finish(team_id, running, attempt, "failed")


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
    steps = ("createProject", "createVersion", "addImages")
    assert [board["onboarding"][step]["resourceId"] for step in steps] == [project["id"], version["id"], image["id"]]
    assert (board["projects"], board["versions"]) == (1, 1)
    assert board["auditLog"] == 4  # team, project, version, images

    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    placed = [{"versionId": version["id"], "nodeId": node["id"], "prefix": prefix} for prefix in ("one", "two")]
    first, second = (api.post(f"/api/{slug}/deployments", owner, body).json for body in placed)
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert (board["deployments"], board["failedDeployments"]) == (2, 0)
    assert board["onboarding"]["createNode"]["resourceId"] == node["id"]
    assert board["onboarding"]["addDeployment"] == {"done": True, "resourceId": first["id"]}
    assert board["onboarding"]["deploy"] == {"done": False, "resourceId": first["id"]}

    fail(team["id"], first["id"])
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert (board["deployments"], board["failedDeployments"]) == (2, 1)
    assert board["onboarding"]["deploy"] == {"done": True, "resourceId": first["id"]}
    assert board["auditLog"] == 7  # + node, 2 deployments

    # WHEN the first deployment goes THEN the checklist follows the one left
    assert api.delete(f"/api/{slug}/deployments/{first['id']}", owner).status_code == 204
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert (board["deployments"], board["failedDeployments"]) == (1, 0)
    assert board["onboarding"]["addDeployment"] == {"done": True, "resourceId": second["id"]}
    assert board["onboarding"]["deploy"] == {"done": False, "resourceId": second["id"]}


def test_the_checklist_forgets_what_was_deleted_and_follows_what_is_left(api):
    owner = api.signup()
    team = api.create_team(owner)
    slug = team["slug"]
    first, second = (api.post(f"/api/{slug}/nodes", owner, {"name": name}).json for name in ("a", "b"))
    older, newer = (api.create_project(owner, slug, "versionless") for _ in range(2))
    board = api.get(f"/api/{slug}/dashboard", owner).json["onboarding"]
    assert (board["createNode"]["resourceId"], board["createProject"]["resourceId"]) == (first["id"], older["id"])
    assert board["createVersion"]["done"]  # the versionless project's rolling version

    assert api.delete(f"/api/{slug}/nodes/{first['id']}", owner).status_code == 204
    assert api.delete(f"/api/{slug}/projects/{older['id']}", owner).status_code == 204
    board = api.get(f"/api/{slug}/dashboard", owner).json["onboarding"]
    assert (board["createNode"]["resourceId"], board["createProject"]["resourceId"]) == (second["id"], newer["id"])

    assert api.delete(f"/api/{slug}/nodes/{second['id']}", owner).status_code == 204
    assert api.delete(f"/api/{slug}/projects/{newer['id']}", owner).status_code == 204
    board = api.get(f"/api/{slug}/dashboard", owner).json
    assert done(board) == ["signUp", "createTeam"]
    assert (board["projects"], board["versions"]) == (0, 0)

    third = api.post(f"/api/{slug}/nodes", owner, {"name": "c"}).json
    assert api.get(f"/api/{slug}/dashboard", owner).json["onboarding"]["createNode"]["resourceId"] == third["id"]


def test_dashboard_of_another_team_is_forbidden(api):
    owner, stranger = api.signup(), api.signup()
    team = api.create_team(owner)
    assert api.get(f"/api/{team['slug']}/dashboard", stranger).status_code == 403
