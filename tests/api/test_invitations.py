"""Invitations: the e-mail with its accept link, accept, decline, expiry, reinvite."""

from __future__ import annotations

import re

from tests.conftest import sent_mail_to, unique


def drain_events(client) -> int:
    """Feeds everything on the events queue to the deployed worker, as Lambda would."""
    import boto3

    from chalicelib import settings

    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=settings.events_queue_name())["QueueUrl"]
    handled = 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return handled
        event = client.events.generate_sqs_event(
            message_bodies=[m["Body"] for m in messages], queue_name=settings.events_queue_name()
        )
        result = client.lambda_.invoke("on_event", event).payload
        assert result == {"batchItemFailures": []}
        for m in messages:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        handled += len(messages)


def invitation_mails(address: str) -> list:
    return [m for m in sent_mail_to(address) if m.subject.startswith("Invitation")]


def test_invitation_mails_the_accept_link_and_accepting_joins_the_team(api, client):
    owner = api.signup()
    team = api.create_team(owner)
    invitee = api.signup()
    invited = api.post(
        f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "Grace", "lastName": "Hopper"}
    )
    assert invited.status_code == 201
    assert invited.json == {
        "role": "user",
        "status": "pending",
        "email": invitee.email,
        "lastLogin": None,
        "id": invitee.id,
        "name": "Grace Hopper",
    }

    drain_events(client)
    [mail] = invitation_mails(invitee.email)
    assert team["name"] in mail.subject
    link = re.search(r"https?://\S+/api/users/me/invitations/(\S+)", mail.body)
    assert link and link.group(1) == team["id"]

    me = api.post("/api/users/me", invitee).json
    assert me["invitations"] == [{"id": team["id"], "name": team["name"], "slug": team["slug"]}]
    users = {u["id"]: u for u in api.get(f"/api/teams/{team['id']}", owner).json["users"]}
    assert users[invitee.id]["status"] == "pending"

    assert api.post(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 204
    me = api.post("/api/users/me", invitee).json
    assert me["invitations"] == [] and me["teams"][0]["id"] == team["id"] and me["teams"][0]["role"] == "user"
    users = {u["id"]: u for u in api.get(f"/api/teams/{team['id']}", owner).json["users"]}
    assert users[invitee.id]["status"] == "verified"


def test_inviting_a_member_or_a_pending_invitee_again_is_409(api):
    owner = api.signup()
    team = api.create_team(owner)
    email = f"{unique()}@example.com"
    assert api.post(f"/api/teams/{team['id']}/users", owner, {"email": email, "firstName": "A"}).status_code == 201
    again = api.post(f"/api/teams/{team['id']}/users", owner, {"email": email.upper(), "firstName": "A"})
    assert again.status_code == 409 and again.json["property"] == "email"
    self_invite = api.post(f"/api/teams/{team['id']}/users", owner, {"email": owner.email, "firstName": "A"})
    assert self_invite.status_code == 409


def test_declined_invitation_cannot_be_accepted_nor_reinvited(api):
    owner = api.signup()
    team = api.create_team(owner)
    invitee = api.signup()
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "D"})
    assert api.delete(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 204
    assert api.post(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 412
    users = {u["id"]: u for u in api.get(f"/api/teams/{team['id']}", owner).json["users"]}
    assert users[invitee.id]["status"] == "declined"
    assert api.post(f"/api/teams/{team['id']}/users/{invitee.id}/reinvite", owner).status_code == 412
    assert api.post("/api/users/me", invitee).json["invitations"] == []


def test_expired_invitation_gives_412_and_a_reinvite_makes_it_acceptable(api, client, monkeypatch):
    owner = api.signup()
    team = api.create_team(owner)
    invitee = api.signup()
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "E"})
    drain_events(client)

    monkeypatch.setenv("INVITATION_DAYS", "0")  # every invitation is now past its validity
    users = {u["id"]: u for u in api.get(f"/api/teams/{team['id']}", owner).json["users"]}
    assert users[invitee.id]["status"] == "expired"
    assert api.post(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 412
    monkeypatch.setenv("INVITATION_DAYS", "7")

    assert api.post(f"/api/teams/{team['id']}/users/{invitee.id}/reinvite", owner).status_code == 204
    drain_events(client)
    assert len(invitation_mails(invitee.email)) == 2
    assert api.post(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 204


def test_accepting_or_declining_without_an_invitation_is_404(api):
    owner = api.signup()
    team = api.create_team(owner)
    stranger = api.signup()
    assert api.post(f"/api/users/me/invitations/{team['id']}", stranger).status_code == 404
    assert api.delete(f"/api/users/me/invitations/{team['id']}", stranger).status_code == 404


def test_admin_can_withdraw_a_pending_invitation(api):
    owner = api.signup()
    team = api.create_team(owner)
    invitee = api.signup()
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "W"})
    assert api.delete(f"/api/teams/{team['id']}/users/{invitee.id}", owner).status_code == 204
    assert api.post(f"/api/users/me/invitations/{team['id']}", invitee).status_code == 404


def test_a_bad_event_message_is_reported_as_a_batch_failure(client):
    from chalicelib import settings

    event = client.events.generate_sqs_event(
        message_bodies=['{"type": "user-invited"}', "not json"], queue_name=settings.events_queue_name()
    )
    result = client.lambda_.invoke("on_event", event).payload
    assert len(result["batchItemFailures"]) == 2


def test_an_invitation_reveals_neither_the_real_name_nor_the_last_login_of_an_account(api):
    # GIVEN a registered user who has logged in, and an outsider's team
    target = api.signup(first="Alice", last="Real")
    outsider = api.signup()
    team = api.create_team(outsider)
    # WHEN the outsider invites the target's address
    invited = api.post(f"/api/teams/{team['id']}/users", outsider, {"email": target.email, "firstName": "X"})
    # THEN the reply and the team's list show only what the outsider typed
    assert invited.status_code == 201
    assert invited.json["name"] == "X" and invited.json["lastLogin"] is None
    listed = {u["id"]: u for u in api.get(f"/api/teams/{team['id']}", outsider).json["users"]}[target.id]
    assert listed["name"] == "X" and listed["lastLogin"] is None
    assert "Alice" not in invited.body


def test_a_stranger_signing_up_with_an_invited_address_gets_neither_the_account_nor_the_team(api):
    owner = api.signup()
    team = api.create_team(owner)
    victim = f"{unique('newhire')}@example.com"
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": victim, "firstName": "New"})
    # WHEN someone without the mailbox signs up with the invited address
    assert (
        api.post(
            "/api/auth/signup", body={"email": victim, "password": "attacker password", "firstName": "Eve"}
        ).status_code
        == 201
    )
    # THEN that password opens nothing, so the invitation cannot be accepted
    assert api.post("/api/auth/login", body={"email": victim, "password": "attacker password"}).status_code == 401


def test_invitation_mail_renders_names_as_plain_text_in_a_fixed_template(api, client):
    owner = api.signup(first="IT Security Desk", last=None)
    slug = unique("t")[:16]
    phishing = "Reset at https://evil.example/r"
    team = api.post("/api/teams", owner, {"name": phishing, "slug": slug}).json
    email = f"{unique()}@example.com"
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": email, "firstName": "A"})
    drain_events(client)
    [mail] = invitation_mails(email)
    assert "evil.example" not in mail.body and "https://evil" not in mail.body
    assert "evil.example" not in mail.subject
    assert "Reset at https evil example r" in mail.body
    assert "never asks for your password" in mail.body


def test_a_team_sends_a_limited_number_of_invitations_a_day(api, monkeypatch):
    owner = api.signup()
    team = api.create_team(owner)
    monkeypatch.setenv("INVITATIONS_PER_DAY", "2")
    for _ in range(2):
        invited = api.post(
            f"/api/teams/{team['id']}/users", owner, {"email": f"{unique()}@example.com", "firstName": "A"}
        )
        assert invited.status_code == 201
    over = api.post(f"/api/teams/{team['id']}/users", owner, {"email": f"{unique()}@example.com", "firstName": "A"})
    assert over.status_code == 429 and 0 < int(over.headers["Retry-After"]) <= 86400


def test_reinviting_the_same_person_waits_for_a_cooldown(api, monkeypatch):
    owner = api.signup()
    team = api.create_team(owner)
    invitee = api.signup()
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "R"})
    monkeypatch.setenv("REINVITE_COOLDOWN_MINUTES", "10")
    again = api.post(f"/api/teams/{team['id']}/users/{invitee.id}/reinvite", owner)
    assert again.status_code == 429 and 500 < int(again.headers["Retry-After"]) <= 601
