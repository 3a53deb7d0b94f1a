"""The Docker Registry HTTP API v2 (OCI distribution), spoken through `outbound` (the one guarded
way out: address checks, one deadline, capped answers).

Handles both auth schemes a registry may ask for in its `WWW-Authenticate` challenge: Basic
(e.g. `docker-registry` with htpasswd) and Bearer (a token fetched from the challenge's realm,
as Docker Hub, GHCR, GitLab and GCR do). The credentials go only to the registry's own origin and
to the auth hosts its type documents (`auth_hosts`); a realm anywhere else is asked anonymously.
Credentials are never logged or put in messages; no answer, however odd, escapes as anything but
a `RegistryError`, and what failed is never told apart from "not reachable" (no port/status oracle).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit

from chalicelib.adapters import outbound

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
# Lists (catalog, tags) are read a page at a time, following `Link: <…>; rel="next"`, this far at most.
PAGE_SIZE = 100
MAX_PAGES = 10


class RegistryError(Exception):
    """The registry could not be used; the message is safe to show."""


class Unreachable(RegistryError):
    pass


class Unauthorized(RegistryError):
    pass


class NotFound(RegistryError):
    pass


class NotListed(RegistryError):
    """The registry has no catalog for these credentials (Docker Hub, GHCR, GitLab...)."""


def base_url(url: str) -> str:
    """`host[:port]` means HTTPS, as Docker does; an explicit `http://` is kept (local registries)."""
    url = url.strip().rstrip("/")
    return url if re.match(r"^https?://", url) else f"https://{url}"


class RegistryClient:
    def __init__(
        self,
        url: str,
        user: str | None = None,
        password: str | None = None,
        auth_hosts: frozenset[str] = frozenset(),
        deadline: outbound.Deadline | None = None,
    ) -> None:
        self.base = base_url(url)
        self.auth = outbound.basic_auth(user, password) if user and password else None
        self.auth_hosts = auth_hosts
        self.deadline = deadline or outbound.Deadline()
        self._bearer: dict[str, str] = {}

    def check(self) -> None:
        """Raises unless the registry answers its API root with these credentials."""
        self._get("/v2/", scope=None)

    def manifest(self, repository: str, reference: str) -> dict[str, Any]:
        reply = self._get(
            f"/v2/{repository}/manifests/{reference}",
            scope=f"repository:{repository}:pull",
            headers={"Accept": MANIFEST_TYPES},
            missing=f"{repository}:{reference}",
        )
        return _object(reply, f"The registry's answer for {repository}:{reference} is not a manifest.")

    def catalog(self) -> list[str]:
        """The repositories the registry lists (`/v2/_catalog`); registries without a catalog, or that
        keep it from these credentials, raise `NotListed`."""
        try:
            return self._list(f"/v2/_catalog?n={PAGE_SIZE}", "registry:catalog:*", "repositories", None)
        except (Unauthorized, NotFound):
            raise NotListed("The registry does not list its images.") from None

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (`/v2/<repository>/tags/list`); NotFound when it has none."""
        return self._list(
            f"/v2/{repository}/tags/list?n={PAGE_SIZE}", f"repository:{repository}:pull", "tags", repository
        )

    def _list(self, path: str, scope: str, field: str, missing: str | None) -> list[str]:
        found: list[str] = []
        next_path: str | None = path
        for _ in range(MAX_PAGES):
            if next_path is None:
                break
            reply = self._get(next_path, scope=scope, missing=missing or next_path)
            entries = _object(reply, "The registry's answer is not a list.").get(field) or []
            if not isinstance(entries, list):
                raise RegistryError("The registry's answer is not a list.")
            found.extend(entry for entry in entries if isinstance(entry, str))
            next_path = self._next_page(reply)
        return found

    def _next_page(self, reply: outbound.Reply) -> str | None:
        """The path of the page after this one (`Link: <…>; rel="next"`); None on the last page, or
        when the next page is on another host: the credentials stay with this one."""
        link = _NEXT_LINK.search(reply.headers.get("link", ""))
        if link is None:
            return None
        following = urlsplit(link.group(1))
        if following.netloc and following.netloc != urlsplit(self.base).netloc:
            return None
        return following.path + (f"?{following.query}" if following.query else "")

    def labels(self, repository: str, reference: str) -> dict[str, str]:
        """The image config's labels (empty for multi-platform indexes)."""
        manifest = self.manifest(repository, reference)
        config = manifest.get("config")
        digest = config.get("digest") if isinstance(config, dict) else None
        if not digest or not isinstance(digest, str):
            return {}
        reply = self._get(f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull", missing=digest)
        blob = _object(reply, f"The registry's answer for {repository}:{reference} is not an image config.")
        image_config = blob.get("config")
        labels = image_config.get("Labels") if isinstance(image_config, dict) else None
        if not isinstance(labels, dict):
            return {}
        return {str(k): v for k, v in labels.items() if isinstance(v, str)}

    def _get(
        self, path: str, scope: str | None, headers: dict[str, str] | None = None, missing: str | None = None
    ) -> outbound.Reply:
        reply = self._send(path, scope, headers)
        if reply.status == 401:
            reply = self._send(path, scope, headers, challenge=reply.headers.get("www-authenticate", ""))
        if reply.status in (401, 403):
            raise Unauthorized(
                "The registry refused the credentials." if self.auth else "The registry requires credentials."
            )
        if reply.status == 404 and missing:
            raise NotFound(f"{missing} was not found in the registry.")
        if not 200 <= reply.status < 300:
            raise self._unreachable()
        return reply

    def _send(
        self, path: str, scope: str | None, headers: dict[str, str] | None, challenge: str | None = None
    ) -> outbound.Reply:
        headers = dict(headers or {})
        if challenge:
            scheme = challenge.split(" ", 1)[0].lower()
            if scheme == "basic" and self.auth:
                headers["Authorization"] = self.auth
            elif scheme == "bearer":
                headers["Authorization"] = f"Bearer {self._token(challenge, scope)}"
        try:
            return outbound.request("GET", self.base + path, headers=headers, deadline=self.deadline)
        except outbound.OutboundError:
            raise self._unreachable() from None

    def _token(self, challenge: str, scope: str | None) -> str:
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError("The registry asked for a token without saying where to get one.")
        if scope:
            params["scope"] = scope
        key = f"{realm}|{params.get('scope')}"
        if key not in self._bearer:
            self._bearer[key] = self._fetch_token(realm, params)
        return self._bearer[key]

    def _fetch_token(self, realm: str, params: dict[str, str]) -> str:
        headers = {"Authorization": self.auth} if self.auth and self.may_authenticate(realm) else {}
        url = realm + ("&" if "?" in realm else "?") + urlencode(params)
        try:
            reply = outbound.request("GET", url, headers=headers, deadline=self.deadline)
        except outbound.OutboundError:
            raise Unreachable("The registry's token service is not reachable.") from None
        if reply.status in (401, 403):
            raise Unauthorized("The registry refused the credentials.")
        body = _object(reply, "The registry's token service gave no token.") if reply.status == 200 else {}
        token = body.get("token") or body.get("access_token")
        if not isinstance(token, str) or not token:
            raise Unreachable("The registry's token service gave no token.")
        return token

    def may_authenticate(self, realm: str) -> bool:
        """Whether the registry's credentials may go to this token realm: the registry's own host, or
        an auth host its type documents (Docker Hub's auth.docker.io...), over https unless local."""
        realm_parts, base_parts = urlsplit(realm), urlsplit(self.base)
        host = (realm_parts.hostname or "").lower()
        if host == (base_parts.hostname or "").lower():
            return realm_parts.scheme == base_parts.scheme or realm_parts.scheme == "https"
        return realm_parts.scheme == "https" and host in self.auth_hosts

    def _unreachable(self) -> Unreachable:
        return Unreachable(f"The registry at {self.base} is not reachable.")


def _object(reply: outbound.Reply, problem: str) -> dict[str, Any]:
    try:
        body = reply.json()
    except outbound.OutboundError:
        raise RegistryError(problem) from None
    if not isinstance(body, dict):
        raise RegistryError(problem)
    return body
