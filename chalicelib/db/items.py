"""Item classes stored in the single table, one per entity (discriminated by `type`).

`type` is the discriminator, so an entity's own kind (project type, registry type, ...) is
stored as `kind`. Container configs are stored as JSON in their API (camelCase) shape,
holding only the fields that are set: `null`/absent means "inherit" (dyrector §1.3).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.db.table import BaseItem


def _counter(attr_name: str) -> NumberAttribute:
    """A count kept in the item it describes (`db/stats.py`): 0 on new items, absent (None) on items
    written before it existed until `python -m infra.backfill` sets it."""
    return NumberAttribute(attr_name=attr_name, null=True, default_for_new=0)


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
    # False until the owner of the address followed a verification link; absent on accounts made
    # before verification existed (they count as verified).
    email_verified = BooleanAttribute(attr_name="emailVerified", null=True)
    disabled = BooleanAttribute(null=True)
    # Session tokens carry the version they were issued under; a password change bumps it.
    session_version = NumberAttribute(attr_name="sessionVersion", null=True)
    # The teams the user is a member of, and the invitations they hold unanswered (pending or expired:
    # a declined one leaves their index): capped, so `POST /api/users/me` reads one page of each.
    team_count = _counter("teamCount")
    invitation_count = _counter("invitationCount")

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def verified(self) -> bool:
        return self.email_verified is not False


class MailTokenItem(BaseItem, discriminator="mail-token"):
    """A single-use link mailed to an address (`purpose`: verify | reset), stored by the SHA-256 of
    its secret so a table read never yields a working link. A sign-up's password hash waits here
    until the address is proven: whoever proves it sets the password."""

    purpose = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute(attr_name="passwordHash", null=True)
    first_name = UnicodeAttribute(attr_name="firstName", null=True)
    last_name = UnicodeAttribute(attr_name="lastName", null=True)
    expires_at = UTCDateTimeAttribute(attr_name="expiresAt")
    ttl = NumberAttribute(null=True)


class RevokedTokenItem(BaseItem, discriminator="revoked-token"):
    """A logged-out session token's id, kept until the token would have expired anyway."""

    ttl = NumberAttribute(null=True)


class CounterItem(BaseItem, discriminator="counter"):
    """A counter with a window: failed logins per account or source address, invitations per team
    and day. `blocked_until` (epoch seconds) is when a throttled caller may try again."""

    count = NumberAttribute(default=0)
    blocked_until = NumberAttribute(attr_name="blockedUntil", null=True)
    ttl = NumberAttribute(null=True)


class TokenItem(BaseItem, discriminator="token"):
    id = UnicodeAttribute()
    user_id = UnicodeAttribute(attr_name="userId")
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    expires_at = UTCDateTimeAttribute(attr_name="expiresAt", null=True)


class TeamItem(BaseItem, discriminator="team"):
    """A team, with its statistics and the dashboard's onboarding thread kept on it (`db/stats.py`)."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    slug = UnicodeAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")
    member_count = _counter("memberCount")
    invitation_count = _counter("invitationCount")
    # Members and invitations together, the users team details lists: capped at `USERS_PER_TEAM`.
    user_count = _counter("userCount")
    project_count = _counter("projectCount")
    version_count = _counter("versionCount")
    node_count = _counter("nodeCount")
    deployment_count = _counter("deploymentCount")
    failed_deployment_count = _counter("failedDeploymentCount")
    # The onboarding thread: the first of each kind still there (set with if_not_exists by the create,
    # removed when that item goes), and the first version that was given images.
    first_node_id = UnicodeAttribute(attr_name="firstNodeId", null=True)
    first_project_id = UnicodeAttribute(attr_name="firstProjectId", null=True)
    first_deployment_id = UnicodeAttribute(attr_name="firstDeploymentId", null=True)
    images_project_id = UnicodeAttribute(attr_name="imagesProjectId", null=True)
    images_version_id = UnicodeAttribute(attr_name="imagesVersionId", null=True)


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
    # The name the inviter typed: what the team sees until the invitee joins (never the account's own).
    name = UnicodeAttribute(null=True)


class AuditItem(BaseItem, discriminator="audit"):
    """One audited write; expires `settings.audit_retention_days()` after its day (`ttl`)."""

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
    ttl = NumberAttribute(null=True)


class AuditDayItem(BaseItem, discriminator="audit-day"):
    """How many audit entries a team wrote on one UTC day (`SK` = the date), ADDed in the entry's own
    transaction and expiring with that day's entries: the audit log's `total` without counting them."""

    count = NumberAttribute(default=0)
    ttl = NumberAttribute(null=True)


class SigningKeyItem(BaseItem, discriminator="signing-key"):
    """The JWT signing key, stored only as a KMS-encrypted data key (envelope)."""

    ciphertext = BinaryAttribute(legacy_encoding=False)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    ttl = NumberAttribute(null=True)


class ProjectItem(BaseItem, discriminator="project"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # versionless | versioned
    # The one default version of the project ("at most one per project" by construction).
    default_version_id = UnicodeAttribute(attr_name="defaultVersionId", null=True)
    version_count = _counter("versionCount")
    # Its deployments in progress: a project is not deleted under one (`deletable`).
    deployments_in_progress = _counter("deploymentsInProgress")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class VersionItem(BaseItem, discriminator="version"):
    id = UnicodeAttribute()
    project_id = UnicodeAttribute(attr_name="projectId")
    name = UnicodeAttribute()
    changelog = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # rolling | incremental
    auto_copy_deployments = BooleanAttribute(attr_name="autoCopyDeployments", default=False)
    parent_id = UnicodeAttribute(attr_name="parentId", null=True)
    child_id = UnicodeAttribute(attr_name="childId", null=True)
    # True when every deployment of the version is in GSI1 by status class and time
    # (`keys.version_deployment`): set on new versions, by the backfill on older ones.
    deployments_keyed = BooleanAttribute(attr_name="deploymentsKeyed", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class ImageItem(BaseItem, discriminator="image"):
    """An image of a version with its container config; GSI1 = its registry, GSI2 = its storage."""

    id = UnicodeAttribute()
    project_id = UnicodeAttribute(attr_name="projectId")
    version_id = UnicodeAttribute(attr_name="versionId")
    registry_id = UnicodeAttribute(attr_name="registryId")
    name = UnicodeAttribute()
    tag = UnicodeAttribute(null=True)
    order = NumberAttribute()
    labels = JSONAttribute(null=True)
    config = JSONAttribute()
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class RegistryItem(BaseItem, discriminator="registry"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    icon = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # v2 | hub | gitlab | github | google | unchecked
    details = JSONAttribute()  # the non-secret details (url, imageNamePrefix, user, ...)
    # The token/password, KMS-encrypted with the registry as encryption context; never returned.
    sealed_token = BinaryAttribute(attr_name="sealedToken", legacy_encoding=False, null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class StorageItem(BaseItem, discriminator="storage"):
    """An S3-compatible storage; its access and secret keys live KMS-encrypted in S3, not here."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    icon = UnicodeAttribute(null=True)
    url = UnicodeAttribute()
    # S3 key of the KMS-sealed keys; a new object per change, so a failed update never alters them.
    credentials_key = UnicodeAttribute(attr_name="credentialsKey", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class NotificationItem(BaseItem, discriminator="notification"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    url = UnicodeAttribute()
    kind = UnicodeAttribute()  # discord | slack | teams | webhook
    active = BooleanAttribute(default=False)
    enabled_events = ListAttribute(attr_name="enabledEvents", of=UnicodeAttribute, default=list)
    creator_id = UnicodeAttribute(attr_name="creatorId")
    creator_name = UnicodeAttribute(attr_name="creatorName")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class DeploymentItem(BaseItem, discriminator="deployment"):
    """A deployment of a version to a node under a prefix; GSI1 = its version, GSI2 while in progress."""

    id = UnicodeAttribute()
    project_id = UnicodeAttribute(attr_name="projectId")
    version_id = UnicodeAttribute(attr_name="versionId")
    node_id = UnicodeAttribute(attr_name="nodeId")
    prefix = UnicodeAttribute()
    status = UnicodeAttribute()  # preparing | in-progress | successful | failed | obsolete | downgraded
    note = UnicodeAttribute(null=True)
    # Deployment-level config (environment, secrets...), below instance configs, above image configs.
    config = JSONAttribute(default=dict)
    tries = NumberAttribute(default=0)
    # The try whose command was handed to the agent: a duplicate SQS delivery finds it set.
    dispatched_try = NumberAttribute(attr_name="dispatchedTry", default=0)
    # How many of its events the agent reported for try `reported_try`: a resent report is stored once.
    reported_try = NumberAttribute(attr_name="reportedTry", null=True)
    reported_events = NumberAttribute(attr_name="reportedEvents", null=True)
    # Until when (epoch seconds) someone may follow it live: sweeps look up followers only then.
    followed_until = NumberAttribute(attr_name="followedUntil", null=True)
    started_at = UTCDateTimeAttribute(attr_name="startedAt", null=True)
    deployed_by = UnicodeAttribute(attr_name="deployedBy", null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class ListEntryItem(BaseItem, discriminator="list-entry"):
    """Puts a list in an order its items' own keys lack (deployments newest first, `db/keys.py`):
    `ref` is the listed item's id. Without `ref`: the marker that every item of the list has its entry."""

    ref = UnicodeAttribute(null=True)


class InstanceItem(BaseItem, discriminator="instance"):
    """One image of the version as deployed by one deployment, with its own config overrides."""

    id = UnicodeAttribute()
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    image_id = UnicodeAttribute(attr_name="imageId")
    config = JSONAttribute(default=dict)
    state = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")


class DeploymentEventItem(BaseItem, discriminator="deployment-event"):
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    kind = UnicodeAttribute()  # log | deployment-status | container-state
    value = JSONAttribute()
    try_count = NumberAttribute(attr_name="tryCount")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    ttl = NumberAttribute(null=True)


class DeploymentTokenItem(BaseItem, discriminator="deployment-token"):
    id = UnicodeAttribute()
    deployment_id = UnicodeAttribute(attr_name="deploymentId")
    name = UnicodeAttribute()
    created_by = UnicodeAttribute(attr_name="createdBy")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    expires_at = UTCDateTimeAttribute(attr_name="expiresAt", null=True)


class NodeItem(BaseItem, discriminator="node"):
    """A deployment target. While its agent is connected it sits in GSI2 (`CONNECTED#<shard>`,
    keyed by its last-seen mark) so the health sweep finds silent nodes with one range Query."""

    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    icon = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(default="docker")  # docker | k8s
    address = UnicodeAttribute(null=True)
    hostname = UnicodeAttribute(null=True)
    version = UnicodeAttribute(null=True)
    public_key = UnicodeAttribute(attr_name="publicKey", null=True)
    connection = UnicodeAttribute(default="unreachable")  # connected | unreachable
    # The agent's WebSocket connection (API Gateway's id): where its commands are pushed.
    connection_id = UnicodeAttribute(attr_name="connectionId", null=True)
    connected_at = UTCDateTimeAttribute(attr_name="connectedAt", null=True)
    last_seen = UTCDateTimeAttribute(attr_name="lastSeen", null=True)
    # Id of the agent's connection token; deleting it revokes the token at once.
    token_id = UnicodeAttribute(attr_name="tokenId", null=True)
    # The pending installer: single-use install token id, its expiry and the generated script.
    install_id = UnicodeAttribute(attr_name="installId", null=True)
    install_expires_at = UTCDateTimeAttribute(attr_name="installExpiresAt", null=True)
    install_type = UnicodeAttribute(attr_name="installType", null=True)
    install_script_type = UnicodeAttribute(attr_name="installScriptType", null=True)
    install_command = UnicodeAttribute(attr_name="installCommand", null=True)
    install_script_key = UnicodeAttribute(attr_name="installScriptKey", null=True)
    updating_since = UTCDateTimeAttribute(attr_name="updatingSince", null=True)
    # Until when (epoch seconds) someone may follow it live: sweeps look up followers only then.
    followed_until = NumberAttribute(attr_name="followedUntil", null=True)
    # Deployments targeting the node: it is deleted only at 0 (`inUse`).
    deployment_count = _counter("deploymentCount")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    created_by = UnicodeAttribute(attr_name="createdBy")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    updated_by = UnicodeAttribute(attr_name="updatedBy")


class CommandItem(BaseItem, discriminator="command"):
    """A command for a node's agent; pending ones carry GSI2 `PENDING#<nid>` until acknowledged."""

    id = UnicodeAttribute()
    node_id = UnicodeAttribute(attr_name="nodeId")
    team_id = UnicodeAttribute(attr_name="teamId")
    kind = UnicodeAttribute()
    body = JSONAttribute()
    status = UnicodeAttribute()  # pending | acknowledged | done | failed
    result = JSONAttribute(null=True)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    acknowledged_at = UTCDateTimeAttribute(attr_name="acknowledgedAt", null=True)
    finished_at = UTCDateTimeAttribute(attr_name="finishedAt", null=True)
    ttl = NumberAttribute(null=True)


class NodeEventItem(BaseItem, discriminator="node-event"):
    node_id = UnicodeAttribute(attr_name="nodeId")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    event = UnicodeAttribute()
    data = JSONAttribute(null=True)
    ttl = NumberAttribute(null=True)


class SocketItem(BaseItem, discriminator="socket"):
    """One open WebSocket connection: whose it is, so its messages and its disconnect need no token."""

    kind = UnicodeAttribute()  # agent | user
    team_id = UnicodeAttribute(attr_name="teamId", null=True)  # agents
    node_id = UnicodeAttribute(attr_name="nodeId", null=True)  # agents
    token_id = UnicodeAttribute(attr_name="tokenId", null=True)  # agents: the connection token it opened with
    user_id = UnicodeAttribute(attr_name="userId", null=True)  # people
    deployment_id = UnicodeAttribute(attr_name="deploymentId", null=True)  # a deployment token's own deployment
    connected_at = UTCDateTimeAttribute(attr_name="connectedAt")
    ttl = NumberAttribute(null=True)


class SubscriptionItem(BaseItem, discriminator="subscription"):
    """A connection following a deployment or a node."""

    connection_id = UnicodeAttribute(attr_name="connectionId")
    ttl = NumberAttribute(null=True)
