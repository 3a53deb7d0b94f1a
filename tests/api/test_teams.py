"""Teams: create, list, details, rename, delete, and the role rules around them."""

from __future__ import annotations

import pytest

from tests.conftest import unique


def test_create_team_makes_the_caller_owner_and_lists_it_with_statistics(api):
    owner = api.signup()
    slug = unique("t")[:16]
    created = api.post("/api/teams", owner, {"name": f"Acme {slug}", "slug": slug})
    assert created.status_code == 201
    team = created.json
    assert set(team) == {"statistics", "id", "name", "slug"}
    assert team["statistics"] == {"users": 1, "projects": 0, "nodes": 0, "versions": 0, "deployments": 0}
    assert created.headers["Location"] == f"/api/teams/{team['id']}"

    listed = api.get("/api/teams", owner).json
    assert [t["id"] for t in listed] == [team["id"]]
    me = api.post("/api/users/me", owner).json
    assert me["teams"] == [{"role": "owner", "id": team["id"], "name": team["name"], "slug": slug}]


def test_team_details_show_users_with_role_status_and_last_login(api):
    owner = api.signup()
    team = api.create_team(owner)
    details = api.get(f"/api/teams/{team['id']}", owner)
    assert details.status_code == 200
    [user] = details.json["users"]
    assert user["id"] == owner.id and user["role"] == "owner" and user["status"] == "verified"
    assert user["email"] == owner.email and user["name"] == "Ada Lovelace" and user["lastLogin"]


@pytest.mark.parametrize("field", ["name", "slug"])
def test_taken_team_name_or_slug_returns_409(api, field):
    owner, other = api.signup(), api.signup()
    team = api.create_team(owner)
    body = {"name": f"N {unique()}", "slug": unique("s")[:16]}
    body[field] = team[field].upper() if field == "name" else team[field]
    response = api.post("/api/teams", other, body)
    assert response.status_code == 409
    assert response.json["property"] == field


@pytest.mark.parametrize("slug", ["teams", "tokens", "users", "templates", "health", "auth", "agent", "api"])
def test_slugs_that_collide_with_routes_are_refused(api, module_user, slug):
    owner = module_user
    response = api.post("/api/teams", owner, {"name": f"Reserved {unique()}", "slug": slug})
    assert response.status_code == 400
    assert response.json["property"] == "slug"


@pytest.mark.parametrize("slug", ["ab", "x" * 17, "Upper", "has space", "ümlaut", "-lead", "trail-", 123])
def test_invalid_slugs_are_400(api, module_user, slug):
    owner = module_user
    response = api.post("/api/teams", owner, {"name": f"Bad {unique()}", "slug": slug})
    assert response.status_code == 400
    assert response.json["property"] == "slug"


def test_admin_renames_team_and_old_slug_is_free_again(api):
    owner = api.signup()
    team = api.create_team(owner)
    new_slug = unique("r")[:16]
    assert (
        api.put(f"/api/teams/{team['id']}", owner, {"name": "Renamed " + new_slug, "slug": new_slug}).status_code == 204
    )
    details = api.get(f"/api/teams/{team['id']}", owner).json
    assert details["slug"] == new_slug and details["name"] == "Renamed " + new_slug
    # The old slug and name can be taken by someone else now.
    other = api.signup()
    assert api.post("/api/teams", other, {"name": team["name"], "slug": team["slug"]}).status_code == 201
    # And the team is reachable by its new slug only.
    assert api.get(f"/api/{new_slug}/audit-log", owner).status_code == 200


def test_rename_to_a_taken_slug_is_409_and_changes_nothing(api):
    owner = api.signup()
    team, other_team = api.create_team(owner), api.create_team(owner)
    response = api.put(f"/api/teams/{team['id']}", owner, {"name": "Whatever " + unique(), "slug": other_team["slug"]})
    assert response.status_code == 409
    assert response.json == {"message": "Team slug taken.", "property": "slug", "value": other_team["slug"]}
    assert api.get(f"/api/teams/{team['id']}", owner).json["slug"] == team["slug"]


def test_owner_deletes_team_and_everything_goes(api):
    owner = api.signup()
    team = api.create_team(owner)
    assert api.delete(f"/api/teams/{team['id']}", owner).status_code == 204
    assert api.get(f"/api/teams/{team['id']}", owner).status_code == 404
    assert api.get("/api/teams", owner).json == []
    assert api.get(f"/api/{team['slug']}/audit-log", owner).status_code == 404
    # Slug and name are free again.
    assert api.post("/api/teams", owner, {"name": team["name"], "slug": team["slug"]}).status_code == 201


def add_member(api, owner, team, role="user"):
    member = api.signup()
    invited = api.post(f"/api/teams/{team['id']}/users", owner, {"email": member.email, "firstName": "M"})
    assert invited.status_code == 201, invited.body
    assert api.post(f"/api/users/me/invitations/{team['id']}", member).status_code == 204
    if role != "user":
        assert api.put(f"/api/teams/{team['id']}/users/{member.id}/role", owner, {"role": role}).status_code == 204
    return member


def test_plain_user_cannot_rename_delete_or_manage_members(api):
    owner = api.signup()
    team = api.create_team(owner)
    user = add_member(api, owner, team)
    tid = team["id"]
    assert (
        api.put(f"/api/teams/{tid}", user, {"name": "Hijack " + unique(), "slug": unique("h")[:16]}).status_code == 403
    )
    assert api.delete(f"/api/teams/{tid}", user).status_code == 403
    assert (
        api.post(f"/api/teams/{tid}/users", user, {"email": f"{unique()}@example.com", "firstName": "X"}).status_code
        == 403
    )
    assert api.put(f"/api/teams/{tid}/users/{owner.id}/role", user, {"role": "user"}).status_code == 403
    assert api.delete(f"/api/teams/{tid}/users/{owner.id}", user).status_code == 403
    assert api.post(f"/api/teams/{tid}/users/{owner.id}/reinvite", user).status_code == 403
    # ...but can read the team.
    assert api.get(f"/api/teams/{tid}", user).status_code == 200


def test_admin_manages_members_but_cannot_touch_the_owner_or_delete_the_team(api):
    owner = api.signup()
    team = api.create_team(owner)
    admin = add_member(api, owner, team, "admin")
    user = add_member(api, owner, team)
    tid = team["id"]
    assert api.put(f"/api/teams/{tid}/users/{owner.id}/role", admin, {"role": "user"}).status_code == 403
    assert api.delete(f"/api/teams/{tid}/users/{owner.id}", admin).status_code == 403
    assert api.put(f"/api/teams/{tid}/users/{user.id}/role", admin, {"role": "owner"}).status_code == 403
    assert api.delete(f"/api/teams/{tid}", admin).status_code == 403
    assert api.put(f"/api/teams/{tid}/users/{user.id}/role", admin, {"role": "admin"}).status_code == 204
    assert api.delete(f"/api/teams/{tid}/users/{user.id}", admin).status_code == 204
    assert api.get(f"/api/teams/{tid}", user).status_code == 404
    roles = {u["id"]: u["role"] for u in api.get(f"/api/teams/{tid}", owner).json["users"]}
    assert roles == {owner.id: "owner", admin.id: "admin"}


def test_owner_cannot_be_removed_or_leave(api):
    owner = api.signup()
    team = api.create_team(owner)
    assert api.delete(f"/api/teams/{team['id']}/users/{owner.id}", owner).status_code == 403
    assert api.delete(f"/api/teams/{team['id']}/users/leave", owner).status_code == 412
    assert api.put(f"/api/teams/{team['id']}/users/{owner.id}/role", owner, {"role": "user"}).status_code == 403


def test_member_leaves_team(api):
    owner = api.signup()
    team = api.create_team(owner)
    user = add_member(api, owner, team)
    assert api.delete(f"/api/teams/{team['id']}/users/leave", user).status_code == 204
    assert api.get("/api/teams", user).json == []
    assert api.get(f"/api/{team['slug']}/audit-log", user).status_code == 403


def test_unknown_role_and_unknown_user_are_rejected(api):
    owner = api.signup()
    team = api.create_team(owner)
    user = add_member(api, owner, team)
    bad = api.put(f"/api/teams/{team['id']}/users/{user.id}/role", owner, {"role": "superuser"})
    assert bad.status_code == 400 and bad.json["property"] == "role" and bad.json["value"] == "superuser"
    missing = api.put(
        f"/api/teams/{team['id']}/users/00000000-0000-4000-8000-000000000000/role", owner, {"role": "admin"}
    )
    assert missing.status_code == 404


def users_of(api, owner, team) -> tuple[int, int]:
    """The team's `users` statistic, as listed and in the details."""
    [listed] = [t for t in api.get("/api/teams", owner).json if t["id"] == team["id"]]
    details = api.get(f"/api/teams/{team['id']}", owner).json
    return listed["statistics"]["users"], details["statistics"]["users"]


def test_statistics_count_members_and_invitations(api):
    owner = api.signup()
    team = api.create_team(owner)
    add_member(api, owner, team)
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": f"{unique()}@example.com", "firstName": "P"})
    assert users_of(api, owner, team) == (3, 3)


def test_users_statistic_follows_invitations_joins_and_leaves(api):
    owner = api.signup()
    team = api.create_team(owner)
    tid = team["id"]
    joiner, decliner, dropped = api.signup(), api.signup(), api.signup()
    for user in (joiner, decliner, dropped):
        api.post(f"/api/teams/{tid}/users", owner, {"email": user.email, "firstName": "P"})
    assert users_of(api, owner, team) == (4, 4)
    # A renewed invitation is the same person: no one new.
    assert api.post(f"/api/teams/{tid}/users/{joiner.id}/reinvite", owner).status_code == 204
    assert api.post(f"/api/teams/{tid}/users", owner, {"email": joiner.email, "firstName": "P"}).status_code == 409
    assert users_of(api, owner, team) == (4, 4)
    # Accepting turns an invitation into a member; declining keeps it listed (as declined).
    assert api.post(f"/api/users/me/invitations/{tid}", joiner).status_code == 204
    assert api.delete(f"/api/users/me/invitations/{tid}", decliner).status_code == 204
    assert users_of(api, owner, team) == (4, 4)
    # Deleting an invitation, twice, and a member leaving or being removed count down once each.
    assert api.delete(f"/api/teams/{tid}/users/{dropped.id}", owner).status_code == 204
    assert api.delete(f"/api/teams/{tid}/users/{dropped.id}", owner).status_code == 404
    assert users_of(api, owner, team) == (3, 3)
    assert api.delete(f"/api/teams/{tid}/users/leave", joiner).status_code == 204
    assert api.delete(f"/api/teams/{tid}/users/{decliner.id}", owner).status_code == 204
    assert users_of(api, owner, team) == (1, 1)
    # A declined invitation replaced by a new one is still one person.
    api.post(f"/api/teams/{tid}/users", owner, {"email": decliner.email, "firstName": "P"})
    assert api.delete(f"/api/users/me/invitations/{tid}", decliner).status_code == 204
    assert api.post(f"/api/teams/{tid}/users", owner, {"email": decliner.email, "firstName": "P"}).status_code == 201
    assert users_of(api, owner, team) == (2, 2)
