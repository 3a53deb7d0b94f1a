"""The dashboard: what the team has, and how far it is through the onboarding checklist.

Counts are the counters on the team item and the audit log's day counts; the checklist follows the
team item's onboarding pointers (`db/stats.py`): the first deployment still there (its version,
project and node), else the first version given images, else the first project and its default
version; the node falls back to the first node. A constant number of reads, whatever the team holds.
"""

from __future__ import annotations

from typing import Any

from chalicelib import ids
from chalicelib.db import audit as audit_repo
from chalicelib.db import dashboard as repo
from chalicelib.db import keys, stats
from chalicelib.db import teams as team_repo
from chalicelib.db.items import BaseItem, TeamItem
from chalicelib.errors import found_or_404
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity


def dashboard(team: TeamAccess, identity: Identity) -> dict[str, Any]:
    item = found_or_404(team_repo.get(team.team_id), "team")
    return {
        "users": stats.count(item.member_count),
        "audit_log": audit_repo.kept_total(team.team_id, ids.utcnow()),
        "projects": stats.count(item.project_count),
        "versions": stats.count(item.version_count),
        "deployments": stats.count(item.deployment_count),
        "failed_deployments": stats.count(item.failed_deployment_count),
        "onboarding": onboarding(item, identity),
    }


def onboarding(team: TeamItem, identity: Identity) -> dict[str, dict[str, Any]]:
    """dyrector's getting-started checklist: each step done, and the resource that did it."""
    found = repo.pointed(team)
    deployment = found.get("deployment") or _any(team, team.deployment_count, keys.DEPLOYMENT_PREFIX)
    if deployment is not None:
        project_id, version_id, node_id = deployment.project_id, deployment.version_id, deployment.node_id
    else:
        project_id, version_id = _project_and_version_in_the_making(team, found)
        node = found.get("node") or _any(team, team.node_count, keys.NODE_PREFIX)
        node_id = node.id if node else None
    image = repo.first_image(team.id, version_id) if version_id else None
    return {
        "sign_up": _step(identity.user_id),
        "create_team": _step(team.id),
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


def _project_and_version_in_the_making(team: TeamItem, found: dict[str, BaseItem]) -> tuple[str | None, str | None]:
    """Without a deployment yet: the first version given images, else the first project and its
    default version."""
    version = found.get("images_version")
    if version is not None:
        return version.project_id, version.id
    project = found.get("project") or _any(team, team.project_count, keys.PROJECT_PREFIX)
    if project is None:
        return None, None
    return project.id, project.default_version_id


def _any(team: TeamItem, counted: Any, prefix: str) -> Any:
    """Where a pointer is gone (its item was deleted) but the count says others exist: one of them."""
    return repo.any_item(team.id, prefix) if stats.count(counted) > 0 else None


def _step(resource_id: str | None) -> dict[str, Any]:
    return {"done": resource_id is not None, "resource_id": resource_id}
