"""Identities are proven: sign-up verification by mail, password rules, password change and reset."""

from __future__ import annotations

import re

import pytest

from tests.conftest import mailed_token, sent_mail_to, unique

PASSWORD = "correct horse battery"


def signup(api, email: str, password: str = PASSWORD, first: str = "Ada"):
    return api.post("/api/auth/signup", body={"email": email, "password": password, "firstName": first})


def login(api, email: str, password: str = PASSWORD):
    return api.post("/api/auth/login", body={"email": email, "password": password})


def test_signup_mails_a_link_and_the_account_logs_in_only_after_it_is_followed(api):
    email = f"{unique()}@example.com"
    # WHEN someone signs up
    assert signup(api, email).status_code == 201
    # THEN the address gets a verification link, and the account cannot log in yet (a clear 403)
    [mail] = sent_mail_to(email)
    assert mail.subject == "Verify your e-mail address"
    assert re.search(r"http://\S+/api/auth/verify\?token=[\w-]+", mail.body)
    early = login(api, email)
    assert early.status_code == 403 and "verify" in early.json["message"].lower()
    # WHEN the owner follows the link (the GET a person clicks)
    clicked = api.get(f"/api/auth/verify?token={mailed_token(email)}")
    # THEN it says so, and the login works
    assert clicked.status_code == 200 and "verified" in clicked.body
    assert login(api, email).status_code == 200


def test_a_verification_link_works_once(api):
    email = f"{unique()}@example.com"
    signup(api, email)
    token = mailed_token(email)
    assert api.post("/api/auth/verify", body={"token": token}).status_code == 204
    again = api.post("/api/auth/verify", body={"token": token})
    assert again.status_code == 400 and again.json["property"] == "token"
    assert token not in again.body


def test_an_expired_verification_link_is_refused(api):
    from chalicelib import ids
    from chalicelib.db import keys
    from chalicelib.db.items import MailTokenItem
    from chalicelib.services.accounts import _secret_hash

    email = f"{unique()}@example.com"
    signup(api, email)
    token = mailed_token(email)
    # GIVEN the link's time has passed (white-box: its stored expiry moved back)
    item = MailTokenItem.get(keys.mail_token(_secret_hash(token)), keys.MAIL_TOKEN)
    item.update(actions=[MailTokenItem.expires_at.set(ids.utcnow().replace(year=2020))])
    assert api.post("/api/auth/verify", body={"token": token}).status_code == 400
    assert login(api, email).status_code == 403


def test_whoever_proves_the_address_sets_the_password_not_whoever_signed_up_first(api):
    victim = f"{unique()}@example.com"
    # GIVEN a squatter signed up first with someone else's address (and cannot read its mail)
    signup(api, victim, password="squatter password 1", first="Eve")
    # WHEN the owner signs up too and follows the link mailed to them
    signup(api, victim, password="owner password 22", first="Ada")
    api.verify(victim)
    # THEN the owner's password opens the account, the squatter's does not
    assert login(api, victim, "owner password 22").status_code == 200
    assert login(api, victim, "squatter password 1").status_code == 401


def test_an_older_link_cannot_reset_a_verified_account(api):
    email = f"{unique()}@example.com"
    signup(api, email, password="first password 1")
    first_link = mailed_token(email)
    signup(api, email, password="second password 2")
    api.verify(email)
    assert api.post("/api/auth/verify", body={"token": first_link}).status_code == 400
    assert login(api, email, "second password 2").status_code == 200


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "common"),
        ("12345678", "common"),
        ("qwertyui", "common"),
        ("aaaaaaaa", "different characters"),
        ("        ", "different characters"),
        ("short", "8 characters"),
    ],
)
def test_weak_passwords_are_400_and_not_echoed(api, password, why):
    response = signup(api, f"{unique()}@example.com", password=password)
    assert response.status_code == 400 and response.json["property"] == "password"
    assert why in response.json["message"] or "at least" in response.json["message"]
    assert "value" not in response.json


def test_a_password_equal_to_the_address_is_400(api):
    email = f"{unique()}@example.com"
    response = signup(api, email, password=email)
    assert response.status_code == 400 and "e-mail" in response.json["message"]


def test_change_password_needs_the_current_one_and_ends_older_sessions(api):
    user = api.signup()
    wrong = api.put("/api/users/me/password", user, {"currentPassword": "not it at all", "newPassword": "new pw 12345"})
    assert wrong.status_code == 403 and wrong.json["property"] == "currentPassword"
    weak = api.put("/api/users/me/password", user, {"currentPassword": user.password, "newPassword": "password1"})
    assert weak.status_code == 400
    changed = api.put("/api/users/me/password", user, {"currentPassword": user.password, "newPassword": "new pw 12345"})
    assert changed.status_code == 204
    # THEN the old session ends, the old password fails and the new one works
    assert api.get("/api/teams", user).status_code == 401
    assert login(api, user.email, user.password).status_code == 401
    assert login(api, user.email, "new pw 12345").status_code == 200


def test_password_reset_mails_a_single_use_link_and_answers_the_same_for_unknown_addresses(api):
    user = api.signup()
    unknown = f"{unique()}@example.com"
    known = api.post("/api/auth/password-reset", body={"email": user.email})
    other = api.post("/api/auth/password-reset", body={"email": unknown})
    assert (known.status_code, known.body) == (other.status_code, other.body) == (204, "")
    assert sent_mail_to(unknown) == []
    token = mailed_token(user.email)
    body = {"token": token, "password": "reset pw 98765"}
    assert api.post("/api/auth/password-reset/confirm", body=body).status_code == 204
    assert api.post("/api/auth/password-reset/confirm", body=body).status_code == 400
    assert api.get("/api/teams", user).status_code == 401  # sessions from before the reset end
    assert login(api, user.email, "reset pw 98765").status_code == 200
    assert login(api, user.email, user.password).status_code == 401


def test_a_verify_token_is_no_reset_token(api):
    email = f"{unique()}@example.com"
    signup(api, email)
    response = api.post(
        "/api/auth/password-reset/confirm", body={"token": mailed_token(email), "password": "x pw 98765"}
    )
    assert response.status_code == 400
