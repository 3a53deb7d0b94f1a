"""Personal access tokens: create, list, get, delete, and what a token can do afterwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import User


def pat_user(user: User, token: str) -> User:
    return User(user.id, user.email, user.password, token, user.name)


def test_generate_token_returns_it_once_and_it_authenticates(api):
    user = api.signup()
    created = api.post("/api/tokens", user, {"name": "ci", "expirationInDays": 30})
    assert created.status_code == 201
    body = created.json
    assert set(body) == {"id", "name", "expiresAt", "createdAt", "token"}
    assert created.headers["Location"].endswith(body["id"])
    assert api.get("/api/teams", pat_user(user, body["token"])).status_code == 200

    listed = api.get("/api/tokens", user).json
    assert [t["id"] for t in listed] == [body["id"]]
    assert "token" not in listed[0]
    one = api.get(f"/api/tokens/{body['id']}", user)
    assert one.status_code == 200 and "token" not in one.json
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)


def test_zero_days_means_never_expires(api):
    user = api.signup()
    body = api.post("/api/tokens", user, {"name": "forever", "expirationInDays": 0}).json
    assert body["expiresAt"] is None


def test_deleted_token_stops_working_at_once(api):
    user = api.signup()
    body = api.post("/api/tokens", user, {"name": "short-lived", "expirationInDays": 1}).json
    pat = pat_user(user, body["token"])
    assert api.get("/api/tokens", pat).status_code == 200
    assert api.delete(f"/api/tokens/{body['id']}", user).status_code == 204
    response = api.get("/api/tokens", pat)
    assert response.status_code == 401
    assert api.get(f"/api/tokens/{body['id']}", user).status_code == 404


def test_expired_personal_token_returns_401(api):
    from chalicelib.security import jwts

    user = api.signup()
    body = api.post("/api/tokens", user, {"name": "ci", "expirationInDays": 1}).json
    past = datetime.now(UTC) - timedelta(days=3)
    expired = jwts.issue(
        "pat", user.id, expires_at=past + timedelta(days=1), issued_at=past, jti=body["id"], email=user.email
    )
    assert api.get("/api/teams", pat_user(user, expired)).status_code == 401


def test_token_name_taken_returns_409_and_names_are_per_user(api):
    user, other = api.signup(), api.signup()
    assert api.post("/api/tokens", user, {"name": "deploy", "expirationInDays": 1}).status_code == 201
    taken = api.post("/api/tokens", user, {"name": "Deploy", "expirationInDays": 1})
    assert taken.status_code == 409 and taken.json["property"] == "name"
    assert api.post("/api/tokens", other, {"name": "deploy", "expirationInDays": 1}).status_code == 201


def test_another_users_token_is_not_found_and_cannot_be_deleted(api):
    user, other = api.signup(), api.signup()
    body = api.post("/api/tokens", user, {"name": "mine", "expirationInDays": 1}).json
    assert api.get(f"/api/tokens/{body['id']}", other).status_code == 404
    assert api.delete(f"/api/tokens/{body['id']}", other).status_code == 404
    assert api.get(f"/api/tokens/{body['id']}", user).status_code == 200


def test_bad_token_bodies_are_400(api):
    user = api.signup()
    for body in (
        {"name": "x", "expirationInDays": -1},
        {"name": "x"},
        {"expirationInDays": 1},
        {"name": "x", "expirationInDays": "5"},
        {"name": "", "expirationInDays": 1},
        {"name": "x", "expirationInDays": 1, "unknown": True},
    ):
        response = api.post("/api/tokens", user, body)
        assert response.status_code == 400, body
        assert response.json["message"]


def test_malformed_json_is_400(api):
    user = api.signup()
    response = api.post("/api/tokens", user, raw='{"name": "x",')
    assert response.status_code == 400
    assert response.json == {"message": "Malformed JSON body."}


def test_non_uuid_token_id_is_400(api):
    user = api.signup()
    response = api.get("/api/tokens/not-a-uuid", user)
    assert response.status_code == 400
    assert response.json["property"] == "tokenId"
