"""Key formats of the single table, built only here.

Every item has `PK`/`SK`; some carry `GSI1PK`/`GSI1SK` (the "reverse" index: what
belongs to a user) and, sparsely, `GSI2PK`/`GSI2SK` (work queues such as nodes to
health-check). Uniqueness is held by *guard* items written in the same transaction
as the entity with `attribute_not_exists(PK)`.

| access pattern                        | table / index | key condition                                  |
|---------------------------------------|---------------|------------------------------------------------|
| user by id                            | table         | PK=USER#<uid>, SK=PROFILE                      |
| user by e-mail (login, invite)        | table         | PK=EMAIL#<email>, SK=GUARD → userId            |
| personal tokens of a user             | table         | PK=USER#<uid>, SK begins_with TOKEN#           |
| token name unique per user            | table         | PK=USER#<uid>, SK=TOKENNAME#<lower name>       |
| team by id                            | table         | PK=TEAM#<tid>, SK=TEAM                         |
| team by slug (every /api/{slug} call) | table         | PK=TEAMSLUG#<slug>, SK=GUARD → teamId          |
| team name unique                      | table         | PK=TEAMNAME#<lower name>, SK=GUARD             |
| members of a team                     | table         | PK=TEAM#<tid>, SK begins_with MEMBER#          |
| membership of a user in a team        | table         | PK=TEAM#<tid>, SK=MEMBER#<uid>                 |
| invitations of a team                 | table         | PK=TEAM#<tid>, SK begins_with INVITE#          |
| teams of a user                       | GSI1          | GSI1PK=USER#<uid>, GSI1SK begins_with TEAM#    |
| invitations of a user                 | GSI1          | GSI1PK=USER#<uid>, GSI1SK begins_with INVITE#  |
| team audit log, newest first, by time | table         | PK=AUDIT#<tid>, SK between <from> and <to> (TTL) |
| audit entries per day (log's total)   | table         | PK=AUDITDAYS#<tid>, SK between <day> and <day> (TTL) |
| team statistics, dashboard counts     | table         | counters on PK=TEAM#<tid>, SK=TEAM (db/stats.py) |
| dashboard onboarding thread           | table         | pointers on the team item, then one BatchGet   |
| platform signing key (envelope)       | table         | PK=META, SK=SIGNINGKEY                         |
| projects of a team                    | table         | PK=TEAM#<tid>, SK begins_with PROJECT#         |
| project name unique per team          | table         | PK=TEAM#<tid>, SK=PROJECTNAME#<lower name>     |
| versions of a project                 | table         | PK=TEAM#<tid>, SK begins_with VERSION#<pid>#   |
| project's version count, in progress | table         | counters on PK=TEAM#<tid>, SK=PROJECT#<pid>    |
| a node's deployments (inUse)          | table         | counter on PK=TEAM#<tid>, SK=NODE#<nid>        |
| version by id alone (deployments)     | GSI1          | GSI1PK=VERSION#<vid>, GSI1SK=VERSION           |
| version name unique per project       | table         | PK=TEAM#<tid>, SK=VERSIONNAME#<pid>#<lower>    |
| images of a version                   | table         | PK=TEAM#<tid>, SK begins_with IMAGE#<vid>#     |
| images pulled from a registry (inUse) | GSI1          | GSI1PK=REGISTRY#<rid>, GSI1SK begins_with IMAGE# |
| configs using a storage (inUse)       | GSI2          | GSI2PK=STORAGE#<sid> (image and instance items, and |
|                                       |               | a deployment's PK=TEAM#<tid>, SK=STORAGEREF#<did>) |
| deployments of a version              | GSI1          | GSI1PK=VERSION#<vid>, GSI1SK begins_with DEPLOYMENT# |
| a version's deployments that ran, or   | GSI1          | GSI1PK=VERSION#<vid>, GSI1SK begins_with       |
| did not, newest first                 |               | DEPLOYMENT#TOUCHED# / DEPLOYMENT#UNTOUCHED#    |
|                                       |               | (then <created iso>#<did>), descending, Limit  |
| registries / storages / notifications | table         | PK=TEAM#<tid>, SK begins_with <KIND>#           |
| their names unique per team           | table         | PK=TEAM#<tid>, SK=<KIND>NAME#<lower> (the kinds above) |
| nodes of a team / node name unique    | table         | PK=TEAM#<tid>, SK begins_with NODE# / SK=NODENAME#<lower> |
| a node's commands (by id = ULID)      | table         | PK=NODECMD#<nid>, SK=CMD#<ulid>                |
| a node's pending commands, in order   | GSI2          | GSI2PK=PENDING#<nid>, GSI2SK=<ulid> (removed on ack) |
| a node's audit events by time         | table         | PK=NODEEVENT#<nid>, SK between <from> and <to> (TTL) |
| connected nodes by last heartbeat     | GSI2          | GSI2PK=CONNECTED#<shard 0-3>, GSI2SK=<lastSeen iso>#<nid> |
| deployments of a team                 | table         | PK=TEAM#<tid>, SK begins_with DEPLOYMENT#      |
| deployments of a team, newest first   | table         | PK=TEAM#<tid>, SK begins_with DEPLOYED#, descending (→ ref) |
| every deployment has its list entry   | table         | PK=TEAM#<tid>, SK=DEPLOYEDINDEX                |
| instances of a deployment             | table         | PK=TEAM#<tid>, SK begins_with INSTANCE#<did>#  |
| a deployment's events (log) by time   | table         | PK=DEPLOYEVENT#<did>, SK=<iso>#<ulid> (TTL)    |
| deployments in progress, oldest first | GSI2          | GSI2PK=INPROGRESS, GSI2SK=<started iso>#<did>  |
| one deployment per version+node+prefix (rolling) | table | PK=TEAM#<tid>, SK=DEPLOYSLOT#<vid>#<nid>#<prefix> |
| one preparing per version+node+prefix (incremental) | table | PK=TEAM#<tid>, SK=PREPARING#<vid>#<nid>#<prefix> |
| one deployment in flight per node+prefix | table      | PK=TEAM#<tid>, SK=INFLIGHT#<nid>#<prefix>      |
| deployment token (one per deployment) | table         | PK=TEAM#<tid>, SK=DEPLOYTOKEN#<did> (+ name guard) |
| an open WebSocket connection          | table         | PK=SOCKET#<connectionId>, SK=SOCKET (TTL: API Gateway's 2 h) |
| connections following a deployment/node | table       | PK=SUBS#DEPLOYMENT#<did> / SUBS#NODE#<nid>, SK=<conn id> |
| a mailed link (verify / reset), by hash | table       | PK=MAILTOKEN#<sha256 of the secret>, SK=MAILTOKEN (TTL) |
| a logged-out session token            | table         | PK=REVOKED#<jti>, SK=REVOKED (TTL: the token's expiry) |
| a counter: failed logins, invitations | table         | PK=COUNTER#<kind>#<key>, SK=COUNTER (TTL: its window) |
"""

from __future__ import annotations

GUARD = "GUARD"
PROFILE = "PROFILE"
TEAM = "TEAM"
META = "META"
SIGNING_KEY = "SIGNINGKEY"

MEMBER_PREFIX = "MEMBER#"
INVITE_PREFIX = "INVITE#"
TOKEN_PREFIX = "TOKEN#"
TEAM_PREFIX = "TEAM#"


def user(user_id: str) -> str:
    return f"USER#{user_id}"


def email(address: str) -> str:
    return f"EMAIL#{address.strip().lower()}"


def token(token_id: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}"


def token_name(name: str) -> str:
    return f"TOKENNAME#{name.strip().lower()}"


def team(team_id: str) -> str:
    return f"{TEAM_PREFIX}{team_id}"


def team_id_of(partition: str) -> str:
    """The team id in a `TEAM#<tid>` partition key (of a node or deployment read from an index)."""
    return partition.removeprefix(TEAM_PREFIX)


def team_slug(slug: str) -> str:
    return f"TEAMSLUG#{slug}"


def team_name(name: str) -> str:
    return f"TEAMNAME#{name.strip().lower()}"


def member(user_id: str) -> str:
    return f"{MEMBER_PREFIX}{user_id}"


def invite(user_id: str) -> str:
    return f"{INVITE_PREFIX}{user_id}"


def audit(team_id: str) -> str:
    return f"AUDIT#{team_id}"


def audit_days(team_id: str) -> str:
    """Partition of a team's per-day audit entry counts (`SK` = the UTC date, `YYYY-MM-DD`)."""
    return f"AUDITDAYS#{team_id}"


# Children of a team partition. Name guards use distinct words (PROJECTNAME#, not
# PROJECT#NAME) so a begins_with on an entity prefix never meets a guard.
PROJECT_PREFIX = "PROJECT#"
VERSION_PREFIX = "VERSION#"
NODE_PREFIX = "NODE#"
DEPLOYMENT_PREFIX = "DEPLOYMENT#"
IMAGE_PREFIX = "IMAGE#"
REGISTRY_PREFIX = "REGISTRY#"
STORAGE_PREFIX = "STORAGE#"
NOTIFICATION_PREFIX = "NOTIFICATION#"
VERSION_SELF = "VERSION"


def _lower(name: str) -> str:
    return name.strip().lower()


def project(project_id: str) -> str:
    return f"{PROJECT_PREFIX}{project_id}"


def project_name(name: str) -> str:
    return f"PROJECTNAME#{_lower(name)}"


def versions_of(project_id: str) -> str:
    """SK prefix of every version of a project (also the start of each version's SK)."""
    return f"{VERSION_PREFIX}{project_id}#"


def version(project_id: str, version_id: str) -> str:
    return f"{versions_of(project_id)}{version_id}"


def version_ref(version_id: str) -> str:
    """GSI1 partition of a version: the version itself (SK=VERSION) and its deployments."""
    return f"{VERSION_PREFIX}{version_id}"


def version_name(project_id: str, name: str) -> str:
    return f"VERSIONNAME#{project_id}#{_lower(name)}"


def images_of(version_id: str) -> str:
    return f"{IMAGE_PREFIX}{version_id}#"


def image(version_id: str, image_id: str) -> str:
    return f"{images_of(version_id)}{image_id}"


def image_ref(image_id: str) -> str:
    return f"{IMAGE_PREFIX}{image_id}"


def deployment(deployment_id: str) -> str:
    return f"{DEPLOYMENT_PREFIX}{deployment_id}"


def version_deployments(touched: bool) -> str:
    """GSI1 sort key prefix of a version's deployments whose status touched it (ran: not preparing nor
    failed), or did not. A deployment from before these keys has `DEPLOYMENT#<did>` until its version is
    keyed (`db/deployments.py`)."""
    return f"{DEPLOYMENT_PREFIX}{'TOUCHED' if touched else 'UNTOUCHED'}#"


def version_deployment(touched: bool, created_iso: str, deployment_id: str) -> str:
    """A deployment's GSI1 sort key under its version: by status class, then by creation time."""
    return f"{version_deployments(touched)}{created_iso}#{deployment_id}"


def registry(registry_id: str) -> str:
    return f"{REGISTRY_PREFIX}{registry_id}"


def registry_name(name: str) -> str:
    return f"REGISTRYNAME#{_lower(name)}"


def storage(storage_id: str) -> str:
    return f"{STORAGE_PREFIX}{storage_id}"


def storage_name(name: str) -> str:
    return f"STORAGENAME#{_lower(name)}"


def deployment_storage(deployment_id: str) -> str:
    """The item placing a deployment config's storage in GSI2 (the deployment item's own GSI2 slot
    is the in-progress index)."""
    return f"STORAGEREF#{deployment_id}"


def notification(notification_id: str) -> str:
    return f"{NOTIFICATION_PREFIX}{notification_id}"


def notification_name(name: str) -> str:
    return f"NOTIFICATIONNAME#{_lower(name)}"


def node(node_id: str) -> str:
    return f"{NODE_PREFIX}{node_id}"


def node_name(name: str) -> str:
    return f"NODENAME#{_lower(name)}"


def node_commands(node_id: str) -> str:
    return f"NODECMD#{node_id}"


def command(command_id: str) -> str:
    return f"CMD#{command_id}"


def pending_commands(node_id: str) -> str:
    return f"PENDING#{node_id}"


def node_events(node_id: str) -> str:
    return f"NODEEVENT#{node_id}"


CONNECTED_SHARDS = 4


def connected_shard(node_id: str) -> str:
    """Connected nodes spread over a few GSI2 partitions so heartbeats never make one hot key."""
    return f"CONNECTED#{int(node_id.replace('-', '')[-2:], 16) % CONNECTED_SHARDS}"


def connected_shards() -> list[str]:
    return [f"CONNECTED#{shard}" for shard in range(CONNECTED_SHARDS)]


def connected_since(last_seen_iso: str, node_id: str) -> str:
    return f"{last_seen_iso}#{node_id}"


# A deployment's own key is its id, in no useful order: the newest-first list reads one small entry
# per deployment keyed by its creation time. The marker says that every deployment has its entry
# (teams from before entries existed get theirs on their first list). Neither begins with DEPLOYMENT#.
DEPLOYED_PREFIX = "DEPLOYED#"
DEPLOYED_INDEXED = "DEPLOYEDINDEX"


def deployed(created_iso: str, deployment_id: str) -> str:
    return f"{DEPLOYED_PREFIX}{created_iso}#{deployment_id}"


def instances_of(deployment_id: str) -> str:
    return f"INSTANCE#{deployment_id}#"


def instance(deployment_id: str, instance_id: str) -> str:
    return f"{instances_of(deployment_id)}{instance_id}"


def deployment_events(deployment_id: str) -> str:
    return f"DEPLOYEVENT#{deployment_id}"


IN_PROGRESS = "INPROGRESS"


def deployment_slot(version_id: str, node_id: str, prefix: str) -> str:
    return f"DEPLOYSLOT#{version_id}#{node_id}#{prefix}"


def preparing(version_id: str, node_id: str, prefix: str) -> str:
    return f"PREPARING#{version_id}#{node_id}#{prefix}"


def in_flight(node_id: str, prefix: str) -> str:
    return f"INFLIGHT#{node_id}#{prefix}"


def deployment_token(deployment_id: str) -> str:
    return f"DEPLOYTOKEN#{deployment_id}"


def deployment_token_name(name: str) -> str:
    return f"DEPLOYTOKENNAME#{_lower(name)}"


SOCKET = "SOCKET"


def socket(connection_id: str) -> str:
    return f"SOCKET#{connection_id}"


def subscribers(topic: str) -> str:
    """`topic` is `DEPLOYMENT#<did>` or `NODE#<nid>`."""
    return f"SUBS#{topic}"


MAIL_TOKEN = "MAILTOKEN"
REVOKED = "REVOKED"
COUNTER = "COUNTER"


def mail_token(secret_hash: str) -> str:
    return f"MAILTOKEN#{secret_hash}"


def revoked(token_id: str) -> str:
    return f"REVOKED#{token_id}"


def counter(kind: str, key: str) -> str:
    return f"COUNTER#{kind}#{key.strip().lower()}"
