"""Personal access tokens, kept in their owner's partition with a per-user name guard."""

from __future__ import annotations

from chalicelib.db import keys, paging
from chalicelib.db.items import GuardItem, RevokedTokenItem, TokenItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import taken
from chalicelib.models.paging import Page, PageQuery


def create(token: TokenItem) -> None:
    guard = GuardItem(keys.user(token.user_id), keys.token_name(token.name), ref=token.id)
    conflict = taken("token", value=token.name)
    Transaction().create(guard, conflict).create(token, conflict).commit()


def get(user_id: str, token_id: str) -> TokenItem | None:
    try:
        return TokenItem.get(keys.user(user_id), keys.token(token_id))
    except TokenItem.DoesNotExist:
        return None


def list_for_user(user_id: str) -> list[TokenItem]:
    return list(TokenItem.query(keys.user(user_id), TokenItem.SK.startswith(keys.TOKEN_PREFIX)))


def page_for_user(user_id: str, query: PageQuery) -> Page[TokenItem]:
    return paging.query_page(TokenItem, keys.user(user_id), keys.TOKEN_PREFIX, query.take, query.cursor)


def delete(token: TokenItem) -> None:
    guard = GuardItem(keys.user(token.user_id), keys.token_name(token.name), ref=token.id)
    Transaction().delete(token).delete(guard).commit()


def revoke_session(token_id: str, expires: int) -> None:
    """Denies a session token by its id until it would have expired anyway (then the TTL removes it)."""
    RevokedTokenItem(keys.revoked(token_id), keys.REVOKED, ttl=expires).save()
