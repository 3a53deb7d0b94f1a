"""Projects: versionless and versioned, names unique per team, convert, deletable, audit."""

from __future__ import annotations

import pytest

from tests.conftest import unique

AUDIT_KEYS = {"createdAt", "createdBy", "updatedAt", "updatedBy"}


@pytest.fixture()
def owner_and_team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def test_versionless_project_gets_its_default_rolling_version(api, owner_and_team):
    owner, team = owner_and_team
    created = api.post(
        f"/api/{team['slug']}/projects",
        owner,
        {"type": "versionless", "name": "Shop", "description": "web shop", "changelog": "first"},
    )
    assert created.status_code == 201
    project = created.json
    assert set(project) == {"type", "description", "versionCount", "audit", "id", "name"}
    assert project["type"] == "versionless" and project["versionCount"] == 1
    assert set(project["audit"]) == AUDIT_KEYS and project["audit"]["createdBy"] == owner.id
    assert created.headers["Location"] == f"/api/{team['slug']}/projects/{project['id']}"

    details = api.get(f"/api/{team['slug']}/projects/{project['id']}", owner).json
    assert set(details) == {"type", "description", "deletable", "versions", "audit", "id", "name"}
    [version] = details["versions"]
    assert set(version) == {"type", "audit", "changelog", "default", "increasable", "id", "name"}
    assert (version["name"], version["type"], version["default"], version["increasable"], version["changelog"]) == (
        "rolling",
        "rolling",
        True,
        False,
        "first",
    )
    assert details["deletable"] is True


def test_list_shows_projects_with_version_counts_and_team_statistics_count_them(api, owner_and_team):
    owner, team = owner_and_team
    slug = team["slug"]
    versioned = api.create_project(owner, slug, "versioned", "Backend")
    api.create_project(owner, slug, "versionless", "Frontend")
    api.create_version(owner, slug, versioned["id"])
    api.create_version(owner, slug, versioned["id"])
    listed = {p["name"]: p for p in api.get(f"/api/{slug}/projects", owner).json}
    assert {name: p["versionCount"] for name, p in listed.items()} == {"Backend": 2, "Frontend": 1}
    stats = api.get("/api/teams", owner).json[0]["statistics"]
    assert stats["projects"] == 2 and stats["versions"] == 3


def test_project_name_is_unique_per_team_case_insensitively(api, owner_and_team):
    owner, team = owner_and_team
    api.create_project(owner, team["slug"], name="Billing")
    again = api.post(f"/api/{team['slug']}/projects", owner, {"type": "versioned", "name": "billing"})
    assert again.status_code == 409
    assert again.json == {"message": "Project name taken.", "property": "name", "value": "billing"}
    # Another team may use the name.
    other = api.signup()
    other_team = api.create_team(other)
    assert (
        api.post(f"/api/{other_team['slug']}/projects", other, {"type": "versioned", "name": "Billing"}).status_code
        == 201
    )


def test_update_renames_moves_the_name_guard_and_sets_a_versionless_changelog(api, owner_and_team):
    owner, team = owner_and_team
    slug = team["slug"]
    project = api.create_project(owner, slug, "versionless", "Old")
    taken = api.create_project(owner, slug, "versioned", "Taken")
    path = f"/api/{slug}/projects/{project['id']}"
    assert api.put(path, owner, {"name": "Taken"}).status_code == 409
    assert api.put(path, owner, {"name": "New", "description": "d", "changelog": "c2"}).status_code == 204
    details = api.get(path, owner).json
    assert (details["name"], details["description"], details["versions"][0]["changelog"]) == ("New", "d", "c2")
    # The old name is free again, the new one is guarded.
    assert api.post(f"/api/{slug}/projects", owner, {"type": "versioned", "name": "Old"}).status_code == 201
    assert api.post(f"/api/{slug}/projects", owner, {"type": "versioned", "name": "new"}).status_code == 409
    # A versioned project has no project-level changelog.
    refused = api.put(f"/api/{slug}/projects/{taken['id']}", owner, {"name": "Taken", "changelog": "x"})
    assert refused.status_code == 412 and refused.json["property"] == "changelog"


def test_convert_makes_a_versionless_project_versioned_and_its_rolling_version_deletable(api, owner_and_team):
    owner, team = owner_and_team
    slug = team["slug"]
    project = api.create_project(owner, slug, "versionless")
    path = f"/api/{slug}/projects/{project['id']}"
    rolling = api.get(path, owner).json["versions"][0]
    version_path = f"{path}/versions/{rolling['id']}"
    assert api.get(version_path, owner).json["deletable"] is False
    assert api.post(f"{path}/versions", owner, {"type": "incremental", "name": "1.0"}).status_code == 412

    assert api.post(f"{path}/convert", owner).status_code == 204
    assert api.get(path, owner).json["type"] == "versioned"
    assert api.get(version_path, owner).json["deletable"] is True
    assert api.post(f"{path}/versions", owner, {"type": "incremental", "name": "1.0"}).status_code == 201


def test_delete_removes_the_project_its_versions_and_frees_the_name(api, owner_and_team):
    owner, team = owner_and_team
    slug = team["slug"]
    project = api.create_project(owner, slug, "versioned", "Gone")
    version = api.create_version(owner, slug, project["id"], name="1.0")
    path = f"/api/{slug}/projects/{project['id']}"
    assert api.delete(path, owner).status_code == 204
    assert api.get(path, owner).status_code == 404
    assert api.get(f"{path}/versions/{version['id']}", owner).status_code == 404
    assert api.get("/api/teams", owner).json[0]["statistics"]["versions"] == 0
    assert api.post(f"/api/{slug}/projects", owner, {"type": "versioned", "name": "Gone"}).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x"},  # type missing
        {"type": "sometimes", "name": "x"},  # unknown enum
        {"type": "versioned", "name": ""},  # empty name
        {"type": "versioned", "name": "x" * 71},  # too long
        {"type": "versioned", "name": "x", "extra": 1},  # unknown field
        {"type": "versioned", "name": 5},  # wrong type
    ],
)
def test_bad_project_bodies_get_400(api, module_team, body):
    owner, team = module_team  # no test of this module adds projects to it
    response = api.post(f"/api/{team['slug']}/projects", owner, body)
    assert response.status_code == 400 and response.json["message"]
    assert api.get(f"/api/{team['slug']}/projects", owner).json == []


def test_unknown_or_foreign_project_ids_get_404(api, owner_and_team):
    owner, team = owner_and_team
    stranger = api.signup()
    foreign = api.create_project(stranger, api.create_team(stranger)["slug"])
    for project_id in ("5b0c2d3e-0000-4000-8000-000000000000", foreign["id"]):
        path = f"/api/{team['slug']}/projects/{project_id}"
        assert api.get(path, owner).status_code == 404
        assert api.put(path, owner, {"name": "mine now"}).status_code == 404
        assert api.delete(path, owner).status_code == 404
        assert api.post(f"{path}/convert", owner).status_code == 404
    assert api.get(f"/api/{team['slug']}/projects/not-a-uuid", owner).status_code == 400


def test_project_writes_are_audited(api, owner_and_team):
    owner, team = owner_and_team
    project = api.create_project(owner, team["slug"], name=unique("Audited "))
    api.delete(f"/api/{team['slug']}/projects/{project['id']}", owner)
    events = [(e["method"], e["event"]) for e in api.get(f"/api/{team['slug']}/audit-log", owner).json["items"]]
    assert ("delete", f"/api/{team['slug']}/projects/{project['id']}") in events
    assert ("post", f"/api/{team['slug']}/projects") in events
