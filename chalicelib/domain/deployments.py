"""Deployment rules (dyrector §4), pure: which statuses allow what, what a container gets, and
whether a deployment may start.

`start` checks the very configs the deploy worker sends to the agent: both build them with
`effective_config`, so the two can never drift.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.merge import merge
from chalicelib.errors import BadRequestError, PreconditionFailedError

_MUTABLE = ("preparing", "failed")
_DEPLOYABLE = ("preparing", "failed", "obsolete")
_VERSION_NAME = re.compile(r"\{\{\s*versionName\s*\}\}")
MAX_PORT = 65535


def mutable_statuses(rolling: bool) -> tuple[str, ...]:
    """Statuses in which the note, prefix and configs may change; a rolling version's successful
    deployment stays editable, since it is deployed again and again."""
    return (*_MUTABLE, "successful") if rolling else _MUTABLE


def deployable_statuses(rolling: bool) -> tuple[str, ...]:
    """Statuses from which `start` may run; never `in-progress` (one try at a time) nor, for
    incremental versions, `successful` (a release is deployed once)."""
    return (*_DEPLOYABLE, "successful") if rolling else _DEPLOYABLE


def effective_config(
    image: dict[str, Any] | None, deployment: dict[str, Any] | None, instance: dict[str, Any] | None, version_name: str
) -> dict[str, Any]:
    """What one container gets: instance > deployment > image (§4.6), `{{versionName}}` filled in."""
    return with_version_name(merge(image, deployment, instance), version_name)


def with_version_name(config: dict[str, Any], version_name: str) -> dict[str, Any]:
    """`{{versionName}}` (first occurrence) in env values and storage bucket/path (dyrector §4.4)."""
    config["environment"] = [
        {**e, "value": _VERSION_NAME.sub(version_name, e.get("value") or "", count=1)}
        for e in config.get("environment") or []
    ]
    if isinstance(config.get("storage"), dict):
        config["storage"] = {
            k: _VERSION_NAME.sub(version_name, v, count=1) if isinstance(v, str) else v
            for k, v in config["storage"].items()
        }
    return config


def container_name(config: dict[str, Any], instance_id: str) -> str:
    """The name of an instance's container within its prefix: the config's, else the instance id."""
    return config.get("name") or instance_id


def without_secret_values(config: dict[str, Any] | None) -> dict[str, Any]:
    """The config with every secret emptied: sealed values are useless on another node."""
    config = dict(config or {})
    if config.get("secrets"):
        config["secrets"] = [{**s, "value": "", "encrypted": False, "publicKey": None} for s in config["secrets"]]
    return config


def merge_patch(stored: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A PATCH applied to a stored config: given fields replace (null clears), labels and
    annotations replace only the sub-maps given (dyrector §4.3)."""
    result = dict(stored)
    for field, value in patch.items():
        if field in ("labels", "annotations") and isinstance(value, dict) and isinstance(result.get(field), dict):
            value = {**result[field], **value}
        if value is None:
            result.pop(field, None)
        else:
            result[field] = value
    return result


@dataclass(frozen=True)
class Container:
    """One container a start would create: its instance and its effective config."""

    instance_id: str
    config: dict[str, Any]


def check_startable(containers: Iterable[Container], public_key: str) -> None:
    """Raises the first reason these containers cannot be deployed to a node whose agent holds
    `public_key`: a name used twice, a required secret without a value, a secret sealed for
    another key, or a port outside 1–65535 or inside a port range."""
    names: set[str] = set()
    for container in containers:
        _check_unique_name(container.config, names)
        _check_required_secrets(container)
        _check_sealed_for(container, public_key)
        _check_ports(container.config)


def _check_unique_name(config: dict[str, Any], names: set[str]) -> None:
    name = config.get("name") or ""
    if name in names:
        raise BadRequestError(f"Two containers would be named {name!r}.", property="name", value=name)
    names.add(name)


def _check_required_secrets(container: Container) -> None:
    missing = [s["key"] for s in container.config["secrets"] if s.get("required") and not s.get("value")]
    if missing:
        raise PreconditionFailedError(
            f"Required secrets have no value: {', '.join(missing)}.",
            property="instanceSecrets",
            value={"instanceId": container.instance_id, "secretKeys": missing},
        )


def _check_sealed_for(container: Container, public_key: str) -> None:
    stale = [s["key"] for s in container.config["secrets"] if s.get("value") and s.get("publicKey") != public_key]
    if stale:
        raise PreconditionFailedError(
            f"Secrets were sealed for another key of the node; seal them again: {', '.join(stale)}.",
            property="secrets",
            value={"instanceId": container.instance_id, "secretKeys": stale},
        )


def _check_ports(config: dict[str, Any]) -> None:
    ranges = config.get("portRanges") or []
    for port in config.get("ports") or []:
        internal = port["internal"]
        inside_range = any(r["internal"]["from"] <= internal <= r["internal"]["to"] for r in ranges)
        if not 1 <= internal <= MAX_PORT or inside_range:
            raise BadRequestError(
                f"Port {internal} is out of range or inside a port range.", property="ports", value=internal
            )
