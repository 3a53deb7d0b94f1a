"""Identities are proven, on the `make run` stack over HTTP (verification on, as `make run` has it):
sign-up → mail (read from the stack's log, as a person running it locally would) → verify → login,
no account enumeration, login throttling with Retry-After, logout."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from tests.fixtures.local_stack import running_local_stack

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def stack():
    with running_local_stack(env={"EMAIL_VERIFICATION": "on"}) as running:
        yield running


def address(prefix: str = "id") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


def post(stack, path: str, body: dict, token: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(stack.url + path, json=body, headers=headers, timeout=30)


def logged_mail(stack, email: str, subject: str) -> str:
    """The link the stack logged for the newest mail to `email` with `subject` (waits for the log)."""
    pattern = re.compile(rf"mail to {re.escape(email)}: {re.escape(subject)} (\S+)")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = pattern.findall(stack.log())
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no logged mail {subject!r} to {email}")


def signed_up(stack, email: str) -> str:
    """A verified account's session token, through the whole flow."""
    assert (
        post(stack, "/api/auth/signup", {"email": email, "password": PASSWORD, "firstName": "Ada"}).status_code == 201
    )
    assert requests.get(logged_mail(stack, email, "Verify your e-mail address"), timeout=30).status_code == 200
    login = post(stack, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["token"]


def test_signup_mails_a_link_that_must_be_followed_before_login(stack):
    email = address()
    # WHEN someone signs up
    reply = post(stack, "/api/auth/signup", {"email": email, "password": PASSWORD, "firstName": "Ada"})
    assert reply.status_code == 201 and reply.json()["email"] == email
    # THEN no login yet, with a message that says why
    early = post(stack, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert early.status_code == 403 and "verify" in early.json()["message"].lower()
    # WHEN the link the stack logged is clicked
    link = logged_mail(stack, email, "Verify your e-mail address")
    assert link.startswith(f"{stack.url}/api/auth/verify?token=")
    clicked = requests.get(link, timeout=30)
    assert clicked.status_code == 200 and "verified" in clicked.text
    # THEN the login works and the token authenticates; the link does not work twice
    login = post(stack, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert login.status_code == 200
    me = post(stack, "/api/users/me", {}, token=login.json()["token"])
    assert me.status_code == 200
    assert requests.get(link, timeout=30).status_code == 400


def test_signup_does_not_tell_a_registered_address_from_a_new_one(stack):
    registered = address("reg")
    signed_up(stack, registered)
    new = address("new")
    taken = post(stack, "/api/auth/signup", {"email": registered, "password": "other password 1", "firstName": "E"})
    fresh = post(stack, "/api/auth/signup", {"email": new, "password": "other password 1", "firstName": "E"})
    assert taken.status_code == fresh.status_code == 201
    assert {**taken.json(), "email": ""} == {**fresh.json(), "email": ""}
    assert set(taken.headers) - {"Date"} == set(fresh.headers) - {"Date"}
    # the owner of the registered address is told by mail instead
    logged_mail(stack, registered, "Someone tried to sign up with your address")


def test_failed_logins_get_429_with_a_growing_retry_after_and_the_owner_gets_back_in(stack):
    email = address("thr")
    signed_up(stack, email)
    for _ in range(5):
        assert post(stack, "/api/auth/login", {"email": email, "password": "wrong password 1"}).status_code == 401
    first = post(stack, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert post(stack, "/api/auth/login", {"email": email, "password": "wrong password 2"}).status_code == 401
    second = post(stack, "/api/auth/login", {"email": email, "password": PASSWORD})
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"
    time.sleep(2.1)
    assert post(stack, "/api/auth/login", {"email": email, "password": PASSWORD}).status_code == 200


def test_logout_revokes_the_session_token(stack):
    token = signed_up(stack, address("out"))
    assert requests.get(stack.url + "/api/teams", headers={"Authorization": f"Bearer {token}"}, timeout=30).ok
    assert post(stack, "/api/auth/logout", {}, token=token).status_code == 204
    after = requests.get(stack.url + "/api/teams", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert after.status_code == 401


def test_a_password_reset_link_from_the_log_sets_a_new_password_once(stack):
    email = address("rst")
    signed_up(stack, email)
    assert post(stack, "/api/auth/password-reset", {"email": email}).status_code == 204
    assert post(stack, "/api/auth/password-reset", {"email": address("nobody")}).status_code == 204
    assert "/api/auth/password-reset/confirm" in logged_mail(stack, email, "Reset your password")
    [secret] = re.findall(rf'mail to {re.escape(email)}: Reset your password \S+ "token": "([\w-]+)"', stack.log())
    body = {"token": secret, "password": "brand new pw 42"}
    assert post(stack, "/api/auth/password-reset/confirm", body).status_code == 204
    assert post(stack, "/api/auth/password-reset/confirm", body).status_code == 400
    assert post(stack, "/api/auth/login", {"email": email, "password": "brand new pw 42"}).status_code == 200
