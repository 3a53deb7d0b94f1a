"""Item classes stored in the single table, one per entity (discriminated by `type`)."""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.table import BaseItem


class GuardItem(BaseItem, discriminator="guard"):
    """Holds a unique value (e-mail, slug, name); `ref` is the id of the owner."""

    ref = UnicodeAttribute()


class UserItem(BaseItem, discriminator="user"):
    id = UnicodeAttribute()
    email = UnicodeAttribute()
    first_name = UnicodeAttribute(attr_name="firstName")
    last_name = UnicodeAttribute(attr_name="lastName", null=True)
    # argon2id hash; absent for a user who was invited but has not signed up yet.
    password_hash = UnicodeAttribute(attr_name="passwordHash", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    last_login = UTCDateTimeAttribute(attr_name="lastLogin", null=True)

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class TokenItem(BaseItem, discriminator="token"):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    expires_at = UTCDateTimeAttribute(attr_name="expiresAt", null=True)


class TeamItem(BaseItem, discriminator="team"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class MemberItem(BaseItem, discriminator="member"):
    team_id = UnicodeAttribute(attr_name="teamId")
    user_id = UnicodeAttribute(attr_name="userId")
    role = UnicodeAttribute()
    joined_at = UTCDateTimeAttribute(attr_name="joinedAt")


class InvitationItem(BaseItem, discriminator="invitation"):
    team_id = UnicodeAttribute(attr_name="teamId")
    user_id = UnicodeAttribute(attr_name="userId")
    email = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | declined | expired (expiry is also computed on read)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    invited_by = UnicodeAttribute(attr_name="invitedBy")


class AuditItem(BaseItem, discriminator="audit"):
    team_id = UnicodeAttribute(attr_name="teamId")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    actor_type = UnicodeAttribute(attr_name="actorType")
    user_id = UnicodeAttribute(attr_name="userId", null=True)
    email = UnicodeAttribute(null=True)
    user_name = UnicodeAttribute(attr_name="userName", null=True)
    context = UnicodeAttribute()
    method = UnicodeAttribute()
    event = UnicodeAttribute()
    data = JSONAttribute(null=True)


class SigningKeyItem(BaseItem, discriminator="signing-key"):
    """The JWT signing key, stored only as a KMS-encrypted data key (envelope)."""

    ciphertext = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    ttl = NumberAttribute(null=True)
