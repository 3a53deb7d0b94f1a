"""Templates: a catalog of full stacks that become projects with their images and configs."""

from __future__ import annotations

import pytest

from chalicelib.models.containers import ImageConfig
from chalicelib.services import templates


def test_catalog_has_useful_stacks_with_valid_full_configs():
    catalog = {t.id: t for t in templates.list_templates()}
    assert {"nginx", "postgres", "redis", "mariadb", "wordpress", "gitea"} <= set(catalog)
    for template in catalog.values():
        registries = {r.name for r in template.registries}
        names = [image.config.name for image in template.images]
        assert len(names) == len(set(names)) and all(names)
        for image in template.images:
            assert image.registry_name in registries
            assert isinstance(image.config, ImageConfig) and image.config.ports and image.config.restart_policy
        if len(template.images) > 1:  # multi-container stacks share a network so they can reach each other
            networks = [{n.key for n in image.config.networks or []} for image in template.images]
            assert set.intersection(*networks)


def test_list_and_icon_endpoints(api):
    user = api.signup()
    listed = api.get("/api/templates", user)
    assert listed.status_code == 200 and len(listed.json) >= 6
    assert all(set(t) == {"id", "name", "description", "technologies"} for t in listed.json)
    icon = api.get("/api/templates/wordpress/image", user)
    assert icon.status_code == 200 and icon.headers["Content-Type"] == "image/svg+xml"
    assert icon.body.startswith("<svg")
    assert api.get("/api/templates/nope/image", user).status_code == 404
    assert api.get("/api/templates").status_code == 401


@pytest.mark.parametrize("kind", ["versionless", "versioned"])
def test_a_template_becomes_a_project_with_its_images_and_configs(api, kind):
    owner = api.signup()
    team = api.create_team(owner)
    slug = team["slug"]
    created = api.post(
        "/api/templates",
        owner,
        {"type": kind, "id": "wordpress", "teamSlug": slug, "name": "Blog", "description": "company blog"},
    )
    assert created.status_code == 201, created.body
    project = created.json
    assert set(project) == {"type", "description", "audit", "id", "name"}
    assert (project["type"], project["name"]) == (kind, "Blog")
    [version] = api.get(f"/api/{slug}/projects/{project['id']}", owner).json["versions"]
    assert version["name"] == ("rolling" if kind == "versionless" else "1.0.0")
    images = api.get(f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images", owner).json
    assert [(i["name"], i["tag"], i["order"]) for i in images] == [("mariadb", "11", 0), ("wordpress", "6", 1)]
    wordpress = images[1]["config"]
    assert wordpress["name"] == "wordpress" and {"key": "WORDPRESS_DB_HOST", "value": "wordpress-db"} in [
        {"key": e["key"], "value": e["value"]} for e in wordpress["environment"]
    ]
    assert [s["key"] for s in wordpress["secrets"]] == ["WORDPRESS_DB_PASSWORD"]
    assert images[1]["registry"]["name"] == "Docker Hub Library"
    # The team's existing Docker Hub registry was reused, not duplicated.
    assert [r["name"] for r in api.get(f"/api/{slug}/registries", owner).json] == ["Docker Hub Library"]
    # A second project from the same template gets its own list-item ids.
    again = api.post(
        "/api/templates", owner, {"type": kind, "id": "wordpress", "teamSlug": slug, "name": "Blog 2"}
    ).json
    [v2] = api.get(f"/api/{slug}/projects/{again['id']}", owner).json["versions"]
    other = api.get(f"/api/{slug}/projects/{again['id']}/versions/{v2['id']}/images", owner).json[1]["config"]
    assert other["environment"][0]["id"] != wordpress["environment"][0]["id"]


def test_template_errors(api):
    owner, stranger = api.signup(), api.signup()
    team = api.create_team(owner)
    body = {"type": "versionless", "id": "gitea", "teamSlug": team["slug"], "name": "Git"}
    assert api.post("/api/templates", owner, {**body, "id": "nope"}).status_code == 404
    assert api.post("/api/templates", owner, {**body, "type": "other"}).status_code == 400
    assert api.post("/api/templates", stranger, body).status_code == 403
    assert api.post("/api/templates", owner, body).status_code == 201
    assert api.post("/api/templates", owner, body).status_code == 409
    registries = [r["name"] for r in api.get(f"/api/{team['slug']}/registries", owner).json]
    assert sorted(registries) == ["Docker Hub Library", "Docker Hub gitea"]
