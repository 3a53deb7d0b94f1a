"""Sign-up, login and bearer-token authentication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from tests.conftest import unique


def test_signup_then_login_returns_a_token_that_authenticates(api):
    user = api.signup()
    me = api.post("/api/users/me", user)
    assert me.status_code == 200
    assert me.json["user"] == {"id": user.id, "name": "Ada Lovelace"}


def test_signup_with_taken_email_returns_409(api):
    user = api.signup()
    again = api.post(
        "/api/auth/signup", body={"email": user.email.upper(), "password": "another password", "firstName": "Eve"}
    )
    assert again.status_code == 409
    assert again.json["property"] == "email"


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


def test_invited_user_can_complete_signup_with_the_invited_email(api):
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
    assert signed.json["id"] == invited.json["id"]
    # ... but only once: the account now has a password.
    again = api.post("/api/auth/signup", body={"email": email, "password": "another one!", "firstName": "Mallory"})
    assert again.status_code == 409
