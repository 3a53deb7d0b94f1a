"""Reads behind the team dashboard: what the team item's onboarding pointers name (one BatchGetItem)
and one-item Queries where a pointer is missing; the counts are on the team item itself."""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.items import BaseItem, TeamItem


def pointed(team: TeamItem) -> dict[str, BaseItem]:
    """The items the team's onboarding pointers name that still exist, by kind (`deployment`, `node`,
    `project`, `images_version`), in one read."""
    wanted = {}
    if team.first_deployment_id:
        wanted[keys.deployment(team.first_deployment_id)] = "deployment"
    if team.first_node_id:
        wanted[keys.node(team.first_node_id)] = "node"
    if team.first_project_id:
        wanted[keys.project(team.first_project_id)] = "project"
    if team.images_project_id and team.images_version_id:
        wanted[keys.version(team.images_project_id, team.images_version_id)] = "images_version"
    if not wanted:
        return {}
    return {wanted[item.SK]: item for item in BaseItem.batch_get([(keys.team(team.id), sk) for sk in wanted])}


def any_item(team_id: str, prefix: str) -> BaseItem | None:
    """Some item under an entity prefix (Limit=1), where the pointer to the first one is gone."""
    return next(iter(BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(prefix), limit=1)), None)


def first_image(team_id: str, version_id: str) -> BaseItem | None:
    return next(
        iter(BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(keys.images_of(version_id)), limit=1)), None
    )
