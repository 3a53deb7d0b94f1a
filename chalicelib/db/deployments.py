"""Deployments as the catalog sees them: which exist for a version, and in which status.

Deployment items live in the team partition (`DEPLOYMENT#<did>`) and carry GSI1 keys
(`VERSION#<vid>` / `DEPLOYMENT#<did>`), so a version's deployments are one index Query.
"""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.items import BaseItem, DeploymentItem


def of_version(version_id: str) -> list[DeploymentItem]:
    return [item for item in BaseItem.gsi1.query(keys.version_ref(version_id),
                                                  BaseItem.GSI1SK.startswith(keys.DEPLOYMENT_PREFIX))
            if isinstance(item, DeploymentItem)]


def of_versions(version_ids: list[str]) -> dict[str, list[DeploymentItem]]:
    return {version_id: of_version(version_id) for version_id in version_ids}


def nodes_of(team_id: str, node_ids: set[str]) -> dict[str, dict[str, str]]:
    """Name, type and last known status of the nodes that deployments target."""
    if not node_ids:
        return {}
    found = BaseItem.batch_get([(keys.team(team_id), f"{keys.NODE_PREFIX}{node_id}") for node_id in node_ids])
    return {item.id: {"name": item.name, "type": getattr(item, "kind", "docker"),
                      "status": getattr(item, "status", None) or "unreachable"} for item in found}
