"""Who is calling: login, logout and bearer-token authentication (sign-up is `services.accounts`).

Login tokens (`typ=session`) are short-lived and carry an id (`jti`) and the account's session
version (`sv`); personal access tokens (`typ=pat`) are checked against their stored item. Every
call reads the account too, so a logged-out session, a changed password, a deleted or disabled
account ends its tokens at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.db import keys, named
from chalicelib.db import tokens as token_repo
from chalicelib.db import users as user_repo
from chalicelib.db.items import DeploymentTokenItem
from chalicelib.errors import BadRequestError, ForbiddenError, UnauthorizedError
from chalicelib.models.auth import LoginRequest
from chalicelib.security import jwts, passwords
from chalicelib.services import throttle


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    name: str
    kind: str
    token_id: str | None = None
    deployment_id: str | None = None  # a deployment token: the one deployment it may start
    expires: int | None = None  # the token's `exp`


def login(request: LoginRequest, source: str) -> tuple[str, datetime]:
    """A session token; throttled per account and per source address (429 + Retry-After)."""
    email = request.email.strip().lower()
    user, counters = user_repo.get_by_email_with(email, throttle.counter_keys(email, source))
    had_failures = throttle.check(counters, email, source)
    if not passwords.verify_password(user.password_hash if user else None, request.password.get_secret_value()):
        throttle.record_failure(email, source)
        raise UnauthorizedError("Invalid e-mail or password.")
    if had_failures:
        throttle.record_success(email)
    if user.disabled:
        raise ForbiddenError("This account is disabled.")
    if not user.verified and settings.email_verification():
        raise ForbiddenError("Verify your e-mail address first: follow the link we mailed you.", property="email")
    now = ids.utcnow()
    expires_at = now + timedelta(hours=settings.session_hours())
    token = jwts.issue(
        "session",
        user.id,
        expires_at=expires_at,
        issued_at=now,
        email=user.email,
        name=user.name,
        jti=ids.new_id(),
        sv=int(user.session_version or 0),
    )
    user_repo.record_login(user, now)
    return token, expires_at


def logout(caller: Identity) -> None:
    """Ends the calling login session (personal tokens are deleted through /api/tokens instead)."""
    if caller.kind != "session" or not caller.token_id:
        raise BadRequestError("Only a login session logs out; delete a personal token at /api/tokens.")
    token_repo.revoke_session(caller.token_id, caller.expires or int(ids.utcnow().timestamp()) + 3600)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise UnauthorizedError("Missing bearer token.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("Missing bearer token.")
    return token.strip()


def authenticate(authorization: str | None, allow_deploy_token: bool = False) -> Identity:
    """A user's login or personal token; with `allow_deploy_token`, also a deployment token."""
    claims = jwts.verify(
        bearer_token(authorization), typ={"session", "pat", "deploy"} if allow_deploy_token else {"session", "pat"}
    )
    identity = Identity(
        user_id=claims["sub"],
        email=claims.get("email", ""),
        name=claims.get("name", ""),
        kind=claims["typ"],
        token_id=claims.get("jti"),
        deployment_id=claims.get("did"),
        expires=claims.get("exp"),
    )
    if identity.kind in ("session", "pat"):
        _check_account(identity, claims)
    if identity.kind == "pat" and (
        not identity.token_id or token_repo.get(identity.user_id, identity.token_id) is None
    ):
        raise UnauthorizedError("Token revoked.")
    if identity.kind == "deploy":
        stored = named.get(
            DeploymentTokenItem, str(claims.get("tid")), keys.deployment_token(str(identity.deployment_id))
        )
        if stored is None or stored.id != identity.token_id:
            raise UnauthorizedError("Token revoked.")
    return identity


def _check_account(identity: Identity, claims: dict) -> None:
    """The account still exists and is enabled; a session is neither logged out nor older than the
    account's last password change; a session without an expiry is no session we issued."""
    if identity.kind == "session" and identity.expires is None:
        raise UnauthorizedError("Invalid token.")
    user, logged_out = user_repo.with_revocation(
        identity.user_id, identity.token_id if identity.kind == "session" else None
    )
    if user is None or user.disabled or logged_out:
        raise UnauthorizedError("Token revoked.")
    if identity.kind == "session" and claims.get("sv", 0) != int(user.session_version or 0):
        raise UnauthorizedError("Token revoked.")
