"""Caps that keep every list a documented answer embeds within one read (issue 16): a team's users, a
user's teams and unanswered invitations, a project's versions. A write past a cap is a 409
`{message, property, value}` that changes nothing, and removing one makes room again."""

from __future__ import annotations

from tests.conftest import unique


def invite(api, owner, team: dict, email: str):
    return api.post(f"/api/teams/{team['id']}/users", owner, {"email": email, "firstName": "P"})


def emails(api, owner, team: dict) -> list[str]:
    return sorted(user["email"] for user in api.get(f"/api/teams/{team['id']}", owner).json["users"])


def test_a_team_holds_at_most_users_per_team_members_and_invitations_together(api, monkeypatch):
    monkeypatch.setenv("USERS_PER_TEAM", "3")
    # GIVEN a team with its owner, a member and a pending invitation: 3 users
    owner = api.signup()
    team = api.create_team(owner)
    member = api.signup()
    assert invite(api, owner, team, member.email).status_code == 201
    assert api.post(f"/api/users/me/invitations/{team['id']}", member).status_code == 204
    pending, late = f"{unique()}@example.com", f"{unique()}@example.com"
    assert invite(api, owner, team, pending).status_code == 201
    full = emails(api, owner, team)
    # WHEN one more is invited
    refused = invite(api, owner, team, late)
    # THEN a 409 naming the cap, and the team is as it was
    assert refused.status_code == 409
    assert refused.json == {
        "message": "A team may hold at most 3 users, members and invitations together; remove one first.",
        "property": "users",
        "value": 3,
    }
    assert emails(api, owner, team) == full == sorted([owner.email, member.email, pending])
    assert api.get(f"/api/teams/{team['id']}", owner).json["statistics"]["users"] == 3
    # (inviting someone invited already is still the 409 on that address)
    assert invite(api, owner, team, pending).json["property"] == "email"
    # WHEN the invitation is withdrawn, THEN there is room for one
    pending_id = next(
        u["id"] for u in api.get(f"/api/teams/{team['id']}", owner).json["users"] if u["email"] == pending
    )
    assert api.delete(f"/api/teams/{team['id']}/users/{pending_id}", owner).status_code == 204
    assert invite(api, owner, team, late).status_code == 201
    assert invite(api, owner, team, pending).status_code == 409
    # AND a member leaving makes room too
    assert api.delete(f"/api/teams/{team['id']}/users/leave", member).status_code == 204
    assert invite(api, owner, team, pending).status_code == 201
    assert emails(api, owner, team) == sorted([owner.email, late, pending])


def test_a_user_is_in_at_most_teams_per_user_teams(api, monkeypatch):
    monkeypatch.setenv("TEAMS_PER_USER", "2")
    # GIVEN a user who owns two teams and is invited to a third
    user = api.signup()
    first, second = api.create_team(user), api.create_team(user)
    other = api.signup()
    third = api.create_team(other)
    assert invite(api, other, third, user.email).status_code == 201
    # WHEN they create another team or accept the invitation
    slug = unique("t")[:16]
    created = api.post("/api/teams", user, {"name": f"Team {slug}", "slug": slug})
    accepted = api.post(f"/api/users/me/invitations/{third['id']}", user)
    # THEN both are a 409 naming the cap, and nothing changed: no team, the invitation still pending
    expected = {
        "message": "A user may be a member of at most 2 teams; leave one first.",
        "property": "teams",
        "value": 2,
    }
    assert (created.status_code, created.json) == (409, expected)
    assert (accepted.status_code, accepted.json) == (409, expected)
    me = api.post("/api/users/me", user).json
    assert sorted(t["id"] for t in me["teams"]) == sorted([first["id"], second["id"]])
    assert [i["id"] for i in me["invitations"]] == [third["id"]]
    assert {u["email"]: u["status"] for u in api.get(f"/api/teams/{third['id']}", other).json["users"]} == {
        other.email: "verified",
        user.email: "pending",
    }
    # WHEN one of their teams is deleted, THEN they may join the third (its slug was never taken)
    assert api.delete(f"/api/teams/{first['id']}", user).status_code == 204
    assert api.post(f"/api/users/me/invitations/{third['id']}", user).status_code == 204
    assert api.post("/api/teams", user, {"name": f"Team {slug}", "slug": slug}).status_code == 409  # full again
    # AND when the team they joined is deleted by its owner, that counts for them too
    assert api.delete(f"/api/teams/{third['id']}", other).status_code == 204
    assert api.post("/api/teams", user, {"name": f"Team {slug}", "slug": slug}).status_code == 201
    assert len(api.post("/api/users/me", user).json["teams"]) == 2


def test_a_user_holds_at_most_open_invitations_per_user_unanswered_invitations(api, monkeypatch):
    monkeypatch.setenv("OPEN_INVITATIONS_PER_USER", "2")
    # GIVEN a user invited to two teams
    invitee = api.signup()
    owners = [api.signup() for _ in range(3)]
    teams = [api.create_team(owner) for owner in owners]
    for owner, team in zip(owners[:2], teams[:2], strict=True):
        assert invite(api, owner, team, invitee.email).status_code == 201
    # WHEN a third team invites them
    refused = invite(api, owners[2], teams[2], invitee.email)
    # THEN the inviter gets a 409 on the address, and nothing was written
    assert refused.status_code == 409
    assert refused.json == {
        "message": "The user holds 2 unanswered invitations, the most one user may; they must answer one first.",
        "property": "email",
        "value": invitee.email,
    }
    assert emails(api, owners[2], teams[2]) == [owners[2].email]
    assert sorted(i["id"] for i in api.post("/api/users/me", invitee).json["invitations"]) == sorted(
        t["id"] for t in teams[:2]
    )
    # WHEN they decline one, THEN there is room, and the team still sees the declined invitation
    assert api.delete(f"/api/users/me/invitations/{teams[0]['id']}", invitee).status_code == 204
    assert invite(api, owners[2], teams[2], invitee.email).status_code == 201
    users = api.get(f"/api/teams/{teams[0]['id']}", owners[0]).json["users"]
    assert {u["email"]: u["status"] for u in users}[invitee.email] == "declined"
    # AND inviting them again after the decline counts again (the cap is full)
    assert invite(api, owners[0], teams[0], invitee.email).status_code == 409
    # WHEN a team withdraws its invitation, THEN the declined one can be renewed
    assert api.delete(f"/api/teams/{teams[1]['id']}/users/{invitee.id}", owners[1]).status_code == 204
    assert invite(api, owners[0], teams[0], invitee.email).status_code == 201
    invited = api.post("/api/users/me", invitee).json["invitations"]
    assert sorted(i["id"] for i in invited) == sorted([teams[0]["id"], teams[2]["id"]])
    # AND accepting one makes room as well
    assert api.post(f"/api/users/me/invitations/{teams[2]['id']}", invitee).status_code == 204
    assert invite(api, owners[1], teams[1], invitee.email).status_code == 201


def test_a_project_holds_at_most_versions_per_project_versions(api, monkeypatch):
    monkeypatch.setenv("VERSIONS_PER_PROJECT", "2")
    # GIVEN a project with two versions, the second incremental
    owner = api.signup()
    slug = api.create_team(owner)["slug"]
    project = api.create_project(owner, slug)
    base = f"/api/{slug}/projects/{project['id']}"
    first = api.create_version(owner, slug, project["id"], kind="rolling")
    second = api.create_version(owner, slug, project["id"])
    # WHEN a third is created, or the incremental one increased
    created = api.post(f"{base}/versions", owner, {"type": "rolling", "name": "third"})
    increased = api.post(f"{base}/versions/{second['id']}/increase", owner, {"name": "third"})
    # THEN both are a 409 naming the cap, and the project is as it was (the name was not taken)
    expected = {
        "message": "A project may hold at most 2 versions; delete one first.",
        "property": "versions",
        "value": 2,
    }
    assert (created.status_code, created.json) == (409, expected)
    assert (increased.status_code, increased.json) == (409, expected)
    details = api.get(base, owner).json
    assert [v["id"] for v in details["versions"]] == [first["id"], second["id"]]
    assert api.get(f"{base}/versions/{second['id']}", owner).json["increasable"] is True
    # WHEN one is deleted, THEN there is room again
    assert api.delete(f"{base}/versions/{first['id']}", owner).status_code == 204
    assert api.post(f"{base}/versions/{second['id']}/increase", owner, {"name": "third"}).status_code == 201
    assert [v["name"] for v in api.get(base, owner).json["versions"]] == [second["name"], "third"]


def test_members_and_invitees_whose_account_is_gone_can_still_be_removed(api):
    from chalicelib.db import keys
    from chalicelib.db.items import BaseItem, UserItem

    # GIVEN a member and an invitee whose accounts an operator deleted
    owner = api.signup()
    team, other = api.create_team(owner), api.create_team(owner)
    member, invitee = api.signup(), api.signup()
    for t in (team, other):
        assert invite(api, owner, t, member.email).status_code == 201
        assert api.post(f"/api/users/me/invitations/{t['id']}", member).status_code == 204
        assert invite(api, owner, t, invitee.email).status_code == 201
    for user in (member, invitee):
        UserItem(keys.user(user.id), keys.PROFILE).delete()
    # WHEN the team removes them, THEN they go (there is no count of theirs to keep)
    for user in (member, invitee):
        assert api.delete(f"/api/teams/{team['id']}/users/{user.id}", owner).status_code == 204
    details = api.get(f"/api/teams/{team['id']}", owner).json
    assert ([u["id"] for u in details["users"]], details["statistics"]["users"]) == ([owner.id], 1)
    # AND a team holding them is deleted whole
    assert api.delete(f"/api/teams/{other['id']}", owner).status_code == 204
    assert [t["id"] for t in api.post("/api/users/me", owner).json["teams"]] == [team["id"]]
    assert BaseItem.count(keys.team(other["id"])) == 0
    assert UserItem.count(keys.user(member.id)) == 0  # no stub account was written
