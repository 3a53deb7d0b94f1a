"""Registries: types and details, live checks against a real v2 registry, sealed credentials."""

from __future__ import annotations

import json

import pytest

from tests.conftest import unique

LIST_KEYS = {"type", "id", "name", "description", "icon", "url"}
DETAIL_KEYS = {"type", "details", "id", "name", "description", "icon", "inUse", "createdAt", "updatedAt"}


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def v2_body(local_registry, name=None, password=None, user=None, **details):
    return {
        "type": "v2",
        "name": name or unique("Local "),
        "description": "CI images",
        "icon": "box",
        "details": {
            "url": local_registry.url,
            "user": user or local_registry.user,
            "token": password or local_registry.password,
            **details,
        },
    }


def test_new_teams_start_with_the_public_docker_hub_library(api, team):
    owner, team_ = team
    [hub] = api.get(f"/api/{team_['slug']}/registries", owner).json
    assert set(hub) == LIST_KEYS
    assert (hub["name"], hub["type"], hub["url"]) == ("Docker Hub Library", "hub", "hub.docker.com")
    details = api.get(f"/api/{team_['slug']}/registries/{hub['id']}", owner).json
    assert details["details"] == {"imageNamePrefix": "library", "public": True}


def test_v2_registry_with_valid_credentials_is_created_and_its_password_never_shown(api, team, local_registry):
    owner, team_ = team
    slug = team_["slug"]
    created = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, name="Local"))
    assert created.status_code == 201, created.body
    registry = created.json
    assert set(registry) == DETAIL_KEYS
    assert registry["details"] == {"url": local_registry.url, "user": local_registry.user, "public": False}
    assert registry["inUse"] is False and created.headers["Location"].endswith(registry["id"])
    bodies = [
        created.body,
        api.get(f"/api/{slug}/registries", owner).body,
        api.get(f"/api/{slug}/registries/{registry['id']}", owner).body,
        api.get(f"/api/{slug}/audit-log", owner).body,
    ]
    assert all(local_registry.password not in body for body in bodies)
    listed = [r for r in api.get(f"/api/{slug}/registries", owner).json if r["id"] == registry["id"]]
    assert listed[0]["url"] == local_registry.url


def test_the_token_is_stored_kms_encrypted_not_in_plain_text(api, team, local_registry):
    from chalicelib import settings
    from chalicelib.adapters import aws

    owner, team_ = team
    registry = api.post(f"/api/{team_['slug']}/registries", owner, v2_body(local_registry)).json
    raw = aws.client("dynamodb").get_item(
        TableName=settings.table_name(),
        Key={"PK": {"S": f"TEAM#{team_['id']}"}, "SK": {"S": f"REGISTRY#{registry['id']}"}},
    )
    stored = json.dumps(raw["Item"], default=str)
    assert local_registry.password not in stored and "sealedToken" in raw["Item"]


@pytest.mark.parametrize("change", [{"password": "wrong-password"}, {"user": "nobody"}])
def test_wrong_credentials_get_400_and_nothing_is_stored(api, team, local_registry, change):
    owner, team_ = team
    response = api.post(f"/api/{team_['slug']}/registries", owner, v2_body(local_registry, **change))
    assert response.status_code == 400 and response.json["property"] == "details"
    assert "refused" in response.json["message"]
    assert "wrong-password" not in response.body
    assert [r["type"] for r in api.get(f"/api/{team_['slug']}/registries", owner).json] == ["hub"]


def test_a_protected_registry_declared_public_is_refused(api, team, local_registry):
    owner, team_ = team
    body = {"type": "v2", "name": "Anon", "details": {"url": local_registry.url, "public": True}}
    response = api.post(f"/api/{team_['slug']}/registries", owner, body)
    assert response.status_code == 400 and "credentials" in response.json["message"]


def test_an_unreachable_registry_gets_400(api, team):
    owner, team_ = team
    body = {"type": "v2", "name": "Gone", "details": {"url": "http://127.0.0.1:9", "user": "u", "token": "p"}}
    response = api.post(f"/api/{team_['slug']}/registries", owner, body)
    assert response.status_code == 400 and "not reachable" in response.json["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "group", "name": "x", "details": {"imageNamePrefix": "a"}},
        {"type": "v2", "name": "x", "details": {"url": "http://127.0.0.1:9", "token": "p"}},
        {
            "type": "github",
            "name": "x",
            "details": {"imageNamePrefix": "acme", "namespace": "team", "user": "u", "token": "t"},
        },
        {"type": "gitlab", "name": "x", "details": {"imageNamePrefix": "acme", "namespace": "group"}},
        {"type": "unchecked", "name": "x", "details": {}},
        {"type": "hub", "name": "x", "details": {}},
        {"type": "v2", "name": "", "details": {"url": "a", "public": True}},
        {"name": "x", "details": {}},
    ],
)
def test_bad_registry_bodies_get_400_without_any_network_call(api, module_team, body):
    owner, team_ = module_team
    response = api.post(f"/api/{team_['slug']}/registries", owner, body)
    assert response.status_code == 400, response.body
    assert "token" not in json.dumps(response.json.get("value"))


def test_update_rechecks_keeps_the_stored_token_and_guards_the_name(api, team, local_registry):
    owner, team_ = team
    slug = team_["slug"]
    first = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, name="First")).json
    api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, name="Second"))
    path = f"/api/{slug}/registries/{first['id']}"
    body = {"type": "v2", "name": "Renamed", "details": {"url": local_registry.url, "user": local_registry.user}}
    assert api.put(path, owner, body).status_code == 204  # no token: the stored one is kept and checked
    assert api.get(path, owner).json["name"] == "Renamed"
    assert api.put(path, owner, {**body, "name": "second"}).status_code == 409
    wrong = {**body, "details": {**body["details"], "token": "nope"}}
    assert api.put(path, owner, wrong).status_code == 400
    assert api.put(f"/api/{slug}/registries/5b0c2d3e-0000-4000-8000-000000000000", owner, body).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"url": "http://localhost:9"},  # another host
        {"url": "REGISTRY/elsewhere"},  # same host, another path
        {"user": "someone-else"},
        {"type": "unchecked"},
    ],
)
def test_update_that_moves_the_registry_needs_the_token_again(api, team, local_registry, change):
    # GIVEN a registry whose token is stored
    owner, team_ = team
    slug = team_["slug"]
    created = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, name="Kept")).json
    details = {"url": local_registry.url, "user": local_registry.user}
    details.update({k: v.replace("REGISTRY", local_registry.url) for k, v in change.items() if k != "type"})
    body = {"type": change.get("type", "v2"), "name": "Kept", "details": details}
    # WHEN its type, URL or user changes without the token THEN the token is asked for (F4)
    response = api.put(f"/api/{slug}/registries/{created['id']}", owner, body)
    assert response.status_code == 400 and response.json["property"] == "details.token", response.body
    assert api.get(f"/api/{slug}/registries/{created['id']}", owner).json["details"]["url"] == local_registry.url


def test_images_are_checked_in_the_registry_and_prefilled_from_their_labels(api, team, local_registry):
    owner, team_ = team
    slug = team_["slug"]
    registry = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry)).json
    project = api.create_project(owner, slug, "versionless")
    version = api.get(f"/api/{slug}/projects/{project['id']}", owner).json["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    added = api.post(images, owner, [{"registryId": registry["id"], "images": ["acme/web:1.0", "acme/worker"]}])
    assert added.status_code == 201, added.body
    web = added.json[0]
    assert [(e["key"], e["value"]) for e in web["config"]["environment"]] == [("MODE", ""), ("PORT", "8080")]
    assert [(s["key"], s["required"]) for s in web["config"]["secrets"]] == [("DB_PASSWORD", True)]
    assert web["registry"] == {"type": "v2", "id": registry["id"], "name": registry["name"]}
    for missing in ("acme/web:9.9", "acme/nope:1.0"):
        refused = api.post(images, owner, [{"registryId": registry["id"], "images": [missing]}])
        assert refused.status_code == 400 and refused.json["value"] == missing
    # A new tag is checked too.
    path = f"{images}/{web['id']}"
    assert api.patch(path, owner, {"tag": "2.0"}).status_code == 204
    assert api.patch(path, owner, {"tag": "3.0"}).status_code == 400
    # In use: cannot be deleted until its images are gone.
    registry_path = f"/api/{slug}/registries/{registry['id']}"
    assert api.get(registry_path, owner).json["inUse"] is True
    assert api.delete(registry_path, owner).status_code == 412
    for image in api.get(images, owner).json:
        api.delete(f"{images}/{image['id']}", owner)
    assert api.delete(registry_path, owner).status_code == 204
    assert api.get(registry_path, owner).status_code == 404


def test_pull_reference_and_credentials_for_deployments(api, team, local_registry):
    from chalicelib.models.paging import PageQuery
    from chalicelib.services import registries

    owner, team_ = team
    created = api.post(f"/api/{team_['slug']}/registries", owner, v2_body(local_registry)).json
    item = registries.get_registry(team_["id"], created["id"])
    assert registries.image_reference(item, "acme/web", "1.0") == f"{local_registry.host}/acme/web:1.0"
    assert registries.credentials(team_["id"], item) == (local_registry.user, local_registry.password)
    listed = registries.list_registries(type("T", (), {"team_id": team_["id"]}), PageQuery()).items
    hub = next(r for r in listed if r.kind == "hub")
    assert registries.image_reference(hub, "nginx", None) == "library/nginx:latest"
    assert registries.credentials(team_["id"], hub) is None


def test_another_teams_registry_is_not_found(api, team, local_registry):
    owner, team_ = team
    stranger = api.signup()
    other = api.create_team(stranger)
    foreign = api.get(f"/api/{other['slug']}/registries", stranger).json[0]
    assert api.get(f"/api/{team_['slug']}/registries/{foreign['id']}", owner).status_code == 404
    assert api.delete(f"/api/{team_['slug']}/registries/{foreign['id']}", owner).status_code == 404


def test_check_answers_whether_the_registry_takes_the_credentials_without_saving(api, team, local_registry):
    # GIVEN a registry's details as a form would send them
    owner, team_ = team
    slug = team_["slug"]
    # WHEN they are checked THEN the registry's answer comes back, and nothing is stored
    checked = api.post(f"/api/{slug}/registries/check", owner, v2_body(local_registry, name="Probe"))
    assert checked.status_code == 200, checked.body
    assert checked.json == {
        "checked": True,
        "message": f"The registry at {local_registry.host} answered with these credentials.",
    }
    assert [r["type"] for r in api.get(f"/api/{slug}/registries", owner).json] == ["hub"]
    # AND a wrong password is refused at `details`, a missing field at its own property (no type prefix)
    wrong = api.post(f"/api/{slug}/registries/check", owner, v2_body(local_registry, password="wrong-password"))
    assert wrong.status_code == 400 and wrong.json["property"] == "details" and "refused" in wrong.json["message"]
    missing = api.post(f"/api/{slug}/registries/check", owner, {"type": "github", "name": "G", "details": {}})
    assert missing.status_code == 400 and missing.json["property"] == "details.user", missing.body
    # AND types that are not checked say why
    unchecked = {"type": "unchecked", "name": "U", "details": {"url": "registry.local"}}
    answer = api.post(f"/api/{slug}/registries/check", owner, unchecked).json
    assert answer["checked"] is False and "not checked" in answer["message"]


def test_a_stored_registry_is_checked_as_it_is_or_with_changes_keeping_its_token(api, team, local_registry):
    owner, team_ = team
    slug = team_["slug"]
    created = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, name="Stored")).json
    path = f"/api/{slug}/registries/{created['id']}/check"
    # As stored: the sealed token is used
    assert api.post(path, owner).json["checked"] is True
    # With changes but no token: kept while it goes to the same place, asked for when it would move
    same = {"type": "v2", "name": "Stored", "details": {"url": local_registry.url, "user": local_registry.user}}
    assert api.post(path, owner, same).json["checked"] is True
    moved = {**same, "details": {**same["details"], "user": "someone-else"}}
    response = api.post(path, owner, moved)
    assert response.status_code == 400 and response.json["property"] == "details.token"


def test_images_and_tags_are_looked_up_in_the_registry(api, team, local_registry):
    # GIVEN the test registry (acme/web 1.0 and 2.0, acme/worker latest) with and without a prefix
    owner, team_ = team
    slug = team_["slug"]
    plain = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry)).json
    prefixed = api.post(f"/api/{slug}/registries", owner, v2_body(local_registry, imageNamePrefix="acme")).json
    base = f"/api/{slug}/registries"
    # WHEN its catalog is searched THEN matching names come back, relative to the prefix
    assert api.get(f"{base}/{plain['id']}/images?q=WEB", owner).json == [{"name": "acme/web"}]
    assert api.get(f"{base}/{plain['id']}/images", owner).json == [{"name": "acme/web"}, {"name": "acme/worker"}]
    assert api.get(f"{base}/{prefixed['id']}/images?q=w", owner).json == [{"name": "web"}, {"name": "worker"}]
    # AND an image's tags come back newest-looking first
    assert api.get(f"{base}/{plain['id']}/tags?image=acme/web", owner).json == {
        "name": "acme/web",
        "tags": ["2.0", "1.0"],
    }
    assert api.get(f"{base}/{prefixed['id']}/tags?image=worker", owner).json["tags"] == ["latest"]
    # AND an image it does not hold is a 404 at `image`; an unchecked registry cannot be searched
    missing = api.get(f"{base}/{plain['id']}/tags?image=acme/nothing", owner)
    assert missing.status_code == 404 and missing.json["property"] == "image"
    assert api.get(f"{base}/{plain['id']}/tags?image=Not%20A%20Name", owner).status_code == 400
    unchecked = api.post(base, owner, {"type": "unchecked", "name": "U", "details": {"url": "registry.local"}}).json
    refused = api.get(f"{base}/{unchecked['id']}/images?q=a", owner)
    assert refused.status_code == 400 and refused.json["property"] == "registryId"
    assert api.get(f"{base}/{plain['id']}/tags", owner).json["property"] == "image"
