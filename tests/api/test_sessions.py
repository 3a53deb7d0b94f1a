"""Sessions: login throttling per account and per source address, logout, and tokens of deleted or
disabled accounts."""

from __future__ import annotations

import time

import pytest

from tests.conftest import unique


def login(api, email: str, password: str):
    return api.post("/api/auth/login", body={"email": email, "password": password})


@pytest.fixture()
def fresh_source_counter():
    """The in-process client calls from one address (127.0.0.1): each test here starts and ends
    with that address's failure counter cleared, so other tests' logins are not throttled."""
    from chalicelib.db import counters
    from chalicelib.services import throttle

    counters.clear(throttle.SOURCE_KIND, "127.0.0.1")
    yield
    counters.clear(throttle.SOURCE_KIND, "127.0.0.1")


def test_failed_logins_are_throttled_per_account_with_a_growing_retry_after(api, fresh_source_counter):
    from chalicelib.services import throttle

    user = api.signup()
    # GIVEN the free failures are spent
    for _ in range(throttle.ACCOUNT.free_failures):
        assert login(api, user.email, "wrong password 1").status_code == 401
    # THEN the next try is 429 with Retry-After, even with the right password
    blocked = login(api, user.email, user.password)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "1"
    assert user.password not in blocked.body
    # WHEN the wait is over and another guess fails, the wait doubles
    time.sleep(1.1)
    assert login(api, user.email, "wrong password 2").status_code == 401
    assert login(api, user.email, user.password).headers.get("Retry-After") == "2"
    # AND the owner gets in once the wait is over, which clears the account's counter
    time.sleep(2.1)
    assert login(api, user.email, user.password).status_code == 200
    assert login(api, user.email, "wrong password 3").status_code == 401  # counting starts again


def test_an_account_block_is_capped_at_a_few_minutes(api, fresh_source_counter):
    from chalicelib.db import counters
    from chalicelib.services import throttle

    user = api.signup()
    # GIVEN many failures recorded for the account (white-box: its counter set high)
    for _ in range(throttle.ACCOUNT.free_failures + 30):
        counters.add(throttle.ACCOUNT.kind, user.email, int(time.time()) + 900)
    throttle.record_failure(user.email, "192.0.2.1")
    counters.clear(throttle.SOURCE_KIND, "192.0.2.1")
    blocked = login(api, user.email, user.password)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) <= throttle.ACCOUNT.max_block_seconds


def test_failed_logins_are_throttled_per_source_address_across_accounts(api, fresh_source_counter):
    from chalicelib import settings

    user = api.signup()
    # GIVEN one address guessing many different accounts (each below its own limit)
    for _ in range(settings.login_failures_per_source()):
        assert login(api, f"{unique()}@example.com", "guess guess 1").status_code == 401
    # THEN that address is throttled, for any account
    blocked = login(api, user.email, user.password)
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1


def test_logout_revokes_the_session_token_and_only_it(api):
    user = api.signup()
    other = login(api, user.email, user.password).json["token"]
    assert api.post("/api/auth/logout", user).status_code == 204
    assert api.get("/api/teams", user).status_code == 401
    assert api.get("/api/teams", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_logout_with_a_personal_token_is_400(api):
    user = api.signup()
    pat = api.post("/api/tokens", user, {"name": unique("t"), "expirationInDays": 1}).json["token"]
    response = api.post("/api/auth/logout", headers={"Authorization": f"Bearer {pat}"})
    assert response.status_code == 400
    assert api.get("/api/teams", headers={"Authorization": f"Bearer {pat}"}).status_code == 200


def test_tokens_of_a_deleted_or_disabled_account_stop_working(api):
    from chalicelib.db import users
    from chalicelib.db.items import UserItem

    deleted, disabled = api.signup(), api.signup()
    pat = api.post("/api/tokens", deleted, {"name": unique("t"), "expirationInDays": 1}).json["token"]
    # WHEN one account's profile is deleted and the other is disabled (no route does either yet)
    users.get(deleted.id).delete()
    users.get(disabled.id).update(actions=[UserItem.disabled.set(True)])
    # THEN their session and personal tokens are 401, and the disabled one cannot log in
    assert api.get("/api/teams", deleted).status_code == 401
    assert api.get("/api/teams", headers={"Authorization": f"Bearer {pat}"}).status_code == 401
    assert api.get("/api/teams", disabled).status_code == 401
    assert login(api, disabled.email, disabled.password).status_code == 403


def test_a_session_token_for_an_unknown_user_is_401(api):
    from chalicelib import ids
    from chalicelib.security import jwts

    now = ids.utcnow()
    token = jwts.issue("session", ids.new_id(), expires_at=now.replace(year=now.year + 1), issued_at=now)
    assert (
        api.post(
            "/api/teams", headers={"Authorization": f"Bearer {token}"}, body={"name": "x", "slug": "x"}
        ).status_code
        == 401
    )


def test_a_session_token_without_an_expiry_is_401(api):
    from chalicelib import ids
    from chalicelib.security import jwts

    user = api.signup()
    token = jwts.issue("session", user.id, expires_at=None, issued_at=ids.utcnow(), email=user.email)
    assert api.get("/api/teams", headers={"Authorization": f"Bearer {token}"}).status_code == 401
