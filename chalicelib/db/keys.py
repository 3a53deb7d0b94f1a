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
| team audit log, newest first, by time | table         | PK=AUDIT#<tid>, SK between <from> and <to>     |
| platform signing key (envelope)       | table         | PK=META, SK=SIGNINGKEY                         |
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

# Children of a team partition that later issues add; counted for team statistics.
PROJECT_PREFIX = "PROJECT#"
VERSION_PREFIX = "VERSION#"
NODE_PREFIX = "NODE#"
DEPLOYMENT_PREFIX = "DEPLOYMENT#"
