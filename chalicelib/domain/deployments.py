"""Deployment rules (dyrector §4), pure: which statuses allow what, what a container gets, and
whether a deployment may start.

`start` checks the very configs the deploy worker sends to the agent: both build them with
`containers` (stored configs read as the contract's model, merged by `merge`) and check them with
`check_startable`, so what is checked is what is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from chalicelib.contracts.containers import ConfigModel, ContainerConfig, ImageConfig
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
) -> ContainerConfig:
    """What one container gets from the stored configs: instance > deployment > image (§4.6),
    `{{versionName}}` filled in."""
    merged = merge(
        _read(ImageConfig, image, "image"),
        _read(ContainerConfig, deployment, "deployment"),
        _read(ContainerConfig, instance, "instance"),
    )
    return with_version_name(merged, version_name)


Config = TypeVar("Config", bound=ConfigModel)


def _read(model: type[Config], stored: dict[str, Any] | None, level: str) -> Config:
    """A stored config as the model (stored items keep the API shape); one the model no longer
    accepts stops the start with a readable reason instead of deploying something else."""
    try:
        return model.model_validate(stored or {})
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise PreconditionFailedError(
            f"The {level} config is not valid any more ({where}: {problem['msg']}); edit it and start again.",
            property="config",
            value=where,
        ) from None


def with_version_name(config: ContainerConfig, version_name: str) -> ContainerConfig:
    """`{{versionName}}` (first occurrence) in env values and storage bucket/path (dyrector §4.4)."""

    def fill(text: str | None) -> str | None:
        return _VERSION_NAME.sub(version_name, text, count=1) if text else text

    update: dict[str, Any] = {
        "environment": [e.model_copy(update={"value": fill(e.value)}) for e in config.environment or []]
    }
    if config.storage:
        update["storage"] = config.storage.model_copy(
            update={"bucket": fill(config.storage.bucket), "path": fill(config.storage.path)}
        )
    return config.model_copy(update=update)


def container_name(config: ContainerConfig, instance_id: str) -> str:
    """The name of an instance's container within its prefix: the config's, else the instance id."""
    return config.name or instance_id


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
    config: ContainerConfig

    @property
    def name(self) -> str:
        return container_name(self.config, self.instance_id)


def containers(
    levels: Iterable[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
    deployment: dict[str, Any] | None,
    version_name: str,
) -> list[Container]:
    """The containers of `(instance id, image config, instance config)` triples, in their order:
    the one way both the start-time checks and the deploy worker derive what an instance gets."""
    return [
        Container(instance_id, effective_config(image, deployment, instance, version_name))
        for instance_id, image, instance in levels
    ]


def check_startable(containers: Iterable[Container], public_key: str) -> None:
    """Raises the first reason these containers cannot be deployed to a node whose agent holds
    `public_key`: a name used twice, a required secret without a value, a secret sealed for
    another key, or a port outside 1–65535 or inside a port range."""
    names: set[str] = set()
    for container in containers:
        _check_unique_name(container.name, names)
        _check_required_secrets(container)
        _check_sealed_for(container, public_key)
        _check_ports(container.config)


def _check_unique_name(name: str, names: set[str]) -> None:
    if name in names:
        raise BadRequestError(f"Two containers would be named {name!r}.", property="name", value=name)
    names.add(name)


def _check_required_secrets(container: Container) -> None:
    missing = [s.key for s in container.config.secrets or [] if s.required and not s.value]
    if missing:
        raise PreconditionFailedError(
            f"Required secrets have no value: {', '.join(missing)}.",
            property="instanceSecrets",
            value={"instanceId": container.instance_id, "secretKeys": missing},
        )


def _check_sealed_for(container: Container, public_key: str) -> None:
    stale = [s.key for s in container.config.secrets or [] if s.value and s.public_key != public_key]
    if stale:
        raise PreconditionFailedError(
            f"Secrets were sealed for another key of the node; seal them again: {', '.join(stale)}.",
            property="secrets",
            value={"instanceId": container.instance_id, "secretKeys": stale},
        )


def _check_ports(config: ContainerConfig) -> None:
    ranges = config.port_ranges or []
    for port in config.ports or []:
        internal = port.internal
        inside_range = any(r.internal.from_ <= internal <= r.internal.to for r in ranges)
        if not 1 <= internal <= MAX_PORT or inside_range:
            raise BadRequestError(
                f"Port {internal} is out of range or inside a port range.", property="ports", value=internal
            )
