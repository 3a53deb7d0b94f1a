"""The dashboard: what the team has, and how far it is through the onboarding checklist.

The checklist follows one thread through the team's data, as dyrector does: the oldest
deployment if there is one (its version, project and node), else the version with the most
images, else the oldest project; a node falls back to the oldest node.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.db import dashboard as repo
from chalicelib.db import keys
from chalicelib.db import versions as version_repo
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity


def dashboard(team: TeamAccess, identity: Identity) -> dict[str, Any]:
    team_id = team.team_id
    jobs = {
        "users": lambda: repo.count(team_id, keys.MEMBER_PREFIX),
        "audit_log": lambda: repo.audit_entries(team_id),
        "projects": lambda: repo.count(team_id, keys.PROJECT_PREFIX),
        "versions": lambda: repo.count(team_id, keys.VERSION_PREFIX),
        "deployments": lambda: repo.count(team_id, keys.DEPLOYMENT_PREFIX),
        "failed_deployments": lambda: repo.failed_deployments(team_id),
        "onboarding": lambda: onboarding(team, identity),
    }
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def onboarding(team: TeamAccess, identity: Identity) -> dict[str, dict[str, Any]]:
    """dyrector's getting-started checklist: each step done, and the resource that did it."""
    team_id = team.team_id
    deployment = repo.oldest(team_id, keys.DEPLOYMENT_PREFIX)
    if deployment is not None:
        version_id, project_id, node_id = deployment.version_id, deployment.project_id, deployment.node_id
    else:
        project_id, version_id = _project_and_version_in_the_making(team_id)
        node = repo.oldest(team_id, keys.NODE_PREFIX)
        node_id = node.id if node else None
    image = repo.first_image(team_id, version_id) if version_id else None
    return {
        "sign_up": _step(identity.user_id),
        "create_team": _step(team_id),
        "create_node": _step(node_id),
        "create_project": _step(project_id),
        "create_version": _step(version_id),
        "add_images": _step(image.id if image else None),
        "add_deployment": _step(deployment.id if deployment else None),
        "deploy": {
            "done": deployment is not None and deployment.status != "preparing",
            "resource_id": deployment.id if deployment else None,
        },
    }


def _project_and_version_in_the_making(team_id: str) -> tuple[str | None, str | None]:
    """Without a deployment yet: the version with the most images, else the oldest project and
    its first version."""
    per_version = repo.images_per_version(team_id)
    if per_version:
        version_id = per_version.most_common(1)[0][0]
        found = version_repo.by_id(version_id)
        return (found.project_id if found else None), version_id
    project = repo.oldest(team_id, keys.PROJECT_PREFIX)
    if project is None:
        return None, None
    versions = version_repo.list_for_project(team_id, project.id)
    return project.id, (versions[0].id if versions else None)


def _step(resource_id: str | None) -> dict[str, Any]:
    return {"done": resource_id is not None, "resource_id": resource_id}
