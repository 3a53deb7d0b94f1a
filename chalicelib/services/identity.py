"""Who is calling: sign-up, login and bearer-token authentication.

Login tokens (`typ=session`) are stateless and short-lived; personal access tokens
(`typ=pat`) are checked against their stored item on every call, so deleting one
revokes it at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.db import keys, named
from chalicelib.db import tokens as token_repo
from chalicelib.db import users as user_repo
from chalicelib.db.items import DeploymentTokenItem, UserItem
from chalicelib.errors import UnauthorizedError
from chalicelib.models.auth import LoginRequest, SignupRequest
from chalicelib.security import jwts, passwords


@dataclass(frozen=True)
class Identity:
    user_id: str
    email: str
    name: str
    kind: str
    token_id: str | None = None
    deployment_id: str | None = None  # a deployment token: the one deployment it may start


def signup(request: SignupRequest) -> UserItem:
    """Creates an account, or completes one that an invitation created for this e-mail."""
    password_hash = passwords.hash_password(request.password.get_secret_value())
    existing = user_repo.get_by_email(request.email)
    if existing is not None and existing.password_hash is None:
        user_repo.set_password(existing, password_hash, request.first_name, request.last_name)
        existing.first_name, existing.last_name = request.first_name, request.last_name
        return existing
    user = user_repo.new_item(
        ids.new_id(), request.email, request.first_name, request.last_name, password_hash, ids.utcnow()
    )
    user_repo.create(user)
    return user


def login(request: LoginRequest) -> tuple[str, datetime]:
    user = user_repo.get_by_email(request.email)
    if not passwords.verify_password(user.password_hash if user else None, request.password.get_secret_value()):
        raise UnauthorizedError("Invalid e-mail or password.")
    now = ids.utcnow()
    expires_at = now + timedelta(hours=settings.session_hours())
    token = jwts.issue("session", user.id, expires_at=expires_at, issued_at=now, email=user.email, name=user.name)
    user_repo.record_login(user, now)
    return token, expires_at


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
    )
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
