"""Projects: versionless ones are one deployable unit (a single rolling version named
`rolling`); versioned ones hold rolling and incremental versions (dyrector §3).

Creating a versionless project writes the project, its rolling version and both name
guards in one transaction. A project is deleted with everything in it, but never while one
of its deployments is in progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib import ids
from chalicelib.db import deployments as deployment_repo
from chalicelib.db import projects as project_repo
from chalicelib.db import stats
from chalicelib.db import versions as version_repo
from chalicelib.db.items import ProjectItem, VersionItem
from chalicelib.db.transactions import Transaction
from chalicelib.domain import versions as rules
from chalicelib.errors import PreconditionFailedError, found_or_404
from chalicelib.models.paging import Page, PageQuery
from chalicelib.models.projects import CreateProjectRequest, UpdateProjectRequest
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

ROLLING_VERSION_NAME = "rolling"


@dataclass
class ProjectDetails:
    project: ProjectItem
    versions: list[VersionItem]
    deletable: bool


def get_project_item(team: TeamAccess, project_id: str) -> ProjectItem:
    return found_or_404(project_repo.get(team.team_id, project_id), "project")


def list_projects(team: TeamAccess, query: PageQuery) -> Page[tuple[ProjectItem, int]]:
    """A page of projects, newest first, with their version counts (kept on each project item)."""
    page = project_repo.page_for_team(team.team_id, query).sorted(lambda p: p.created_at, reverse=True)
    return page.map(lambda project: (project, stats.count(project.version_count)))


def create_project(team: TeamAccess, identity: Identity, request: CreateProjectRequest) -> tuple[ProjectItem, int]:
    now = ids.utcnow()
    project = project_repo.new_item(
        team.team_id, ids.new_id(), request.name, request.description, request.type.value, identity.user_id, now
    )
    tx = Transaction()
    if request.type.value == rules.VERSIONLESS:
        version = version_repo.new_item(
            team.team_id,
            project.id,
            ids.new_id(),
            ROLLING_VERSION_NAME,
            request.changelog,
            rules.ROLLING,
            False,
            identity.user_id,
            now,
        )
        project.default_version_id = version.id
        project.version_count = 1
        version_repo.add_to(tx, team.team_id, version)
    project_repo.create(team.team_id, project, tx)
    return project, 1 if request.type.value == rules.VERSIONLESS else 0


def get_project(team: TeamAccess, project_id: str) -> ProjectDetails:
    project = get_project_item(team, project_id)
    versions = version_repo.list_for_project(team.team_id, project.id)
    return ProjectDetails(project, versions, rules.project_deletable(stats.count(project.deployments_in_progress)))


def update_project(team: TeamAccess, identity: Identity, project_id: str, request: UpdateProjectRequest) -> None:
    project = get_project_item(team, project_id)
    now = ids.utcnow()
    if request.changelog is not None:
        if project.kind != rules.VERSIONLESS:
            raise PreconditionFailedError(
                "Only a versionless project has a project-level changelog; change the changelog of a version instead.",
                property="changelog",
            )
        rolling = version_repo.get(team.team_id, project.id, project.default_version_id or "")
        if rolling:
            version_repo.set_changelog(rolling, request.changelog, identity.user_id, now)
    project_repo.update(team.team_id, project, request.name, request.description, identity.user_id, now)


def delete_project(team: TeamAccess, project_id: str) -> None:
    details = get_project(team, project_id)
    if not details.deletable:
        raise PreconditionFailedError("The project has a deployment in progress.", property="projectId")
    for version in details.versions:
        for deployment in deployment_repo.of_version(version.id):
            deployment_repo.delete(team.team_id, deployment, version.kind)
    project_repo.delete(team.team_id, details.project, [v.id for v in details.versions])


def convert_project(team: TeamAccess, identity: Identity, project_id: str) -> None:
    """Versionless → versioned; its rolling version stays and becomes deletable."""
    project = get_project_item(team, project_id)
    if project.kind != rules.VERSIONED:
        project_repo.convert(project, identity.user_id, ids.utcnow())
