"""Versions: rolling vs incremental, default, increase (chain), mutability and deletion rules."""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import unique

VERSION_KEYS = {"type", "audit", "changelog", "default", "increasable", "id", "name"}
DETAILS_KEYS = VERSION_KEYS | {"mutable", "deletable", "autoCopyDeployments", "images", "deployments"}


@pytest.fixture()
def project(api):
    owner = api.signup()
    team = api.create_team(owner)
    project = api.create_project(owner, team["slug"], "versioned")
    base = f"/api/{team['slug']}/projects/{project['id']}/versions"
    return owner, team, project, base


def test_first_version_becomes_default_and_details_have_every_field(api, project):
    owner, team, _, base = project
    created = api.post(base, owner, {"type": "incremental", "name": "1.0.0", "changelog": "initial"})
    assert created.status_code == 201
    first = created.json
    assert set(first) == VERSION_KEYS
    assert (first["default"], first["increasable"], first["type"]) == (True, True, "incremental")
    second = api.create_version(api_user := owner, team["slug"], project[2]["id"], kind="rolling", name="latest")
    assert second["default"] is False and second["increasable"] is False

    details = api.get(f"{base}/{first['id']}", api_user).json
    assert set(details) == DETAILS_KEYS
    assert (details["mutable"], details["deletable"], details["autoCopyDeployments"]) == (True, True, True)
    assert details["images"] == [] and details["deployments"] == []
    listed = api.get(base, owner).json
    assert [v["name"] for v in listed] == ["1.0.0", "latest"] and all(set(v) == VERSION_KEYS for v in listed)


def test_set_default_moves_the_flag_so_exactly_one_version_is_default(api, project):
    owner, team, proj, base = project
    a = api.create_version(owner, team["slug"], proj["id"], name="a")
    b = api.create_version(owner, team["slug"], proj["id"], name="b")
    assert api.put(f"{base}/{b['id']}/default", owner).status_code == 204
    defaults = {v["name"]: v["default"] for v in api.get(base, owner).json}
    assert defaults == {"a": False, "b": True}
    assert api.get(f"{base}/{a['id']}", owner).json["default"] is False


def test_version_names_are_unique_per_project(api, project):
    owner, team, proj, base = project
    api.create_version(owner, team["slug"], proj["id"], name="1.0")
    taken = api.post(base, owner, {"type": "rolling", "name": "1.0"})
    assert taken.status_code == 409 and taken.json["property"] == "name"
    other = api.create_project(owner, team["slug"], "versioned")
    api.create_version(owner, team["slug"], other["id"], name="1.0")  # other project: fine


def test_increase_creates_a_child_with_copied_images_and_freezes_the_parent(api, project, registry_item):
    owner, team, proj, base = project
    parent = api.create_version(owner, team["slug"], proj["id"], name="1.0")
    registry_id = registry_item(team)
    added = api.post(f"{base}/{parent['id']}/images", owner, [{"registryId": registry_id, "images": ["acme/web:1.0"]}])
    assert added.status_code == 201, added.body
    image_id = added.json[0]["id"]
    patched = api.patch(
        f"{base}/{parent['id']}/images/{image_id}",
        owner,
        {"config": {"environment": [{"key": "MODE", "value": "prod"}]}},
    )
    assert patched.status_code == 204

    increased = api.post(f"{base}/{parent['id']}/increase", owner, {"name": "1.1", "changelog": "fixes"})
    assert increased.status_code == 201
    child = increased.json
    assert set(child) == VERSION_KEYS and child["type"] == "incremental" and child["default"] is False
    child_images = api.get(f"{base}/{child['id']}/images", owner).json
    assert [(i["name"], i["tag"]) for i in child_images] == [("acme/web", "1.0")]
    assert child_images[0]["id"] != image_id  # a deep copy, not a shared image
    assert child_images[0]["config"]["environment"][0]["key"] == "MODE"

    parent_details = api.get(f"{base}/{parent['id']}", owner).json
    assert (parent_details["increasable"], parent_details["mutable"], parent_details["deletable"]) == (
        False,
        False,
        False,
    )
    # A frozen version refuses changes to itself and its images; a second child is a conflict.
    assert api.put(f"{base}/{parent['id']}", owner, {"name": "1.0-renamed"}).status_code == 412
    assert api.delete(f"{base}/{parent['id']}/images/{image_id}", owner).status_code == 412
    assert api.delete(f"{base}/{parent['id']}", owner).status_code == 412
    assert api.post(f"{base}/{parent['id']}/increase", owner, {"name": "1.1b"}).status_code == 409
    # Editing the child leaves the parent's image config alone.
    api.patch(f"{base}/{child['id']}/images/{child_images[0]['id']}", owner, {"config": {"environment": None}})
    assert (
        api.get(f"{base}/{parent['id']}/images/{image_id}", owner).json["config"]["environment"][0]["value"] == "prod"
    )
    # Deleting the child makes the parent increasable and mutable again.
    assert api.delete(f"{base}/{child['id']}", owner).status_code == 204
    again = api.get(f"{base}/{parent['id']}", owner).json
    assert again["increasable"] is True and again["mutable"] is True


def test_new_versions_copy_the_default_versions_images(api, project, registry_item):
    owner, team, proj, base = project
    first = api.create_version(owner, team["slug"], proj["id"], name="1.0")
    registry_id = registry_item(team)
    api.post(
        f"{base}/{first['id']}/images", owner, [{"registryId": registry_id, "images": ["acme/web:1.0", "acme/worker"]}]
    )
    second = api.create_version(owner, team["slug"], proj["id"], kind="rolling", name="edge")
    copied = api.get(f"{base}/{second['id']}/images", owner).json
    assert [(i["name"], i["order"]) for i in copied] == [("acme/web", 0), ("acme/worker", 1)]


def test_rolling_and_versionless_versions_cannot_be_increased(api, project):
    owner, team, proj, base = project
    rolling = api.create_version(owner, team["slug"], proj["id"], kind="rolling")
    refused = api.post(f"{base}/{rolling['id']}/increase", owner, {"name": "next"})
    assert refused.status_code == 412


def test_update_and_delete_a_version(api, project):
    owner, team, proj, base = project
    version = api.create_version(owner, team["slug"], proj["id"], name="1.0")
    other = api.create_version(owner, team["slug"], proj["id"], name="2.0")
    path = f"{base}/{version['id']}"
    assert api.put(path, owner, {"name": "2.0"}).status_code == 409
    assert api.put(path, owner, {"name": "1.0.1", "changelog": "notes"}).status_code == 204
    details = api.get(path, owner).json
    assert (details["name"], details["changelog"]) == ("1.0.1", "notes")
    assert api.delete(path, owner).status_code == 204
    assert api.get(path, owner).status_code == 404
    # The default (first) version was deleted: the next version created becomes default.
    assert api.get(f"{base}/{other['id']}", owner).json["default"] is False
    assert api.create_version(owner, team["slug"], proj["id"], name="3.0")["default"] is True


def test_version_created_event_is_published(api, project, events_queue):
    owner, team, proj, _ = project
    version = api.create_version(owner, team["slug"], proj["id"], name="9.9")
    bodies = [json.loads(b) for b in events_queue()]
    assert {
        "type": "version-created",
        "teamId": team["id"],
        "projectId": proj["id"],
        "projectName": proj["name"],
        "versionId": version["id"],
        "versionName": "9.9",
        "actorName": "Ada Lovelace",
    } in bodies


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},
        {"type": "major", "name": "x"},
        {"type": "rolling"},
        {"type": "rolling", "name": "x", "autoCopyDeployments": "yes"},
    ],
)
def test_bad_version_bodies_get_400(api, project, body):
    owner, _, _, base = project
    assert api.post(base, owner, body).status_code == 400


def test_unknown_version_ids_get_404(api, project):
    owner, _, _, base = project
    path = f"{base}/5b0c2d3e-0000-4000-8000-000000000000"
    assert api.get(path, owner).status_code == 404
    assert api.put(path, owner, {"name": "x"}).status_code == 404
    assert api.delete(path, owner).status_code == 404
    assert api.put(f"{path}/default", owner).status_code == 404
    assert api.post(f"{path}/increase", owner, {"name": "x"}).status_code == 404


def deployments_of(api, owner, team: dict, version: dict, n: int, registry: str) -> list[str]:
    """`n` deployments of the version (given an image), oldest first, each on a node of its own."""
    images = f"/api/{team['slug']}/projects/{version['projectId']}/versions/{version['id']}/images"
    assert api.post(images, owner, [{"registryId": registry, "images": ["acme/web:1"]}]).status_code == 201
    made = []
    for i in range(n):
        node = api.post(f"/api/{team['slug']}/nodes", owner, {"name": unique("node ")}).json
        body = {"versionId": version["id"], "nodeId": node["id"], "prefix": f"p{i}"}
        created = api.post(f"/api/{team['slug']}/deployments", owner, body)
        assert created.status_code == 201, created.body
        made.append(created.json["id"])
        time.sleep(0.002)  # creation times a millisecond apart: "newest" is well defined
    return made


def ran(team: dict, deployment_id: str) -> None:
    """The deployment as a start leaves it (in progress: it ran), without an agent."""
    from chalicelib import ids
    from chalicelib.db import deployments as deployment_repo

    item = deployment_repo.get(team["id"], deployment_id, consistent=True)
    deployment_repo.start(team["id"], item, "incremental", None, ids.utcnow())


def test_version_details_show_the_newest_deployments_and_rules_see_them_all(api, project, monkeypatch, registry_item):
    monkeypatch.setenv("VERSION_DETAILS_DEPLOYMENTS", "2")
    owner, team, proj, base = project
    version = {**api.create_version(owner, team["slug"], proj["id"]), "projectId": proj["id"]}
    # GIVEN an incremental version whose oldest deployment ran, and two newer ones preparing
    oldest, older, newest = deployments_of(api, owner, team, version, 3, registry_item(team))
    ran(team, oldest)
    # WHEN its details are read
    details = api.get(f"{base}/{version['id']}", owner).json
    # THEN they show the newest two, and the one that ran (not shown) still freezes the version
    assert [d["id"] for d in details["deployments"]] == [newest, older]
    assert (details["mutable"], details["deletable"]) == (False, False)
    assert api.put(f"{base}/{version['id']}", owner, {"name": "renamed"}).status_code == 412
    # AND the team's deployment list has them all
    listed = {d["id"] for d in api.get(f"/api/{team['slug']}/deployments", owner).json}
    assert {oldest, older, newest} <= listed


def test_a_version_from_before_status_keys_is_keyed_on_its_first_read(api, project, registry_item):
    from chalicelib.db import keys
    from chalicelib.db import versions as version_repo
    from chalicelib.db.items import DeploymentItem, VersionItem
    from infra import backfill as command

    owner, team, proj, base = project
    versions = [{**api.create_version(owner, team["slug"], proj["id"]), "projectId": proj["id"]} for _ in range(2)]
    made, registry = {}, registry_item(team)
    for version in versions:
        made[version["id"]] = deployments_of(api, owner, team, version, 2, registry)
        ran(team, made[version["id"]][0])

    def legacy(version: dict) -> None:
        """As an older release wrote them: deployments keyed by id under the version, no mark."""
        for deployment_id in made[version["id"]]:
            item = DeploymentItem(keys.team(team["id"]), keys.deployment(deployment_id))
            item.update(actions=[DeploymentItem.GSI1SK.set(keys.deployment(deployment_id))])
        item = VersionItem(keys.team(team["id"]), keys.version(proj["id"], version["id"]))
        item.update(actions=[VersionItem.deployments_keyed.remove()])

    def keyed(version: dict) -> bool:
        item = version_repo.get(team["id"], proj["id"], version["id"])
        under = {d.GSI1SK.split("#")[1] for d in DeploymentItem.query(keys.team(team["id"])) if d.version_id == item.id}
        return bool(item.deployments_keyed) and under == {"TOUCHED", "UNTOUCHED"}

    # GIVEN two versions as an older release left them, each with a deployment that ran
    for version in versions:
        legacy(version)
        assert not keyed(version)
    # WHEN the first one's details are read, THEN they are right, and the version is keyed from then on
    details = api.get(f"{base}/{versions[0]['id']}", owner).json
    assert sorted(d["id"] for d in details["deployments"]) == sorted(made[versions[0]["id"]])
    assert (details["mutable"], details["deletable"]) == (False, False)
    assert keyed(versions[0])
    assert api.get(f"{base}/{versions[0]['id']}", owner).json == details
    # AND the backfill keys the other
    assert command.main(["--team", team["id"]]) == 0
    assert keyed(versions[1])
    assert api.get(f"{base}/{versions[1]['id']}", owner).json["mutable"] is False
