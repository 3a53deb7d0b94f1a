"""Sign-up, login and bearer-token authentication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from tests.conftest import sent_mail_to, unique


def test_signup_then_login_returns_a_token_that_authenticates(api):
    user = api.signup()
    me = api.post("/api/users/me", user)
    assert me.status_code == 200
    assert me.json["user"] == {"id": user.id, "name": "Ada Lovelace"}


def test_signup_answers_the_same_for_a_registered_and_a_new_address(api):
    # GIVEN a registered address and a new one
    user = api.signup()
    new = f"{unique()}@example.com"
    # WHEN both are signed up for
    taken = api.post(
        "/api/auth/signup", body={"email": user.email.upper(), "password": "another password", "firstName": "Eve"}
    )
    fresh = api.post("/api/auth/signup", body={"email": new, "password": "another password", "firstName": "Eve"})
    # THEN the answers differ only by the address they name, and the owner is told by mail
    assert (taken.status_code, fresh.status_code) == (201, 201)
    assert {**taken.json, "email": "-"} == {**fresh.json, "email": "-"}
    assert "Location" not in taken.headers and "Location" not in fresh.headers
    assert sent_mail_to(user.email)[-1].subject == "Someone tried to sign up with your address"
    # AND the registered password still works, the other one does not
    assert api.post("/api/auth/login", body={"email": user.email, "password": user.password}).status_code == 200
    assert api.post("/api/auth/login", body={"email": user.email, "password": "another password"}).status_code == 401


def test_password_is_stored_hashed_never_in_plain(api):
    from chalicelib.db import users

    user = api.signup(password="my very secret pw")
    item = users.get(user.id)
    assert item.password_hash.startswith("$argon2id$")
    assert "my very secret pw" not in item.password_hash


def test_login_with_wrong_password_returns_401_without_echoing_it(api):
    user = api.signup()
    response = api.post("/api/auth/login", body={"email": user.email, "password": "wrong-password-123"})
    assert response.status_code == 401
    assert "wrong-password-123" not in response.body


def test_login_of_unknown_email_returns_401(api):
    response = api.post("/api/auth/login", body={"email": f"{unique()}@example.com", "password": "whatever1"})
    assert response.status_code == 401


def test_short_password_is_400_and_the_password_is_not_echoed(api):
    response = api.post(
        "/api/auth/signup", body={"email": f"{unique()}@example.com", "password": "short", "firstName": "A"}
    )
    assert response.status_code == 400
    assert response.json["property"] == "password"
    assert "short" not in response.body.replace("should", "")


def test_missing_token_returns_401(api):
    response = api.get("/api/teams")
    assert response.status_code == 401
    assert response.json["message"]


def test_garbage_and_foreign_signed_tokens_return_401(api):
    assert api.get("/api/teams", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    forged = jwt.encode(
        {"sub": "x", "typ": "session", "iat": 0, "iss": "dyrector-serverless"}, "k" * 40, algorithm="HS256"
    )
    assert api.get("/api/teams", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert api.get("/api/teams", headers={"Authorization": "Basic abc"}).status_code == 401


def test_expired_session_token_returns_401(api):
    from chalicelib.security import jwts

    user = api.signup()
    past = datetime.now(UTC) - timedelta(hours=2)
    token = jwts.issue("session", user.id, expires_at=past + timedelta(hours=1), issued_at=past, email=user.email)
    response = api.get("/api/teams", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert "expired" in response.json["message"].lower()


def test_invited_user_completes_signup_only_by_proving_the_invited_address(api):
    owner = api.signup()
    team = api.create_team(owner)
    email = f"{unique('inv')}@example.com"
    invited = api.post(f"/api/teams/{team['id']}/users", owner, {"email": email, "firstName": "Grace"})
    assert invited.status_code == 201
    signed = api.post(
        "/api/auth/signup",
        body={"email": email, "password": "a long password", "firstName": "Grace", "lastName": "Hopper"},
    )
    assert signed.status_code == 201
    # The sign-up alone completes nothing: no login until the mailed link is followed.
    assert api.post("/api/auth/login", body={"email": email, "password": "a long password"}).status_code == 401
    api.verify(email)
    login = api.post("/api/auth/login", body={"email": email, "password": "a long password"})
    assert login.status_code == 200
    me = api.post("/api/users/me", headers={"Authorization": f"Bearer {login.json['token']}"}).json
    assert me["user"] == {"id": invited.json["id"], "name": "Grace Hopper"}
    assert [t["id"] for t in me["invitations"]] == [team["id"]]
    # ... and only once: a later sign-up with the address changes nothing.
    again = api.post("/api/auth/signup", body={"email": email, "password": "another one!", "firstName": "Mallory"})
    assert again.status_code == 201
    assert api.post("/api/auth/login", body={"email": email, "password": "another one!"}).status_code == 401
