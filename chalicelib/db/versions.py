"""Versions in the team partition under their project (`VERSION#<pid>#<vid>`).

The project's default is the project item's `defaultVersionId`, so "one default per
project" holds by construction. Incremental versions form a chain: a child is linked by
setting the parent's `childId` on condition it has none, in the child's own transaction.
GSI1 (`VERSION#<vid>` / `VERSION`) finds a version by id alone, for deployments. A version is
counted on its project and on its team in its own create/delete transaction (`db/stats.py`); the
project's count is capped at `VERSIONS_PER_PROJECT`, so a project's versions are one Query page.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib import settings
from chalicelib.db import keys, named, stats
from chalicelib.db.items import BaseItem, ImageItem, ProjectItem, VersionItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import ConflictError, PreconditionFailedError, limit_reached, not_found, taken
from chalicelib.models.paging import Page, PageQuery

# DynamoDB allows 100 items per transaction; the version, its guard and links use a few.
_IMAGES_PER_TRANSACTION = 90


class _ProjectRefused(Exception):
    """The project's count update was refused: the project is full, or gone (told apart by reading it)."""


def versions_full() -> ConflictError:
    cap = settings.versions_per_project()
    return limit_reached(f"A project may hold at most {cap} versions; delete one first.", "versions", cap)


def new_item(
    team_id: str,
    project_id: str,
    version_id: str,
    name: str,
    changelog: str | None,
    kind: str,
    auto_copy: bool,
    by: str,
    now: datetime,
    parent_id: str | None = None,
) -> VersionItem:
    return VersionItem(
        keys.team(team_id),
        keys.version(project_id, version_id),
        GSI1PK=keys.version_ref(version_id),
        GSI1SK=keys.VERSION_SELF,
        id=version_id,
        project_id=project_id,
        name=name,
        changelog=changelog,
        kind=kind,
        auto_copy_deployments=auto_copy,
        parent_id=parent_id,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def get(team_id: str, project_id: str, version_id: str) -> VersionItem | None:
    return named.get(VersionItem, team_id, keys.version(project_id, version_id))


def list_for_project(team_id: str, project_id: str) -> list[VersionItem]:
    """Every version of the project, oldest first: one Query page, as `VERSIONS_PER_PROJECT` caps them (a
    project from before the cap holding more costs more pages, never fewer versions)."""
    page = settings.versions_per_project() + 1
    return sorted(
        named.query(VersionItem, team_id, keys.versions_of(project_id), page_size=page), key=lambda v: v.created_at
    )


def with_project(team_id: str, project_id: str, version_id: str) -> tuple[ProjectItem | None, VersionItem | None]:
    """The project and its version in one BatchGetItem (every version route needs both)."""
    found = named.batch(team_id, [keys.project(project_id), keys.version(project_id, version_id)])
    project, version = found.get(keys.project(project_id)), found.get(keys.version(project_id, version_id))
    return (
        project if isinstance(project, ProjectItem) else None,
        version if isinstance(version, VersionItem) else None,
    )


def page_for_project(team_id: str, project_id: str, query: PageQuery) -> Page[VersionItem]:
    return named.page(VersionItem, team_id, keys.versions_of(project_id), query)


def by_id(version_id: str) -> VersionItem | None:
    """A version by id alone (GSI1, eventually consistent); callers check its team."""
    return next(
        (
            item
            for item in BaseItem.gsi1.query(keys.version_ref(version_id), BaseItem.GSI1SK == keys.VERSION_SELF)
            if isinstance(item, VersionItem)
        ),
        None,
    )


def add_to(tx: Transaction, team_id: str, version: VersionItem) -> Transaction:
    """Puts the version and its name guard into `tx` (used for a versionless project's rolling version)."""
    conflict = taken("version", value=version.name)
    return tx.create(
        named.guard(team_id, keys.version_name(version.project_id, version.name), version.id), conflict
    ).create(version, conflict)


def create(
    team_id: str, version: VersionItem, project: ProjectItem, images: list[ImageItem], parent: VersionItem | None = None
) -> None:
    """The version, its guard, its images, the project default if none is set, its counts, and the
    link from its parent (which must still have no child) in one transaction; 409 when the project holds
    `VERSIONS_PER_PROJECT` versions already."""
    tx = add_to(Transaction(), team_id, version)
    tx.update(
        project,
        [
            ProjectItem.default_version_id.set(ProjectItem.default_version_id | version.id),
            ProjectItem.version_count.add(1),
        ],
        stats.within(ProjectItem, ("version_count", settings.versions_per_project())),
        _ProjectRefused(),
    )
    first = {"images_project_id": version.project_id, "images_version_id": version.id} if images else None
    stats.on_team(tx, team_id, {"version_count": 1}, first)
    if parent is not None:
        tx.update(
            parent,
            [VersionItem.child_id.set(version.id)],
            VersionItem.PK.exists() & VersionItem.child_id.does_not_exist(),
            ConflictError("The version already has a child version.", property="versionId"),
        )
    for image in images[:_IMAGES_PER_TRANSACTION]:
        tx.create(image)
    try:
        tx.commit()
    except _ProjectRefused:
        raise not_found("project") if named.get(ProjectItem, team_id, project.SK) is None else versions_full() from None
    _put_all(images[_IMAGES_PER_TRANSACTION:])


def update(
    team_id: str, version: VersionItem, name: str, changelog: str | None, auto_copy: bool, by: str, now: datetime
) -> None:
    named.update(
        team_id,
        version,
        keys.version_name(version.project_id, version.name),
        keys.version_name(version.project_id, name),
        [
            VersionItem.name.set(name),
            VersionItem.changelog.set(changelog) if changelog is not None else VersionItem.changelog.remove(),
            VersionItem.auto_copy_deployments.set(auto_copy),
            VersionItem.updated_at.set(now),
            VersionItem.updated_by.set(by),
        ],
        taken("version", value=name),
        not_found("version"),
        condition=VersionItem.child_id.does_not_exist() | (VersionItem.kind == "rolling"),
        on_fail=PreconditionFailedError("The version is not mutable.", property="versionId"),
    )


def set_changelog(version: VersionItem, changelog: str | None, by: str, now: datetime) -> None:
    version.update(
        actions=[
            VersionItem.changelog.set(changelog) if changelog is not None else VersionItem.changelog.remove(),
            VersionItem.updated_at.set(now),
            VersionItem.updated_by.set(by),
        ],
        condition=VersionItem.PK.exists(),
    )


def set_default(project: ProjectItem, version_id: str) -> None:
    project.update(actions=[ProjectItem.default_version_id.set(version_id)], condition=ProjectItem.PK.exists())


def delete(team_id: str, version: VersionItem, project: ProjectItem) -> None:
    """Removes the version (if it still has no child), its guard and images; unlinks its
    parent and clears the project's default if it was this version."""
    tx = Transaction()
    tx.delete(
        version,
        VersionItem.PK.exists() & VersionItem.child_id.does_not_exist(),
        PreconditionFailedError("The version has a child version.", property="versionId"),
    )
    tx.delete(named.guard(team_id, keys.version_name(version.project_id, version.name), version.id))
    if version.parent_id:
        parent = VersionItem(keys.team(team_id), keys.version(version.project_id, version.parent_id))
        tx.update(parent, [VersionItem.child_id.remove()], VersionItem.child_id == version.id)
    if project.default_version_id == version.id:
        tx.update(
            project,
            [ProjectItem.default_version_id.remove(), ProjectItem.version_count.add(-1)],
            ProjectItem.default_version_id == version.id,
        )
    else:
        tx.update(project, [ProjectItem.version_count.add(-1)], ProjectItem.PK.exists(), not_found("project"))
    stats.on_team(tx, team_id, {"version_count": -1}).commit()
    with BaseItem.batch_write() as batch:
        for item in BaseItem.query(
            keys.team(team_id), BaseItem.SK.startswith(keys.images_of(version.id)), attributes_to_get=["PK", "SK"]
        ):
            batch.delete(item)
    stats.forget(team_id, ("images_version_id", version.id), "images_project_id")


def _put_all(items: list[BaseItem]) -> None:
    if items:
        with BaseItem.batch_write() as batch:
            for item in items:
                batch.save(item)
