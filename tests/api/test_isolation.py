"""Team isolation: a member of team B gets 403/404 on every team A route, never A's data."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import unique

BODIES = {
    ("PUT", "/api/teams/{teamId}"): lambda: {"name": "Takeover " + unique(), "slug": unique("k")[:16]},
    ("POST", "/api/teams/{teamId}/users"): lambda: {"email": f"{unique()}@example.com", "firstName": "Z"},
    ("PUT", "/api/teams/{teamId}/users/{userId}/role"): lambda: {"role": "admin"},
}


def team_routes():
    import app  # noqa: F401 - registers the routes

    from chalicelib.api.routing import ROUTES

    return [r for r in ROUTES if "{teamSlug}" in r.path or "{teamId}" in r.path]


@pytest.fixture(scope="module")
def two_teams(app_module):
    from chalice.test import Client

    from tests.conftest import Api

    with Client(app_module.app) as c:
        api = Api(c)
        owner_a, owner_b = api.signup(), api.signup()
        team_a, team_b = api.create_team(owner_a), api.create_team(owner_b)
        invitee = api.signup()
        api.post(f"/api/teams/{team_a['id']}/users", owner_a, {"email": invitee.email, "firstName": "I"})
        yield owner_a, team_a, owner_b, team_b, invitee


def test_every_team_route_is_covered():
    paths = {(r.method, r.path) for r in team_routes()}
    assert ("GET", "/api/{teamSlug}/audit-log") in paths and ("DELETE", "/api/teams/{teamId}") in paths


@pytest.mark.parametrize("route", team_routes(), ids=lambda r: f"{r.method} {r.path}")
def test_member_of_another_team_gets_403_or_404_and_no_data(api, two_teams, route):
    owner_a, team_a, owner_b, team_b, invitee = two_teams
    path = route.path.replace("{teamSlug}", team_a["slug"]).replace("{teamId}", team_a["id"])
    path = path.replace("{userId}", invitee.id)
    path = re.sub(r"\{\w+Id\}", "00000000-0000-4000-8000-000000000000", path)
    if path.startswith("/api/users/me/"):
        pytest.skip("acts on the caller's own invitations, covered in test_invitations")
    body = BODIES.get((route.method, route.path), lambda: None)()
    response = api.call(route.method, path, owner_b, body=body)
    assert response.status_code in (403, 404), response.body
    for secret in (team_a["name"], owner_a.email, invitee.email):
        assert secret not in response.body
    # Nothing changed for team A.
    details = api.get(f"/api/teams/{team_a['id']}", owner_a)
    assert details.status_code == 200
    assert details.json["name"] == team_a["name"]
    assert {u["email"] for u in details.json["users"]} == {owner_a.email, invitee.email}


def test_team_lists_never_show_other_teams(api, two_teams):
    owner_a, team_a, owner_b, team_b, _ = two_teams
    assert team_a["id"] not in json.dumps(api.get("/api/teams", owner_b).json)
    assert team_a["id"] not in json.dumps(api.post("/api/users/me", owner_b).json)
