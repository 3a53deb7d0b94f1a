"""Registries: CRUD with credentials sealed by KMS, live checks through the Registry HTTP API v2,
and what images and deployments need from them (image checks, pull references, credentials).

Every type except `unchecked` speaks the OCI distribution protocol at a known host, so one
client checks them all; a public Docker Hub registry is not checked (there is nothing to
authenticate, and Hub lookups are made at pull time). Tokens are decrypted only in memory,
for a check or a deployment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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
MAX_FOUND = 200  # image names or tags one lookup answers
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
    """Re-checks the registry; without a new token the stored one is kept (`_token_to_keep`)."""
    registry = get_registry(team.team_id, registry_id)
    details, token = _split(request.details)
    kept = _token_to_keep(team.team_id, registry, request.type, details, token)
    token = token or kept
    if _needs_credentials(request.type, details) and not token:
        raise BadRequestError("A private registry needs a token.", property="details.token")
    _check(request.type, details, token)
    sealed = (
        registry.sealed_token if kept else (sealing.seal(token, _context(team.team_id, registry.id)) if token else None)
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


def _token_to_keep(
    team_id: str, registry: RegistryItem, kind: str, details: dict[str, Any], token: str | None
) -> str | None:
    """The stored token, decrypted, when a change gives none: kept only while it would go to the same
    place (same type, URL and user), since a stored secret never follows a changed address."""
    if token or not registry.sealed_token or not details.get("user"):
        return None
    if _moved(registry, kind, details):
        raise BadRequestError(
            "The registry's type, URL or user changed: enter its token again.", property="details.token", value=None
        )
    return sealing.unseal(registry.sealed_token, _context(team_id, registry.id))


@dataclass(frozen=True)
class CheckResult:
    checked: bool
    message: str


def check_registry(team: TeamAccess, request: Any | None, registry_id: str | None = None) -> CheckResult:
    """The live check create and update make, without saving: of `request`, of a change to a stored
    registry (its token kept as an update keeps it), or of a stored registry as it is (no request)."""
    registry = get_registry(team.team_id, registry_id) if registry_id else None
    kind, details, token = _to_check(team.team_id, request, registry)
    endpoint = _endpoint(kind, details)
    if endpoint is None:
        return CheckResult(False, _unchecked_reason(kind))
    _check(kind, details, token)
    who = "with these credentials" if token else "without credentials"
    return CheckResult(True, f"The registry at {_host(endpoint)} answered {who}.")


def _to_check(
    team_id: str, request: Any | None, registry: RegistryItem | None
) -> tuple[str, dict[str, Any], str | None]:
    """Type, details and token of what a check is about (the token decrypted in memory only)."""
    if request is None:
        assert registry is not None, "a check without a request is of a stored registry"
        found = credentials(team_id, registry)
        return registry.kind, dict(registry.details or {}), found[1] if found else None
    details, token = _split(request.details)
    if registry is not None:
        token = token or _token_to_keep(team_id, registry, request.type, details, token)
    if _needs_credentials(request.type, details) and not token:
        raise BadRequestError("A private registry needs a token.", property="details.token")
    return request.type, details, token


def _unchecked_reason(kind: str) -> str:
    if kind == "unchecked":
        return "Unchecked registries are not checked: agents pull their images as they are named."
    return "Docker Hub's public images need no credentials: there is nothing to check."


def find_images(team: TeamAccess, registry_id: str, text: str) -> list[str]:
    """Names in the registry's catalog containing `text` (case-insensitive), relative to its image
    name prefix, sorted; at most MAX_FOUND."""
    registry = get_registry(team.team_id, registry_id)
    prefix = (registry.details or {}).get("imageNamePrefix")
    try:
        names = _lookup_client(team.team_id, registry).catalog()
    except registry_v2.NotListed:
        raise BadRequestError(
            f"Registry {registry.name} does not list its images: type the image's name.", property="q"
        ) from None
    except registry_v2.RegistryError as error:
        raise BadRequestError(f"Registry {registry.name}: {error}", property="registryId") from None
    if prefix:
        names = [n.removeprefix(f"{prefix}/") for n in names if n.startswith(f"{prefix}/")]
    needle = text.strip().lower()
    return sorted(n for n in names if needle in n.lower())[:MAX_FOUND]


def list_tags(team: TeamAccess, registry_id: str, image: str | None) -> list[str]:
    """The image's tags, newest-looking first (`latest`, then versions in descending natural order)."""
    registry = get_registry(team.team_id, registry_id)
    if not image:
        raise BadRequestError("image: Field required", property="image")
    repository = _repository(registry.details or {}, image)
    try:
        tags = _lookup_client(team.team_id, registry).tags(repository)
    except registry_v2.NotFound:
        raise NotFoundError(f"Image {image} not found in registry {registry.name}.", property="image") from None
    except registry_v2.RegistryError as error:
        raise BadRequestError(f"Registry {registry.name}: {error}", property="registryId") from None
    return sorted(set(tags), key=_natural, reverse=True)[:MAX_FOUND]


def _natural(tag: str) -> tuple[int, list[tuple[int, str]]]:
    parts = [(int(p), "") if p.isdigit() else (-1, p) for p in re.split(r"(\d+)", tag) if p]
    return (1 if tag == "latest" else 0, parts)


def _lookup_client(team_id: str, registry: RegistryItem) -> registry_v2.RegistryClient:
    """A client for looking images up: Docker Hub's public images too (anonymously), never an
    unchecked registry (nothing is known about what it speaks)."""
    details = registry.details or {}
    endpoint = HUB_REGISTRY if registry.kind == "hub" else _endpoint(registry.kind, details)
    if endpoint is None:
        raise BadRequestError(
            f"Registry {registry.name} is unchecked: type the image's name and tag.", property="registryId"
        )
    found = credentials(team_id, registry)
    return registry_v2.RegistryClient(
        endpoint, *(found or (None, None)), auth_hosts=auth_hosts(registry.kind, details), deadline=image_check_budget()
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
    team_id: str,
    registry: RegistryItem,
    name: str,
    tag: str | None,
    deadline: outbound.Deadline | None = None,
    field: str = "images",
) -> dict[str, str]:
    """Checks that `name:tag` exists in the registry; returns the image's labels. A missing image is
    refused at `field`: the request property that named it (`images` when added, `tag` when changed)."""
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
            property=field,
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
