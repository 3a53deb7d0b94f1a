"""What a version allows, by its type, its place in the chain and its deployments (dyrector §3).

Rolling versions are long-lived and always mutable; incremental versions are releases that
freeze once a child exists or a deployment left `preparing`/`failed`.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLLING = "rolling"
INCREMENTAL = "incremental"
VERSIONLESS = "versionless"
VERSIONED = "versioned"
# Deployment statuses that leave a version as it was (nothing ran, or the run failed).
UNTOUCHED_STATUSES = frozenset({"preparing", "failed"})


def touches_version(deployment_status: str) -> bool:
    """Did a deployment in this status change what its version may do (it ran: not preparing nor failed)?"""
    return deployment_status not in UNTOUCHED_STATUSES


def is_mutable(version_type: str, has_child: bool, deployment_statuses: Iterable[str]) -> bool:
    """May the name, changelog, images and image configs change?"""
    if version_type == ROLLING:
        return True
    return not has_child and all(status in UNTOUCHED_STATUSES for status in deployment_statuses)


def is_increasable(version_type: str, has_child: bool) -> bool:
    return version_type == INCREMENTAL and not has_child


def deletion_blocker(
    version_type: str, project_type: str, has_child: bool, deployment_statuses: Iterable[str]
) -> str | None:
    """Why the version cannot be deleted, or None when it can."""
    statuses = list(deployment_statuses)
    if not is_mutable(version_type, has_child, statuses):
        return "The version is not mutable: it has a child version or deployments that ran."
    if any(status not in UNTOUCHED_STATUSES for status in statuses):
        return "The version has deployments that ran; delete them first."
    if version_type == ROLLING and project_type == VERSIONLESS:
        return "The only version of a versionless project cannot be deleted."
    if version_type == INCREMENTAL and has_child:
        return "The version has a child version."
    return None


def project_deletable(deployments_in_progress: int) -> bool:
    """A project goes away with everything in it, but never under a running deployment."""
    return deployments_in_progress == 0
