"""Single-use links mailed to an address (sign-up verification, password reset).

Stored by the SHA-256 of the link's secret, with a TTL so DynamoDB removes the unused ones. Taking
a token is a conditional delete: of two concurrent uses exactly one gets it.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import MailTokenItem


def put(item: MailTokenItem) -> None:
    item.save()


def new_item(secret_hash: str, purpose: str, user_id: str, email: str, expires_at: datetime) -> MailTokenItem:
    return MailTokenItem(
        keys.mail_token(secret_hash),
        keys.MAIL_TOKEN,
        purpose=purpose,
        user_id=user_id,
        email=email,
        expires_at=expires_at,
        ttl=int(expires_at.timestamp()),
    )


def take(secret_hash: str) -> MailTokenItem | None:
    """The token, deleted so it never works again; None when unknown or already used."""
    try:
        item = MailTokenItem.get(keys.mail_token(secret_hash), keys.MAIL_TOKEN)
    except MailTokenItem.DoesNotExist:
        return None
    taken = conditional(lambda: item.delete(condition=MailTokenItem.PK.exists()))
    return item if taken else None
