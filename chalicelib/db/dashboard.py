"""Reads behind the team dashboard: COUNT Queries and key-only Queries on the team partition."""

from __future__ import annotations

from collections import Counter

from chalicelib.db import keys
from chalicelib.db.items import AuditItem, BaseItem, DeploymentItem


def count(team_id: str, prefix: str) -> int:
    return BaseItem.count(keys.team(team_id), BaseItem.SK.startswith(prefix))


def audit_entries(team_id: str) -> int:
    return AuditItem.count(keys.audit(team_id))


def failed_deployments(team_id: str) -> int:
    return DeploymentItem.count(
        keys.team(team_id),
        DeploymentItem.SK.startswith(keys.DEPLOYMENT_PREFIX),
        filter_condition=DeploymentItem.status == "failed",
    )


def oldest(team_id: str, prefix: str) -> BaseItem | None:
    """The oldest item under a prefix (projects, nodes, deployments), by creation time."""
    items = list(BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(prefix)))
    return min(items, key=lambda item: item.created_at, default=None)


def images_per_version(team_id: str) -> Counter[str]:
    """Image counts by version id, from the image keys alone (`IMAGE#<vid>#<iid>`)."""
    counts: Counter[str] = Counter()
    for item in BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(keys.IMAGE_PREFIX), attributes_to_get=["SK"]):
        counts[item.SK[len(keys.IMAGE_PREFIX) :].split("#", 1)[0]] += 1
    return counts


def first_image(team_id: str, version_id: str) -> BaseItem | None:
    return next(
        iter(BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(keys.images_of(version_id)), limit=1)), None
    )
