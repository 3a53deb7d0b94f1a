"""Projects in their team's partition, with a per-team name guard.

A project's versions and images live in the same partition (`VERSION#<pid>#<vid>`,
`IMAGE#<vid>#<iid>`), so deleting a project is a few Queries and batched deletes. The project item
counts its versions and its deployments in progress; the team item counts projects (`db/stats.py`).
"""

from __future__ import annotations

from datetime import datetime

from pynamodb.expressions.condition import Condition

from chalicelib.db import keys, named, stats
from chalicelib.db.items import BaseItem, ProjectItem
from chalicelib.db.named import set_or_remove
from chalicelib.db.transactions import Transaction
from chalicelib.errors import ConflictError, not_found, taken
from chalicelib.models.paging import Page, PageQuery


def new_item(
    team_id: str, project_id: str, name: str, description: str | None, kind: str, by: str, now: datetime
) -> ProjectItem:
    return ProjectItem(
        keys.team(team_id),
        keys.project(project_id),
        id=project_id,
        name=name,
        description=description,
        kind=kind,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def get(team_id: str, project_id: str) -> ProjectItem | None:
    return named.get(ProjectItem, team_id, keys.project(project_id))


def list_for_team(team_id: str) -> list[ProjectItem]:
    return named.query(ProjectItem, team_id, keys.PROJECT_PREFIX)


def page_for_team(team_id: str, query: PageQuery) -> Page[ProjectItem]:
    return named.page(ProjectItem, team_id, keys.PROJECT_PREFIX, query)


def create(team_id: str, project: ProjectItem, tx: Transaction) -> None:
    """The project, its name guard and whatever `tx` holds (its rolling version, counted in the
    project's `versionCount`) at once, counted on the team."""
    added = {"project_count": 1, "version_count": stats.count(project.version_count)}
    stats.on_team(tx, team_id, added, {"first_project_id": project.id})
    named.create(team_id, project, keys.project_name(project.name), taken("project", value=project.name), tx)


def update(
    team_id: str,
    project: ProjectItem,
    name: str,
    description: str | None,
    by: str,
    now: datetime,
    tx: Transaction | None = None,
) -> None:
    named.update(
        team_id,
        project,
        keys.project_name(project.name),
        keys.project_name(name),
        [
            ProjectItem.name.set(name),
            set_or_remove(ProjectItem.description, description),
            ProjectItem.updated_at.set(now),
            ProjectItem.updated_by.set(by),
        ],
        taken("project", value=name),
        not_found("project"),
        tx=tx,
    )


def convert(project: ProjectItem, by: str, now: datetime) -> None:
    project.update(
        actions=[ProjectItem.kind.set("versioned"), ProjectItem.updated_at.set(now), ProjectItem.updated_by.set(by)],
        condition=ProjectItem.PK.exists(),
    )


def delete(team_id: str, project: ProjectItem, version_ids: list[str]) -> None:
    """Removes the project (and its counts) if no version came or went and no deployment started since
    it was read, then its versions, their images and every guard they hold."""
    versions = len(version_ids) if project.version_count is None else stats.count(project.version_count)
    tx = stats.on_team(Transaction(), team_id, {"project_count": -1, "version_count": -versions})
    named.delete(
        team_id,
        project,
        keys.project_name(project.name),
        _unchanged(project),
        ConflictError("The project changed meanwhile, try again.", property="projectId"),
        tx,
    )
    partition = keys.team(team_id)
    prefixes = [keys.versions_of(project.id), keys.version_name(project.id, "")]
    prefixes += [keys.images_of(version_id) for version_id in version_ids]
    with BaseItem.batch_write() as batch:
        for prefix in prefixes:
            for item in BaseItem.query(partition, BaseItem.SK.startswith(prefix), attributes_to_get=["PK", "SK"]):
                batch.delete(item)
    stats.forget(team_id, ("first_project_id", project.id))
    stats.forget(team_id, ("images_project_id", project.id), "images_version_id")


def _unchanged(project: ProjectItem) -> Condition:
    idle = (ProjectItem.deployments_in_progress == 0) | ProjectItem.deployments_in_progress.does_not_exist()
    if project.version_count is None:
        return idle & ProjectItem.version_count.does_not_exist()
    return idle & (ProjectItem.version_count == stats.count(project.version_count))
