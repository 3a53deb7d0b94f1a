"""Response shapes shared by several resources (a project's versions, a version's images).

Pure formatting: every item is read by the services before it gets here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.domain import versions as rules
from chalicelib.models.base import Audit
from chalicelib.services import nodes as nodes_service

if TYPE_CHECKING:
    from chalicelib.db.items import ImageItem, NodeItem, ProjectItem, RegistryItem, VersionItem


def project(item: ProjectItem, version_count: int) -> dict[str, Any]:
    return {
        "type": item.kind,
        "description": item.description,
        "version_count": version_count,
        "audit": Audit.of(item),
        "id": item.id,
        "name": item.name,
    }


def version(item: VersionItem, project_item: ProjectItem) -> dict[str, Any]:
    return {
        "type": item.kind,
        "audit": Audit.of(item),
        "changelog": item.changelog,
        "default": project_item.default_version_id == item.id,
        "increasable": rules.is_increasable(item.kind, bool(item.child_id)),
        "id": item.id,
        "name": item.name,
    }


def image(item: ImageItem, registries: dict[str, RegistryItem]) -> dict[str, Any]:
    registry = registries.get(item.registry_id)
    return {
        "id": item.id,
        "name": item.name,
        "tag": item.tag,
        "order": int(item.order),
        "config": item.config,
        "created_at": item.created_at,
        "registry": {
            "type": registry.kind if registry else "unchecked",
            "id": item.registry_id,
            "name": registry.name if registry else "",
        },
    }


def version_deployments(deployments: list[Any], nodes: dict[str, NodeItem]) -> list[dict[str, Any]]:
    """A version's deployments with their node's name, type and status."""
    return [
        {
            "status": d.status,
            "note": d.note,
            "updated_at": d.updated_at,
            "id": d.id,
            "prefix": d.prefix,
            "node": node_summary(nodes[d.node_id], with_status=True),
        }
        for d in deployments
        if d.node_id in nodes
    ]


def node_summary(node: Any, with_status: bool = False) -> dict[str, Any]:
    summary = {"type": node.kind, "id": node.id, "name": node.name}
    if with_status:
        summary["status"] = nodes_service.status(node)
    return summary
