"""Accounts whose address is proven: sign-up with a mailed verification link, password reset by
mail, password change.

A sign-up answers the same whatever the address: a new one gets an unverified account and a link,
an address with a pending sign-up or an invitation gets a link, a registered one gets a note that
someone tried. The password a sign-up chose waits in its link: whoever follows a link sets the
password, so signing up first with someone else's address (or an invited one) gains nothing.
`EMAIL_VERIFICATION=off` (throwaway local runs) creates accounts verified and mails nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from chalicelib import ids, settings
from chalicelib.adapters import mail
from chalicelib.db import counters, mail_tokens
from chalicelib.db import users as user_repo
from chalicelib.db.items import UserItem
from chalicelib.domain.mail_text import plain
from chalicelib.errors import BadRequestError, ConflictError, ForbiddenError
from chalicelib.models.auth import (
    ChangePasswordRequest,
    PasswordResetConfirmRequest,
    PasswordResetRequest,
    SignupRequest,
)
from chalicelib.security import passwords
from chalicelib.services import throttle

SIGNUP_MESSAGE = "Check your mailbox: we sent a link to finish the sign-up."
RESET_MESSAGE = "If an account has this address, we sent it a link to set a new password."
_BAD_LINK = "This link is invalid, used or expired; ask for a new one."


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _mail_link(purpose: str, user: UserItem, **pending: str | None) -> str:
    """A new single-use secret for `user`'s address, stored by its hash; returns the secret."""
    secret = secrets.token_urlsafe(32)
    expires_at = ids.utcnow() + timedelta(minutes=settings.mail_link_minutes())
    item = mail_tokens.new_item(_secret_hash(secret), purpose, user.id, user.email, expires_at)
    item.password_hash, item.first_name, item.last_name = (pending.get(k) for k in ("hash", "first", "last"))
    mail_tokens.put(item)
    return secret


def signup(request: SignupRequest) -> str:
    """Starts (or, with verification off, completes) a sign-up; returns the address it answered for."""
    password = request.password.get_secret_value()
    passwords.check_strength(password, request.email)
    password_hash = passwords.hash_password(password)
    email = request.email.strip().lower()
    verify = settings.email_verification()
    user = user_repo.new_item(
        ids.new_id(), email, request.first_name, request.last_name, password_hash, ids.utcnow(), verified=not verify
    )
    try:
        user_repo.create(user)
    except ConflictError:  # registered, invited or pending already: that account
        user = user_repo.get_by_email(email) or user
    if not verify:
        if user.password_hash is None:  # an invited placeholder: completed at once, as before verification
            user_repo.complete_signup(user.id, user.email, password_hash, request.first_name, request.last_name)
        return email
    if user.verified and user.password_hash is not None:
        _mail_someone_tried(user)
    else:
        secret = _mail_link("verify", user, hash=password_hash, first=request.first_name, last=request.last_name)
        _mail_verification(user, request.first_name, secret)
    return email


def verify(secret: str) -> None:
    """Proves the address of a pending sign-up: the account takes that sign-up's password and name."""
    item = mail_tokens.take(_secret_hash(secret))
    if item is None or item.purpose != "verify" or item.expires_at < ids.utcnow() or item.password_hash is None:
        raise BadRequestError(_BAD_LINK, property="token")
    if not user_repo.complete_signup(item.user_id, item.email, item.password_hash, item.first_name, item.last_name):
        raise BadRequestError("This link is used, or the address is verified already: log in.", property="token")


def request_password_reset(request: PasswordResetRequest) -> None:
    """Mails a reset link when the address has an account; answers the same when it has none."""
    user = user_repo.get_by_email(request.email)
    if user is None or user.disabled:
        passwords.hash_password(secrets.token_hex(8))  # about the time the link and mail take
        return
    secret = _mail_link("reset", user)
    mail.send(
        user.email,
        "Reset your password",
        "Someone (hopefully you) asked to reset the password of your account.\n\n"
        f"Set a new one within {settings.mail_link_minutes()} minutes (the link works once):\n"
        f"  POST {settings.public_url()}/api/auth/password-reset/confirm\n"
        f'  {{"token": "{secret}", "password": "<your new password>"}}\n\n'
        "If it was not you, ignore this mail: your password stays as it is.\n",
    )


def confirm_password_reset(request: PasswordResetConfirmRequest) -> None:
    item = mail_tokens.take(_secret_hash(request.token))
    if item is None or item.purpose != "reset" or item.expires_at < ids.utcnow():
        raise BadRequestError(_BAD_LINK, property="token")
    user = user_repo.get(item.user_id)
    if user is None or user.email != item.email or user.disabled:
        raise BadRequestError(_BAD_LINK, property="token")
    password = request.password.get_secret_value()
    passwords.check_strength(password, user.email)
    user_repo.change_password(user, passwords.hash_password(password))


def change_password(user_id: str, request: ChangePasswordRequest, source: str) -> None:
    """Needs the current password (guesses are throttled like logins); every session issued
    before ends, this one included (log in again)."""
    user = user_repo.get(user_id)
    if user is None:
        raise ForbiddenError("The current password is wrong.", property="currentPassword")
    throttle.check(counters.read(throttle.counter_keys(user.email, source)), user.email, source)
    if not passwords.verify_password(user.password_hash, request.current_password.get_secret_value()):
        throttle.record_failure(user.email, source)
        raise ForbiddenError("The current password is wrong.", property="currentPassword")
    password = request.new_password.get_secret_value()
    passwords.check_strength(password, user.email)
    user_repo.change_password(user, passwords.hash_password(password))


def _mail_verification(user: UserItem, first_name: str, secret: str) -> None:
    link = f"{settings.public_url()}/api/auth/verify?token={secret}"
    mail.send(
        user.email,
        "Verify your e-mail address",
        f"Hello {plain(first_name)},\n\n"
        "Follow this link to verify your address and finish the sign-up "
        f"(it works once, within {settings.mail_link_minutes()} minutes):\n{link}\n\n"
        "If you did not sign up, ignore this mail: nothing happens without the link.\n",
    )


def _mail_someone_tried(user: UserItem) -> None:
    mail.send(
        user.email,
        "Someone tried to sign up with your address",
        "Someone tried to create an account with this address, which already has one.\n\n"
        f"If it was you, log in at {settings.public_url()} or reset your password:\n"
        f'  POST {settings.public_url()}/api/auth/password-reset {{"email": "{user.email}"}}\n\n'
        "If it was not you, ignore this mail: your account is unchanged.\n",
    )
