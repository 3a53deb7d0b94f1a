"""Personal access tokens: for CI and scripts that call the API without a login."""

from __future__ import annotations

from datetime import timedelta

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db import tokens as token_repo
from chalicelib.db.items import TokenItem
from chalicelib.errors import found_or_404
from chalicelib.models.paging import Page, PageQuery
from chalicelib.models.tokens import GenerateTokenRequest
from chalicelib.security import jwts
from chalicelib.services.identity import Identity


def generate_token(identity: Identity, request: GenerateTokenRequest) -> tuple[TokenItem, str]:
    """Stores the token's id (its nonce) and returns the JWT once; it is never shown again."""
    now = ids.utcnow()
    expires_at = now + timedelta(days=request.expiration_in_days) if request.expiration_in_days else None
    token_id = ids.new_id()
    item = TokenItem(
        keys.user(identity.user_id),
        keys.token(token_id),
        id=token_id,
        user_id=identity.user_id,
        name=request.name,
        created_at=now,
        expires_at=expires_at,
    )
    token_repo.create(item)
    jwt = jwts.issue(
        "pat",
        identity.user_id,
        expires_at=expires_at,
        issued_at=now,
        jti=token_id,
        email=identity.email,
        name=identity.name,
    )
    return item, jwt


def list_tokens(identity: Identity, query: PageQuery) -> Page[TokenItem]:
    return token_repo.page_for_user(identity.user_id, query).sorted(lambda t: t.created_at, reverse=True)


def get_token(identity: Identity, token_id: str) -> TokenItem:
    return found_or_404(token_repo.get(identity.user_id, token_id), "token")


def delete_token(identity: Identity, token_id: str) -> None:
    token_repo.delete(get_token(identity, token_id))
