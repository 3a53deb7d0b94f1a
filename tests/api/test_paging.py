"""Paged lists (README, "API: paging") and reads that no longer grow with what a page holds."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import unique
from tests.fixtures.aws_calls import recording


@pytest.fixture()
def owner_and_team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def pages(api, user, path: str, take: int) -> list[list[dict]]:
    """Every page of a list, following `X-Next-Cursor`; checks the `Link` header on the way."""
    found, cursor = [], None
    while True:
        reply = api.get(f"{path}?take={take}" + (f"&cursor={cursor}" if cursor else ""), user)
        assert reply.status_code == 200, reply.body
        found.append(reply.json)
        cursor = reply.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in reply.headers
            return found
        link = reply.headers["Link"]
        assert link.endswith('>; rel="next"') and link.startswith(f"<{path}?")
        assert parse_qs(urlsplit(link[1 : link.index(">")]).query) == {"take": [str(take)], "cursor": [cursor]}


def add_deployment(api, owner, slug: str, node_id: str, registry_id: str) -> dict:
    """A deployment of the rolling version, with one image, of a new project."""
    project_id = api.create_project(owner, slug, "versioned")["id"]
    version = api.create_version(owner, slug, project_id, kind="rolling")
    images = f"/api/{slug}/projects/{project_id}/versions/{version['id']}/images"
    assert api.post(images, owner, [{"registryId": registry_id, "images": ["acme/web:1"]}]).status_code == 201
    created = api.post(
        f"/api/{slug}/deployments", owner, {"versionId": version["id"], "nodeId": node_id, "prefix": unique("p")}
    )
    assert created.status_code == 201, created.body
    return created.json


def test_paging_through_projects_returns_each_once_and_the_last_page_has_no_cursor(api, owner_and_team):
    # GIVEN a team with 7 projects
    owner, team = owner_and_team
    slug = team["slug"]
    made = {api.create_project(owner, slug)["id"] for _ in range(7)}
    # WHEN its list is read 3 at a time
    found = pages(api, owner, f"/api/{slug}/projects", 3)
    # THEN 3 pages hold every project exactly once, and the last page names no next one
    assert [len(page) for page in found] == [3, 3, 1]
    ids = [p["id"] for page in found for p in page]
    assert sorted(ids) == sorted(made) and len(ids) == len(set(ids))


def test_a_list_that_ends_on_a_page_boundary_has_no_trailing_empty_page(api, owner_and_team):
    owner, team = owner_and_team
    for _ in range(3):
        api.post(f"/api/{team['slug']}/nodes", owner, {"name": unique("n")})
    assert [len(page) for page in pages(api, owner, f"/api/{team['slug']}/nodes", 3)] == [3]


def test_deployments_come_newest_first_across_pages(api, owner_and_team, registry_item):
    # GIVEN 5 deployments made one after another
    owner, team = owner_and_team
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    registry = registry_item(team)
    made = [add_deployment(api, owner, slug, node["id"], registry)["id"] for _ in range(5)]
    # WHEN they are listed 2 at a time
    found = pages(api, owner, f"/api/{slug}/deployments", 2)
    # THEN the pages hold them newest first, each once
    assert [len(page) for page in found] == [2, 2, 1]
    assert [d["id"] for page in found for d in page] == made[::-1]
    # AND a deleted one leaves the list
    assert api.delete(f"/api/{slug}/deployments/{made[2]}", owner).status_code == 204
    assert [d["id"] for d in api.get(f"/api/{slug}/deployments", owner).json] == [made[4], made[3], made[1], made[0]]


def test_deployments_made_before_list_entries_existed_are_listed_once_indexed(api, owner_and_team, registry_item):
    from chalicelib.db import keys
    from chalicelib.db.items import ListEntryItem

    # GIVEN a team whose deployments were stored before the newest-first entries existed
    owner, team = owner_and_team
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    registry = registry_item(team)
    made = [add_deployment(api, owner, slug, node["id"], registry)["id"] for _ in range(3)]
    partition = keys.team(team["id"])
    for entry in ListEntryItem.query(partition, ListEntryItem.SK.startswith("DEPLOYED")):
        entry.delete()
    # WHEN the list is read
    listed = [d["id"] for d in api.get(f"/api/{slug}/deployments", owner).json]
    # THEN every deployment is there, newest first, and the team is now marked as indexed
    assert listed == made[::-1]
    assert ListEntryItem.get(partition, keys.DEPLOYED_INDEXED).ref is None
    assert len(list(ListEntryItem.query(partition, ListEntryItem.SK.startswith(keys.DEPLOYED_PREFIX)))) == 3


def test_default_page_is_100_items(api, owner_and_team):
    # GIVEN 101 notifications
    owner, team = owner_and_team
    slug = team["slug"]
    for _ in range(101):
        body = {"type": "discord", "name": unique("n"), "url": "https://discord.com/api/webhooks/1/x", "active": True}
        assert api.post(f"/api/{slug}/notifications", owner, body).status_code == 201
    # WHEN a client that knows nothing of paging lists them
    first = api.get(f"/api/{slug}/notifications", owner)
    # THEN it gets 100, and the cursor of the one more
    assert len(first.json) == 100
    rest = api.get(f"/api/{slug}/notifications?cursor={first.headers['X-Next-Cursor']}", owner)
    assert len(rest.json) == 1 and "X-Next-Cursor" not in rest.headers
    assert {n["id"] for n in first.json}.isdisjoint({n["id"] for n in rest.json})


def _encoded(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor",  # not base64 of JSON
        "A",  # not even base64
        _encoded({"SK": "PROJECT#x"}),  # JSON, but not a key
        _encoded(["NODE#5b0c2d3e-0000-4000-8000-000000000000"]),  # another list's key
        _encoded(["PROJECT#x", "extra"]),
        _encoded([7]),
        _encoded("[" * 700),
    ],
)
def test_a_tampered_cursor_is_a_400_naming_the_cursor(api, owner_and_team, cursor):
    owner, team = owner_and_team
    reply = api.get(f"/api/{team['slug']}/projects?cursor={cursor}", owner)
    assert reply.status_code == 400
    assert reply.json["property"] == "cursor" and reply.json["message"]


def test_a_cursor_with_foreign_characters_or_too_long_is_a_400(api, owner_and_team):
    owner, team = owner_and_team
    for cursor in ("a%2Fb", "x" * 1025):
        reply = api.get(f"/api/{team['slug']}/deployments?cursor={cursor}", owner)
        assert reply.status_code == 400 and reply.json["property"] == "cursor"


def test_take_outside_1_to_100_is_a_400(api, owner_and_team):
    owner, team = owner_and_team
    for take in ("101", "0", "-1", "many"):
        reply = api.get(f"/api/{team['slug']}/nodes?take={take}", owner)
        assert reply.status_code == 400 and reply.json["property"] == "take", (take, reply.body)
    assert api.get(f"/api/{team['slug']}/nodes?take=100&unknown=1", owner).status_code == 200


def test_every_list_route_whose_answer_is_an_array_is_paged(api, owner_and_team, registry_item):
    # GIVEN a team with two of everything that is listed
    owner, team = owner_and_team
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    api.post(f"/api/{slug}/nodes", owner, {"name": "edge2"})
    registry = registry_item(team)  # the team already has Docker Hub
    first = add_deployment(api, owner, slug, node["id"], registry)
    add_deployment(api, owner, slug, node["id"], registry)
    project = first["project"]["id"]
    for _ in range(2):
        storage = {"name": unique("s"), "url": "https://s3.example.com/b"}
        assert api.post(f"/api/{slug}/storages", owner, storage).status_code == 201
        body = {"type": "slack", "name": unique("n"), "url": "https://hooks.slack.com/services/x", "active": True}
        assert api.post(f"/api/{slug}/notifications", owner, body).status_code == 201
        assert api.post("/api/tokens", owner, {"name": unique("t"), "expirationInDays": 1}).status_code == 201
    api.create_team(owner)
    api.create_version(owner, slug, project, kind="rolling")
    paths = [
        "/api/teams",
        "/api/tokens",
        f"/api/{slug}/projects",
        f"/api/{slug}/projects/{project}/versions",
        f"/api/{slug}/deployments",
        f"/api/{slug}/nodes",
        f"/api/{slug}/registries",
        f"/api/{slug}/storages",
        f"/api/{slug}/storages/options",
        f"/api/{slug}/notifications",
    ]
    for path in paths:
        # WHEN each is read one item at a time
        found = pages(api, owner, path, 1)
        # THEN each page holds one item and the items are the whole list, once each
        assert all(len(page) == 1 for page in found), path
        ids = [page[0]["id"] for page in found]
        whole = api.get(path, owner).json
        assert sorted(ids) == sorted(item["id"] for item in whole) and len(ids) >= 2, path


def test_the_openapi_document_declares_the_paging_parameters_and_headers(api):
    doc = api.get("/api/openapi.json").json
    operation = doc["paths"]["/api/{teamSlug}/deployments"]["get"]
    params = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(params) == {"take", "cursor"} and not params["take"]["required"] and not params["cursor"]["required"]
    assert params["take"]["schema"]["maximum"] == 100 and params["take"]["schema"]["default"] == 100
    assert set(operation["responses"]["200"]["headers"]) == {"X-Next-Cursor", "Link"}


# --- reads that do not grow with what a page holds -------------------------------------------


def _calls(api, user, path: str):
    with recording() as calls:
        reply = api.get(path, user)
    assert reply.status_code == 200, reply.body
    return calls


def test_listing_deployments_costs_the_same_for_1_and_6_projects(api, registry_item):
    # GIVEN one team with a deployment in 1 project and one with a deployment in each of 6 projects
    counted = []
    for projects in (1, 6):
        owner = api.signup()
        team = api.create_team(owner)
        node = api.post(f"/api/{team['slug']}/nodes", owner, {"name": "edge"}).json
        registry = registry_item(team)
        for _ in range(projects):
            add_deployment(api, owner, team["slug"], node["id"], registry)
        # WHEN the deployments are listed
        counted.append(_calls(api, owner, f"/api/{team['slug']}/deployments"))
    # THEN both lists make the same AWS calls: one per kind of thing read, not one per project
    assert counted[0].by_operation() == counted[1].by_operation(), [c.summary() for c in counted]
    assert counted[1].by_operation()["dynamodb:Query"] == 1


def test_version_details_and_its_images_read_each_thing_once_whatever_their_number(api, registry_item):
    counted = []
    for size in (1, 6):
        owner = api.signup()
        team = api.create_team(owner)
        slug = team["slug"]
        registry = registry_item(team)
        project = api.create_project(owner, slug, "versioned")["id"]
        version = api.create_version(owner, slug, project, kind="rolling")["id"]
        base = f"/api/{slug}/projects/{project}/versions/{version}"
        refs = [f"acme/app{i}:1" for i in range(size)]
        assert api.post(f"{base}/images", owner, [{"registryId": registry, "images": refs}]).status_code == 201
        for i in range(size):  # each deployment on a node of its own
            node = api.post(f"/api/{slug}/nodes", owner, {"name": f"edge{i}"}).json
            body = {"versionId": version, "nodeId": node["id"], "prefix": "web"}
            assert api.post(f"/api/{slug}/deployments", owner, body).status_code == 201
        counted.append((_calls(api, owner, base), _calls(api, owner, f"{base}/images")))
    (details_1, images_1), (details_6, images_6) = counted
    assert details_1.by_operation() == details_6.by_operation(), (details_1.summary(), details_6.summary())
    assert images_1.by_operation() == images_6.by_operation()
    # Project and version in one batch; images without the version's deployments.
    assert details_6.by_operation()["dynamodb:GetItem"] == 2  # team slug, membership
    assert images_6.by_operation()["dynamodb:Query"] == 1, images_6.summary()


def test_team_routes_read_the_team_and_the_membership_once(api, owner_and_team):
    owner, team = owner_and_team
    calls = _calls(api, owner, f"/api/teams/{team['id']}")
    assert calls.by_operation()["dynamodb:GetItem"] == 2, calls.summary()  # membership and team
    with recording() as calls:
        renamed = api.put(f"/api/teams/{team['id']}", owner, {"name": unique("Team "), "slug": unique("t")[:16]})
    assert renamed.status_code == 204
    assert calls.by_operation()["dynamodb:GetItem"] == 2, calls.summary()  # by the role check only


def test_the_deployment_log_reads_a_page_not_the_whole_log(api, owner_and_team, registry_item):
    from chalicelib.db import deployments as repo

    owner, team = owner_and_team
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    deployment = add_deployment(api, owner, slug, node["id"], registry_item(team))["id"]
    log = f"/api/{slug}/deployments/{deployment}/log"
    repo.add_events(deployment, [("log", {"log": [f"line {i}"]}) for i in range(2)], 1)
    small = _calls(api, owner, f"{log}?skip=0&take=5")
    repo.add_events(deployment, [("log", {"log": [f"line {i}"]}) for i in range(2, 40)], 1)
    large = _calls(api, owner, f"{log}?skip=0&take=5")
    assert small.by_operation() == large.by_operation()
    # `total` is exact where the log ends and one past the page when more follow
    assert api.get(f"{log}?skip=0&take=5", owner).json["total"] == 6
    last = api.get(f"{log}?skip=35&take=10", owner).json
    assert last["total"] == 40 and [i["log"] for i in last["items"]] == [[f"line {i}"] for i in range(5)]
    newest = api.get(f"{log}?skip=0&take=2", owner).json
    assert [i["log"] for i in newest["items"]] == [["line 38"], ["line 39"]]  # oldest first within the page
    assert api.get(f"{log}?skip=50&take=10", owner).json == {"items": [], "total": 40}


def test_a_version_holds_at_most_100_images(api, owner_and_team, registry_item):
    owner, team = owner_and_team
    slug = team["slug"]
    registry = registry_item(team)
    project = api.create_project(owner, slug, "versioned")["id"]
    version = api.create_version(owner, slug, project, kind="rolling")["id"]
    images = f"/api/{slug}/projects/{project}/versions/{version}/images"
    batch = [{"registryId": registry, "images": [f"acme/a{i}:1" for i in range(50)]}]
    assert api.post(images, owner, batch).status_code == 201
    more = [
        {"registryId": registry, "images": [f"acme/b{i}:1" for i in range(50)]},
        {"registryId": registry, "images": ["acme/c:1"]},
    ]
    refused = api.post(images, owner, more)
    assert refused.status_code == 400 and refused.json["property"] == "images" and refused.json["value"] == 51
    assert len(api.get(images, owner).json) == 50
