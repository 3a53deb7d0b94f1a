"""A node's status, computed (never stored) from its agent's last heartbeat, version and update.

`unreachable` after `timeout` seconds of silence even before the health sweep has run, so an
answer never claims a dead agent is connected; `outdated` agents connect but get no commands.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from chalicelib.contracts.naming import DNS_LABEL

UPDATE_WINDOW = timedelta(minutes=5)
MIN_AGENT_VERSION = (0, 2, 0)  # 0.2: commands pushed over a WebSocket (0.1 long-polled)
# Since which agent version each feature a deployment may need takes effect, per node type: an older
# agent would skip that part silently and report the deployment successful, so it is refused instead.
# Kubernetes agents made Ingresses before 0.3; they import storages and load configs since 0.4.
FEATURES_SINCE = {
    "storage imports": {"docker": (0, 3, 0), "k8s": (0, 4, 0)},
    "routing exposed containers": {"docker": (0, 3, 0)},
    "config containers": {"k8s": (0, 4, 0)},
}
# Agents before 0.4 know no `container-log` or `container-inspect` command: they are not sent one.
CONTAINER_READS_SINCE = (0, 4, 0)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def parse_version(version: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(version or "")
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def supported(version: str | None, platform_version: str) -> bool:
    """Agents from MIN_AGENT_VERSION up to the platform's own agent version are supported."""
    parsed, newest = parse_version(version), parse_version(platform_version)
    return parsed is not None and newest is not None and MIN_AGENT_VERSION <= parsed <= newest


def unsupported_features(
    node_type: str, version: str | None, *, imports_storage: bool, exposes: bool, loads_config: bool = False
) -> str | None:
    """Why the node's agent cannot run a deployment that imports a storage, exposes a container or
    loads a config container as configured (it would skip that part silently); None when it can."""
    parsed = parse_version(version) or (0, 0, 0)
    wanted = {
        "storage imports": imports_storage,
        "routing exposed containers": exposes,
        "config containers": loads_config,
    }
    needed = [
        feature
        for feature, since in FEATURES_SINCE.items()
        if wanted[feature] and node_type in since and parsed < since[node_type]
    ]
    if not needed:
        return None
    return (
        f"The node's agent ({version or 'unknown version'}) does not support {' or '.join(needed)}: "
        "update it (the node's update action) and start the deployment again."
    )


def container_reads_error(version: str | None) -> str | None:
    """Why the node's agent cannot read a container's log or inspect it; None when it can."""
    parsed = parse_version(version)
    if parsed is not None and parsed >= CONTAINER_READS_SINCE:
        return None
    return (
        f"The node's agent ({version or 'unknown version'}) cannot read container logs or inspect containers: "
        "update it (the node's update action) first."
    )


def status(
    *,
    connection: str,
    last_seen: datetime | None,
    version: str | None,
    updating_since: datetime | None,
    now: datetime,
    timeout_seconds: int,
    platform_version: str,
) -> str:
    if updating_since is not None and now - updating_since < UPDATE_WINDOW:
        return "updating"
    if connection != "connected" or last_seen is None or (now - last_seen).total_seconds() > timeout_seconds:
        return "unreachable"
    if not supported(version, platform_version):
        return "outdated"
    return "connected"


def prefix_error(prefix: str) -> str | None:
    """Prefixes become container-name parts and Kubernetes namespaces: DNS-1123 labels."""
    if len(prefix) > 63 or not DNS_LABEL.fullmatch(prefix):
        return "A prefix is a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters."
    return None
