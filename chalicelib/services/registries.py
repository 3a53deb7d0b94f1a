"""Registries: CRUD with credentials sealed by KMS, live checks through the Registry HTTP API v2,
and what images and deployments need from them (image checks, pull references, credentials).

Every type except `unchecked` speaks the OCI distribution protocol at a known host, so one
client checks them all; a public Docker Hub registry is not checked (there is nothing to
authenticate, and Hub lookups are made at pull time). Tokens are decrypted only in memory,
for a check or a deployment.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib import ids
from chalicelib.adapters import outbound, registry_v2
from chalicelib.db import registries as repo
from chalicelib.db.items import RegistryItem
from chalicelib.errors import BadRequestError, NotFoundError
from chalicelib.models.paging import Page, PageQuery
from chalicelib.security import sealing
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

HUB_REGISTRY = "registry-1.docker.io"
FIXED_HOSTS = {"github": "ghcr.io", "gitlab": "registry.gitlab.com"}
IMAGE_CHECK_SECONDS = 20.0
SEEDED_HUB = {"name": "Docker Hub Library", "details": {"imageNamePrefix": "library", "public": True}}


def _context(team_id: str, registry_id: str) -> dict[str, str]:
    return {"team": team_id, "registry": registry_id}


def get_registry(team_id: str, registry_id: str) -> RegistryItem:
    registry = repo.get(team_id, registry_id)
    if registry is None:
        raise NotFoundError("Registry not found.", property="registryId")
    return registry


def list_registries(team: TeamAccess, query: PageQuery) -> Page[RegistryItem]:
    return repo.page_for_team(team.team_id, query).sorted(lambda r: r.created_at)


def in_use(registry: RegistryItem) -> bool:
    return repo.in_use(registry.id)


def display_url(registry: RegistryItem) -> str:
    details = registry.details or {}
    if registry.kind == "hub":
        return "hub.docker.com"
    return details.get("url") or FIXED_HOSTS.get(registry.kind, "")


def create_registry(team: TeamAccess, identity: Identity, request: Any) -> RegistryItem:
    registry_id, now = ids.new_id(), ids.utcnow()
    details, token = _split(request.details)
    if _needs_credentials(request.type, details) and not token:
        raise BadRequestError("A private registry needs a token.", property="details.token")
    _check(request.type, details, token)
    sealed = sealing.seal(token, _context(team.team_id, registry_id)) if token else None
    registry = repo.new_item(
        team.team_id,
        registry_id,
        request.name,
        request.description,
        request.icon,
        request.type,
        details,
        sealed,
        identity.user_id,
        now,
    )
    repo.create(team.team_id, registry)
    return registry


def update_registry(team: TeamAccess, identity: Identity, registry_id: str, request: Any) -> None:
    """Re-checks the registry. Without a new token the stored one is kept only while it would go to
    the same place (same type, URL and user): a stored secret never follows a changed address."""
    registry = get_registry(team.team_id, registry_id)
    details, token = _split(request.details)
    keep = not token and bool(registry.sealed_token) and bool(details.get("user"))
    if keep and _moved(registry, request.type, details):
        raise BadRequestError(
            "The registry's type, URL or user changed: enter its token again.", property="token", value=None
        )
    if keep:
        token = sealing.unseal(registry.sealed_token, _context(team.team_id, registry.id))
    if _needs_credentials(request.type, details) and not token:
        raise BadRequestError("A private registry needs a token.", property="details.token")
    _check(request.type, details, token)
    sealed = (
        registry.sealed_token if keep else (sealing.seal(token, _context(team.team_id, registry.id)) if token else None)
    )
    repo.update(
        team.team_id,
        registry,
        name=request.name,
        description=request.description,
        icon=request.icon,
        kind=request.type,
        details=details,
        sealed_token=sealed,
        by=identity.user_id,
        now=ids.utcnow(),
    )


def delete_registry(team: TeamAccess, registry_id: str) -> None:
    repo.delete(team.team_id, get_registry(team.team_id, registry_id))


def seeded_hub(team_id: str, by: str, now: datetime) -> RegistryItem:
    """The public Docker Hub library registry every new team starts with."""
    return repo.new_item(
        team_id, ids.new_id(), SEEDED_HUB["name"], None, None, "hub", dict(SEEDED_HUB["details"]), None, by, now
    )


def credentials(team_id: str, registry: RegistryItem) -> tuple[str, str] | None:
    """(user, token) for pulling, decrypted in memory only."""
    user = (registry.details or {}).get("user")
    if not registry.sealed_token or not user:
        return None
    return user, sealing.unseal(registry.sealed_token, _context(team_id, registry.id))


def image_reference(registry: RegistryItem, name: str, tag: str | None) -> str:
    """What an agent pulls: `host[/prefix]/name:tag`; a local unchecked registry gives `name:tag`."""
    details = registry.details or {}
    tag = tag or "latest"
    if registry.kind == "unchecked":
        host = _host(details.get("url") or "")
        return f"{host}/{name}:{tag}" if host and not details.get("local") else f"{name}:{tag}"
    if registry.kind == "hub":
        return f"{_repository(details, name)}:{tag}"
    return f"{_host(_endpoint(registry.kind, details))}/{_repository(details, name)}:{tag}"


def pull_server(registry: RegistryItem) -> str:
    """The registry host an engine logs in to for pulls (`docker.io` for Docker Hub)."""
    if registry.kind == "hub":
        return "docker.io"
    return _host(_endpoint(registry.kind, registry.details or {}) or (registry.details or {}).get("url") or "")


def image_check_budget() -> outbound.Deadline:
    """One time budget for all the registry calls of one API request, well inside API Gateway's 29 s."""
    return outbound.Deadline(IMAGE_CHECK_SECONDS)


def verify_image(
    team_id: str, registry: RegistryItem, name: str, tag: str | None, deadline: outbound.Deadline | None = None
) -> dict[str, str]:
    """Checks that `name:tag` exists in the registry; returns the image's labels."""
    details = registry.details or {}
    endpoint = _endpoint(registry.kind, details)
    if endpoint is None:
        return {}
    found = credentials(team_id, registry)
    client = registry_v2.RegistryClient(
        endpoint, *(found or (None, None)), auth_hosts=auth_hosts(registry.kind, details), deadline=deadline
    )
    repository = _repository(registry.details or {}, name)
    try:
        return client.labels(repository, tag or "latest")
    except registry_v2.NotFound:
        raise BadRequestError(
            f"Image {name}:{tag or 'latest'} not found in registry {registry.name}.",
            property="images",
            value=f"{name}:{tag or 'latest'}",
        ) from None
    except registry_v2.RegistryError as error:
        raise BadRequestError(f"Registry {registry.name}: {error}", property="registryId", value=registry.id) from None


def _split(details: Any) -> tuple[dict[str, Any], str | None]:
    token = details.token.get_secret_value() if details.token else None
    stored = details.model_dump(mode="json", by_alias=True, exclude={"token"}, exclude_none=True)
    if stored.get("public"):
        stored.pop("user", None)
        token = None
    return stored, token


def _needs_credentials(kind: str, details: dict[str, Any]) -> bool:
    return (
        kind in ("gitlab", "github")
        or (kind in ("v2", "google") and not details.get("public"))
        or (kind == "hub" and not details.get("public"))
    )


def _endpoint(kind: str, details: dict[str, Any]) -> str | None:
    if kind == "unchecked" or (kind == "hub" and details.get("public")):
        return None
    if kind == "hub":
        return HUB_REGISTRY
    return details.get("url") or FIXED_HOSTS.get(kind)


def _check(kind: str, details: dict[str, Any], token: str | None) -> None:
    endpoint = _endpoint(kind, details)
    if endpoint is None:
        return
    try:
        registry_v2.RegistryClient(endpoint, details.get("user"), token, auth_hosts=auth_hosts(kind, details)).check()
    except registry_v2.RegistryError as error:
        raise BadRequestError(str(error), property="details") from None


def auth_hosts(kind: str, details: dict[str, Any]) -> frozenset[str]:
    """The token services a registry type documents, besides the registry's own host: the only other
    hosts its credentials may go to (a realm elsewhere is asked without them)."""
    if kind == "hub":
        return frozenset({"auth.docker.io"})
    if kind == "github":
        return frozenset({"ghcr.io"})
    if kind == "gitlab":
        return _gitlab_auth_hosts(details)
    if kind == "google":
        host = _hostname(details.get("url") or "")
        return frozenset({host} if host == "gcr.io" or host.endswith((".gcr.io", ".pkg.dev")) else set())
    return frozenset()


def _gitlab_auth_hosts(details: dict[str, Any]) -> frozenset[str]:
    """gitlab.com for registry.gitlab.com; a self-hosted registry's GitLab (its apiUrl's host, or the
    registry host without its `registry.` label)."""
    hosts = {"gitlab.com"} if not details.get("url") else set()
    if details.get("apiUrl"):
        hosts.add(_hostname(details["apiUrl"]))
    registry_host = _hostname(details.get("url") or "")
    if registry_host.startswith("registry."):
        hosts.add(registry_host.removeprefix("registry."))
    return frozenset(hosts - {""})


def _moved(registry: RegistryItem, kind: str, details: dict[str, Any]) -> bool:
    """Whether the stored token would now go elsewhere (or be used as someone else's)."""
    stored = registry.details or {}
    return (
        kind != registry.kind
        or _endpoint(kind, details) != _endpoint(registry.kind, stored)
        or details.get("user") != stored.get("user")
        or details.get("apiUrl") != stored.get("apiUrl")
    )


def _hostname(url: str) -> str:
    return (urlsplit(url if "://" in url else f"https://{url}").hostname or "").lower()


def _host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


def _repository(details: dict[str, Any], name: str) -> str:
    prefix = details.get("imageNamePrefix")
    return f"{prefix}/{name}" if prefix and not name.startswith(f"{prefix}/") else name
