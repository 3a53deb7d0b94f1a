"""Counters kept in the items they describe, so no read ever counts a partition.

| item    | attribute                                  | changed by                                         |
|---------|--------------------------------------------|----------------------------------------------------|
| team    | `memberCount`                              | team create, accept invitation, leave, remove      |
| team    | `invitationCount`                          | first invitation of a user, accept, delete         |
| team    | `projectCount`, `versionCount`             | create/delete of a project or version              |
| team    | `nodeCount`, `deploymentCount`             | create/delete of a node or deployment              |
| team    | `failedDeploymentCount`                    | every status move into or out of `failed`, delete  |
| team    | `firstNodeId`, `firstProjectId`,           | set by the create (`if_not_exists`), removed when  |
|         | `firstDeploymentId`, `imagesProjectId` +   | that item goes (the dashboard's onboarding thread) |
|         | `imagesVersionId` (first given images)     |                                                    |
| project | `versionCount` (capped: `VERSIONS_PER_PROJECT`) | version create/delete                          |
| project | `deploymentsInProgress`                    | `start`, final status                              |
| node    | `deploymentCount`                          | deployment create/delete                           |
| team    | `userCount` (capped: `USERS_PER_TEAM`)     | team create, first invitation of a user, leave,    |
|         |                                            | remove, delete (accepting changes nothing)         |
| user    | `teamCount` (capped: `TEAMS_PER_USER`)     | team create, accept, leave, remove, team delete    |
| user    | `invitationCount` (capped:                 | first invitation, re-inviting after a decline,     |
|         | `OPEN_INVITATIONS_PER_USER`)               | accept, decline, delete, team delete               |

Each change is an update *inside the transaction of the write it counts*, next to that write's own
condition (guard item, expected status): a refused or cancelled write counts nothing, so counters
never drift, whatever runs concurrently. A counter update carries `attribute_exists(PK)`, so it never
creates a stub item. Items written before the counters existed lack them (read as None) until
`python -m infra.backfill` sets them.

A capped counter keeps a list that a documented answer embeds (team details' users, a project's
versions, `POST /api/users/me`) within one Query page: the add is conditioned on the count being below
the cap, so the refused write (a 409) changes nothing. An item from before the counter is not capped
until the backfill sets it.
"""

from __future__ import annotations

from typing import Any

from pynamodb.expressions.condition import Condition

from chalicelib.db import keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import NodeItem, ProjectItem, TeamItem, UserItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import not_found


def count(value: Any) -> int:
    """A counter as read: None before the backfill reached the item; never below 0 (a legacy item's
    count taken down before the backfill set it)."""
    return max(0, int(value or 0))


Cap = tuple[str, int]  # (counter attribute name, the most it may reach)


def within(model: Any, cap: Cap | None) -> Condition:
    """The item exists and, with a cap, its counter is below it (or not kept yet: uncapped until the
    backfill sets it)."""
    condition = model.PK.exists()
    if cap is None:
        return condition
    attribute = getattr(model, cap[0])
    return condition & (attribute.does_not_exist() | (attribute < cap[1]))


def on_team(
    tx: Transaction,
    team_id: str,
    add: dict[str, int] | None = None,
    first: dict[str, str] | None = None,
    cap: Cap | None = None,
    on_fail: Exception | None = None,
) -> Transaction:
    """Adds `add` ({attribute name: delta}) to the team's counters and sets each `first` pointer that is
    not set yet, as one update in `tx`; with `cap`, only while that counter is below it (else `on_fail`,
    by default 404: the team must exist)."""
    actions = [getattr(TeamItem, name).add(delta) for name, delta in (add or {}).items() if delta]
    actions += [getattr(TeamItem, name).set(getattr(TeamItem, name) | value) for name, value in (first or {}).items()]
    if not actions:
        return tx
    item = TeamItem(keys.team(team_id), keys.TEAM)
    return tx.update(item, actions, within(TeamItem, cap), on_fail or not_found("team"))


def on_user(
    tx: Transaction, user_id: str, add: dict[str, int], cap: Cap | None = None, on_fail: Exception | None = None
) -> Transaction:
    """Adds to the user's counters (`teamCount`, `invitationCount`); with `cap`, only while that counter
    is below it (else `on_fail`). The user must exist (accounts are never deleted)."""
    actions = [getattr(UserItem, name).add(delta) for name, delta in add.items() if delta]
    if not actions:
        return tx
    item = UserItem(keys.user(user_id), keys.PROFILE)
    return tx.update(item, actions, within(UserItem, cap), on_fail or not_found("user"))


def forget(team_id: str, pointer: tuple[str, str], *also: str) -> None:
    """Removes the (pointer name, id) from the team item, with the pointers named in `also`, if it still
    points at that id (which is gone), so the next create sets it again.

    Best effort, after the delete: a pointer left behind only costs the dashboard one more read."""
    name, value = pointer
    attribute = getattr(TeamItem, name)
    actions = [attribute.remove(), *(getattr(TeamItem, other).remove() for other in also)]
    team = TeamItem(keys.team(team_id), keys.TEAM)
    conditional(lambda: team.update(actions=actions, condition=attribute == value))


def on_project(
    tx: Transaction,
    team_id: str,
    project_id: str,
    add: dict[str, int],
    on_fail: Exception | None = None,
    cap: Cap | None = None,
) -> Transaction:
    """Adds to the project's counters; the project must exist and, with `cap`, that counter be below it
    (else `on_fail`, by default 404)."""
    item = ProjectItem(keys.team(team_id), keys.project(project_id))
    actions = [getattr(ProjectItem, name).add(delta) for name, delta in add.items()]
    return tx.update(item, actions, within(ProjectItem, cap), on_fail or not_found("project"))


def on_node(tx: Transaction, team_id: str, node_id: str, delta: int, on_fail: Exception | None = None) -> Transaction:
    """Adds to the node's deployment count; the node must exist (else `on_fail`, by default 404)."""
    item = NodeItem(keys.team(team_id), keys.node(node_id))
    return tx.update(item, [NodeItem.deployment_count.add(delta)], NodeItem.PK.exists(), on_fail or not_found("node"))
