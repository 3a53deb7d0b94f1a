"""Versions: creation (copying the default version's images), the chain of incremental
releases (`increase`), the default flag, and what each state allows (rules in
`chalicelib.domain.versions`). New versions are announced as `version-created` events.

What a version allows depends on whether any of its deployments ran, read as one item (its deployments
are keyed by status class, `db/deployments.py`); its details show the newest
`VERSION_DETAILS_DEPLOYMENTS` of them (all are in the paged deployment list).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib import ids, settings
from chalicelib.contracts.events import VersionCreated
from chalicelib.db import deployments as deployment_repo
from chalicelib.db import images as image_repo
from chalicelib.db import keys, named
from chalicelib.db import versions as version_repo
from chalicelib.db.items import DeploymentItem, ImageItem, NodeItem, ProjectItem, RegistryItem, VersionItem
from chalicelib.domain import versions as rules
from chalicelib.errors import ConflictError, PreconditionFailedError, found_or_404
from chalicelib.models.paging import Page, PageQuery
from chalicelib.models.versions import CreateVersionRequest, IncreaseVersionRequest, UpdateVersionRequest
from chalicelib.services import deployments, events
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity
from chalicelib.services.projects import get_project_item


@dataclass
class VersionView:
    """A version with what it allows, computed from its project, chain and deployments."""

    version: VersionItem
    project: ProjectItem
    # Of its deployments, those the rules need: one that ran (not preparing nor failed), if any did.
    ran: list[DeploymentItem] = field(default_factory=list)

    @property
    def default(self) -> bool:
        return self.project.default_version_id == self.version.id

    @property
    def increasable(self) -> bool:
        return rules.is_increasable(self.version.kind, bool(self.version.child_id))

    @property
    def mutable(self) -> bool:
        return rules.is_mutable(self.version.kind, bool(self.version.child_id), self._statuses)

    @property
    def deletion_blocker(self) -> str | None:
        return rules.deletion_blocker(self.version.kind, self.project.kind, bool(self.version.child_id), self._statuses)

    @property
    def _statuses(self) -> list[str]:
        return [d.status for d in self.ran]


def find(team: TeamAccess, project_id: str, version_id: str) -> VersionView:
    """The version and its project (one batch read), without its deployments: for routes whose
    answer does not depend on what the version allows."""
    project, version = version_repo.with_project(team.team_id, project_id, version_id)
    project = found_or_404(project, "project")  # a missing project is named first
    return VersionView(found_or_404(version, "version"), project)


def view(team: TeamAccess, project_id: str, version_id: str) -> VersionView:
    """The version with whether a deployment of it ran, which decides whether it is mutable and deletable."""
    found = find(team, project_id, version_id)
    found.ran = deployment_repo.ran_of_version(found.version)
    return found


@dataclass
class VersionDetails:
    """What the version page shows, each item read once."""

    found: VersionView
    images: list[ImageItem]
    deployments: list[DeploymentItem]
    registries: dict[str, RegistryItem]
    nodes: dict[str, NodeItem]


def details(team: TeamAccess, project_id: str, version_id: str) -> VersionDetails:
    """The version, its newest deployments and its images, and the registries and nodes they name (one
    batch)."""
    found = find(team, project_id, version_id)
    deployments, found.ran = deployment_repo.newest_of_version(found.version, settings.version_details_deployments())
    images = image_repo.list_for_version(team.team_id, found.version.id)
    related = named.batch(
        team.team_id,
        [keys.registry(i.registry_id) for i in images] + [keys.node(d.node_id) for d in deployments],
    ).values()
    return VersionDetails(
        found,
        images,
        deployments,
        {item.id: item for item in related if isinstance(item, RegistryItem)},
        {item.id: item for item in related if isinstance(item, NodeItem)},
    )


def require_mutable(team: TeamAccess, project_id: str, version_id: str) -> VersionView:
    """The version, if its images and configs may still change (412 otherwise)."""
    found = view(team, project_id, version_id)
    if not found.mutable:
        raise PreconditionFailedError(
            "The version is not mutable: it has a child version or deployments that ran.", property="versionId"
        )
    return found


def list_versions(team: TeamAccess, project_id: str, query: PageQuery) -> tuple[ProjectItem, Page[VersionItem]]:
    project = get_project_item(team, project_id)
    return project, version_repo.page_for_project(team.team_id, project.id, query).sorted(lambda v: v.created_at)


def create_version(team: TeamAccess, identity: Identity, project_id: str, request: CreateVersionRequest) -> VersionView:
    project = get_project_item(team, project_id)
    if project.kind == rules.VERSIONLESS:
        raise PreconditionFailedError(
            "A versionless project has exactly one version; convert it to versioned first.", property="projectId"
        )
    rolling = request.type.value == rules.ROLLING
    auto_copy = False if rolling else (True if request.auto_copy_deployments is None else request.auto_copy_deployments)
    now = ids.utcnow()
    version = version_repo.new_item(
        team.team_id,
        project.id,
        ids.new_id(),
        request.name,
        request.changelog,
        request.type.value,
        auto_copy,
        identity.user_id,
        now,
    )
    source_images = (
        image_repo.list_for_version(team.team_id, project.default_version_id) if project.default_version_id else []
    )
    images = image_repo.copy_all(team.team_id, source_images, project.id, version.id, ids.new_id, now)
    version_repo.create(team.team_id, version, project, images)
    if project.default_version_id is None:
        project.default_version_id = version.id  # the first version became the default in the same write
    else:  # every deployment of the default version comes along, as `preparing`
        deployments.copy_to_version(
            team.team_id,
            project.default_version_id,
            version,
            {s.id: c.id for s, c in zip(source_images, images, strict=True)},
            None,
            identity.user_id,
        )
    _announce(team, identity, project, version)
    return VersionView(version, project)


def update_version(
    team: TeamAccess, identity: Identity, project_id: str, version_id: str, request: UpdateVersionRequest
) -> None:
    found = require_mutable(team, project_id, version_id)
    if found.project.kind == rules.VERSIONLESS:
        raise PreconditionFailedError(
            "Change a versionless project's name and changelog on the project.", property="projectId"
        )
    auto_copy = (
        found.version.auto_copy_deployments if request.auto_copy_deployments is None else request.auto_copy_deployments
    )
    version_repo.update(
        team.team_id,
        found.version,
        request.name,
        request.changelog,
        auto_copy and found.version.kind != rules.ROLLING,
        identity.user_id,
        ids.utcnow(),
    )


def delete_version(team: TeamAccess, project_id: str, version_id: str) -> None:
    found = view(team, project_id, version_id)
    blocker = found.deletion_blocker
    if blocker:
        raise PreconditionFailedError(blocker, property="versionId")
    for deployment in deployment_repo.of_version(found.version.id):  # only preparing/failed ones: they go too
        deployment_repo.delete(team.team_id, deployment, found.version.kind)
    version_repo.delete(team.team_id, found.version, found.project)


def set_default_version(team: TeamAccess, project_id: str, version_id: str) -> None:
    found = find(team, project_id, version_id)
    version_repo.set_default(found.project, found.version.id)


def increase_version(
    team: TeamAccess, identity: Identity, project_id: str, version_id: str, request: IncreaseVersionRequest
) -> VersionView:
    """A child release of an incremental version, with copies of its images and configs."""
    parent = find(team, project_id, version_id)
    if parent.version.kind != rules.INCREMENTAL or parent.project.kind == rules.VERSIONLESS:
        raise PreconditionFailedError(
            "Only incremental versions of a versioned project can be increased.", property="versionId"
        )
    if parent.version.child_id:
        raise ConflictError("The version already has a child version.", property="versionId")
    now = ids.utcnow()
    child = version_repo.new_item(
        team.team_id,
        parent.project.id,
        ids.new_id(),
        request.name,
        request.changelog,
        rules.INCREMENTAL,
        parent.version.auto_copy_deployments,
        identity.user_id,
        now,
        parent_id=parent.version.id,
    )
    source_images = image_repo.list_for_version(team.team_id, parent.version.id)
    images = image_repo.copy_all(team.team_id, source_images, parent.project.id, child.id, ids.new_id, now)
    version_repo.create(team.team_id, child, parent.project, images, parent=parent.version)
    if parent.version.auto_copy_deployments:  # with fresh deployment configs, dyrector §3
        deployments.copy_to_version(
            team.team_id,
            parent.version.id,
            child,
            {s.id: c.id for s, c in zip(source_images, images, strict=True)},
            ("successful", "preparing", "failed"),
            identity.user_id,
            keep_deployment_config=False,
        )
    _announce(team, identity, parent.project, child)
    return VersionView(child, parent.project)


def _announce(team: TeamAccess, identity: Identity, project: ProjectItem, version: VersionItem) -> None:
    events.publish(
        VersionCreated(
            team_id=team.team_id,
            project_id=project.id,
            project_name=project.name,
            version_id=version.id,
            version_name=version.name,
            actor_name=identity.name or identity.email,
        )
    )
