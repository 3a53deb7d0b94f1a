"""Projects in their team's partition, with a per-team name guard.

A project's versions and images live in the same partition (`VERSION#<pid>#<vid>`,
`IMAGE#<vid>#<iid>`), so deleting a project is a few Queries and batched deletes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from chalicelib.db import keys, named
from chalicelib.db.items import BaseItem, ProjectItem, VersionItem
from chalicelib.db.named import set_or_remove
from chalicelib.db.transactions import Transaction
from chalicelib.errors import not_found, taken
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


def version_counts(team_id: str) -> Counter[str]:
    """Versions per project id, from one key-only Query over the team's versions."""
    counts: Counter[str] = Counter()
    for item in VersionItem.query(
        keys.team(team_id), VersionItem.SK.startswith(keys.VERSION_PREFIX), attributes_to_get=["SK"]
    ):
        counts[item.SK[len(keys.VERSION_PREFIX) :].split("#", 1)[0]] += 1
    return counts


def create(team_id: str, project: ProjectItem, tx: Transaction) -> None:
    """The project, its name guard and whatever `tx` holds (its rolling version) at once."""
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
    """Removes the project, its versions, their images and every guard they hold."""
    partition = keys.team(team_id)
    prefixes = [keys.versions_of(project.id), keys.version_name(project.id, "")]
    prefixes += [keys.images_of(version_id) for version_id in version_ids]
    with BaseItem.batch_write() as batch:
        for prefix in prefixes:
            for item in BaseItem.query(partition, BaseItem.SK.startswith(prefix), attributes_to_get=["PK", "SK"]):
                batch.delete(item)
    named.delete(team_id, project, keys.project_name(project.name))
