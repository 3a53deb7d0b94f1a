"""The Docker Registry HTTP API v2 (OCI distribution), spoken with `requests`.

Handles both auth schemes a registry may ask for in its `WWW-Authenticate` challenge: Basic
(e.g. `docker-registry` with htpasswd) and Bearer (a token fetched from the challenge's realm,
as Docker Hub, GHCR, GitLab and GCR do). Credentials are never logged or put in messages.
"""

from __future__ import annotations

import re
from typing import Any

import requests

TIMEOUT = 5
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    )
)
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not be used; the message is safe to show."""


class Unreachable(RegistryError):
    pass


class Unauthorized(RegistryError):
    pass


class NotFound(RegistryError):
    pass


def base_url(url: str) -> str:
    """`host[:port]` means HTTPS, as Docker does; an explicit `http://` is kept (local registries)."""
    url = url.strip().rstrip("/")
    return url if re.match(r"^https?://", url) else f"https://{url}"


class RegistryClient:
    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.base = base_url(url)
        self.auth = (user, password) if user and password else None
        self.session = requests.Session()
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
        return reply.json()

    def labels(self, repository: str, reference: str) -> dict[str, str]:
        """The image config's labels (empty for multi-platform indexes)."""
        manifest = self.manifest(repository, reference)
        digest = (manifest.get("config") or {}).get("digest")
        if not digest:
            return {}
        blob = self._get(
            f"/v2/{repository}/blobs/{digest}", scope=f"repository:{repository}:pull", missing=digest
        ).json()
        return dict((blob.get("config") or {}).get("Labels") or {})

    def _get(
        self, path: str, scope: str | None, headers: dict[str, str] | None = None, missing: str | None = None
    ) -> requests.Response:
        reply = self._send(path, scope, headers)
        if reply.status_code == 401:
            reply = self._send(path, scope, headers, challenge=reply.headers.get("WWW-Authenticate", ""))
        if reply.status_code in (401, 403):
            raise Unauthorized(
                "The registry refused the credentials." if self.auth else "The registry requires credentials."
            )
        if reply.status_code == 404 and missing:
            raise NotFound(f"{missing} was not found in the registry.")
        if reply.status_code >= 400:
            raise RegistryError(f"The registry answered {reply.status_code}.")
        return reply

    def _send(
        self, path: str, scope: str | None, headers: dict[str, str] | None, challenge: str | None = None
    ) -> requests.Response:
        headers = dict(headers or {})
        auth = None
        if challenge:
            scheme = challenge.split(" ", 1)[0].lower()
            if scheme == "basic":
                auth = self.auth
            elif scheme == "bearer":
                headers["Authorization"] = f"Bearer {self._token(challenge, scope)}"
        try:
            return self.session.get(self.base + path, headers=headers, auth=auth, timeout=TIMEOUT)
        except requests.RequestException:
            raise Unreachable(f"The registry at {self.base} is not reachable.") from None

    def _token(self, challenge: str, scope: str | None) -> str:
        params = dict(_CHALLENGE.findall(challenge))
        realm = params.pop("realm", None)
        if not realm:
            raise RegistryError("The registry asked for a token without saying where to get one.")
        if scope:
            params["scope"] = scope
        key = f"{realm}|{params.get('scope')}"
        if key not in self._bearer:
            try:
                reply = self.session.get(realm, params=params, auth=self.auth, timeout=TIMEOUT)
            except requests.RequestException:
                raise Unreachable("The registry's token service is not reachable.") from None
            if reply.status_code in (401, 403):
                raise Unauthorized("The registry refused the credentials.")
            if reply.status_code >= 400:
                raise RegistryError(f"The registry's token service answered {reply.status_code}.")
            body = reply.json()
            self._bearer[key] = body.get("token") or body.get("access_token") or ""
        return self._bearer[key]
