"""A node's status, computed (never stored) from its agent's last heartbeat, version and update.

`unreachable` after `timeout` seconds of silence even before the health sweep has run, so an
answer never claims a dead agent is connected; `outdated` agents connect but get no commands.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from chalicelib.contracts.naming import DNS_LABEL

UPDATE_WINDOW = timedelta(minutes=5)
# 0.2: commands pushed over a WebSocket (0.1 long-polled); 0.3: storage imports and Traefik routing
# on Docker (a 0.2 agent ignores both and would report such a deployment successful).
MIN_AGENT_VERSION = (0, 3, 0)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


def parse_version(version: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.match(version or "")
    return tuple(int(part) for part in match.groups()) if match else None  # type: ignore[return-value]


def supported(version: str | None, platform_version: str) -> bool:
    """Agents from MIN_AGENT_VERSION up to the platform's own agent version are supported."""
    parsed, newest = parse_version(version), parse_version(platform_version)
    return parsed is not None and newest is not None and MIN_AGENT_VERSION <= parsed <= newest


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
