"""Users and their e-mail guard."""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import GuardItem, RevokedTokenItem, UserItem
from chalicelib.db.table import BaseItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import ConflictError


def get(user_id: str) -> UserItem | None:
    try:
        return UserItem.get(keys.user(user_id), keys.PROFILE)
    except UserItem.DoesNotExist:
        return None


def with_revocation(user_id: str, token_id: str | None) -> tuple[UserItem | None, bool]:
    """The account and whether the session `token_id` was logged out, in one read (every call needs both)."""
    wanted = [(keys.user(user_id), keys.PROFILE)] + ([(keys.revoked(token_id), keys.REVOKED)] if token_id else [])
    found = list(BaseItem.batch_get(wanted))
    user = next((item for item in found if isinstance(item, UserItem)), None)
    return user, any(isinstance(item, RevokedTokenItem) for item in found)


def get_by_email_with(email: str, also: list[tuple[str, str]]) -> tuple[UserItem | None, list[BaseItem]]:
    """The account of an address and the items keyed `also` (a login's throttle counters): the
    address's guard and those items in one read, then the account."""
    guard_key = (keys.email(email), keys.GUARD)
    found = list(BaseItem.batch_get([guard_key, *also]))
    guard = next((item for item in found if isinstance(item, GuardItem) and guard_key[0] == item.PK), None)
    return (get(guard.ref) if guard else None), [item for item in found if item is not guard]


def get_by_email(email: str) -> UserItem | None:
    try:
        guard = GuardItem.get(keys.email(email), keys.GUARD)
    except GuardItem.DoesNotExist:
        return None
    return get(guard.ref)


def batch_get(user_ids: set[str]) -> dict[str, UserItem]:
    if not user_ids:
        return {}
    found = UserItem.batch_get([(keys.user(uid), keys.PROFILE) for uid in user_ids])
    return {item.id: item for item in found}


def new_item(
    user_id: str,
    email: str,
    first_name: str,
    last_name: str | None,
    password_hash: str | None,
    now: datetime,
    verified: bool = False,
) -> UserItem:
    return UserItem(
        keys.user(user_id),
        keys.PROFILE,
        id=user_id,
        email=email.strip().lower(),
        first_name=first_name,
        last_name=last_name,
        password_hash=password_hash,
        created_at=now,
        email_verified=verified,
    )


def email_guard(user: UserItem) -> GuardItem:
    return GuardItem(keys.email(user.email), keys.GUARD, ref=user.id)


def create(user: UserItem) -> None:
    """Writes the user and its e-mail guard; 409 when the e-mail is registered."""
    conflict = ConflictError("Email taken.", property="email")
    Transaction().create(email_guard(user), conflict).create(user, conflict).commit()


def complete_signup(
    user_id: str, email: str, password_hash: str, first_name: str | None, last_name: str | None
) -> bool:
    """Sets the password and name of a sign-up whose address was just proven and marks the account
    verified, in one conditional write; False when the account is gone, has another address or was
    verified already (a link of an older sign-up must not reset it)."""
    actions = [UserItem.password_hash.set(password_hash), UserItem.email_verified.set(True)]
    if first_name:
        actions += [
            UserItem.first_name.set(first_name),
            UserItem.last_name.set(last_name) if last_name else UserItem.last_name.remove(),
        ]
    unproven = (UserItem.email_verified == False) | UserItem.password_hash.does_not_exist()  # noqa: E712
    condition = UserItem.PK.exists() & (UserItem.email == email) & unproven
    user = UserItem(keys.user(user_id), keys.PROFILE)
    return conditional(lambda: user.update(actions=actions, condition=condition))


def change_password(user: UserItem, password_hash: str) -> None:
    """A new password ends every session issued before it (their version no longer matches); set
    through a mailed link, it also proves the address."""
    actions = [UserItem.password_hash.set(password_hash), UserItem.session_version.add(1)]
    user.update(actions=[*actions, UserItem.email_verified.set(True)])


def record_login(user: UserItem, now: datetime) -> None:
    user.update(actions=[UserItem.last_login.set(now)])
