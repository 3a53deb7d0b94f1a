"""Single-use links mailed to an address (sign-up verification, password reset).

Stored by the SHA-256 of the link's secret, with a TTL so DynamoDB removes the unused ones. Taking
a token is one delete that returns what it deleted: of two concurrent uses exactly one gets it.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import keys
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
    """The token, deleted in the same request so it never works again; None when unknown or used."""
    reply = MailTokenItem._get_connection().delete_item(
        keys.mail_token(secret_hash), keys.MAIL_TOKEN, return_values="ALL_OLD"
    )
    old = reply.get("Attributes")
    return MailTokenItem.from_raw_data(old) if old else None
