"""The web console's files (`web/dist`, built by `make web`) under `make run`, next to the API.

`/api` and everything below it is the API's and never answered here. Any other GET is a file of
the console, or one of its screens: a path naming no file and having no file extension gets
`index.html`, so a reload or a shared link of a client-side route (`/acme/nodes`) opens that
screen. A missing file with an extension (`/assets/app-OLD.js`) is a 404, not the page.
On AWS, S3 and CloudFront do the same (`infra/web_hosting.py`); the headers here mirror its
response-headers policy: hashed assets are cached for a year, the page never without asking.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "web" / "dist"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".map": "application/json",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".wasm": "application/wasm",
}
IMMUTABLE = "public, max-age=31536000, immutable"  # assets carry their content hash in their name
REVALIDATE = "no-cache"


def content_security_policy(socket_url: str | None = None) -> str:
    """Only the console's own origin (and the WebSocket API for live events): nothing from the
    internet, no inline script, no framing. `wasm-unsafe-eval` lets libsodium compile its WebAssembly."""
    connect = "'self'"
    if socket_url:
        parts = urllib.parse.urlsplit(socket_url)
        connect += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


@dataclass(frozen=True)
class StaticReply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def is_api(target: str) -> bool:
    """Whether a request target belongs to the API (never shadowed by the console)."""
    path = urllib.parse.urlsplit(target).path
    return path == "/api" or path.startswith("/api/")


def reply_for(target: str, dist: Path = DIST) -> StaticReply:
    """What GET `target` answers with: a file of `dist`, its index.html for a screen, or a 404."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
    if "\x00" in path or ".." in path.split("/"):
        return _text(404, "Not found.\n")
    relative = posixpath.normpath(path).lstrip("/")
    index = dist / "index.html"
    if not index.is_file():
        return _text(503, "The console is not built yet: run `make web` (`make run` does it first).\n")
    candidate = (dist / relative).resolve() if relative not in ("", ".") else index
    if candidate.is_file() and candidate.is_relative_to(dist.resolve()):
        return _file(candidate, dist)
    if "." in relative.rsplit("/", 1)[-1]:
        return _text(404, "Not found.\n")
    return _file(index, dist)


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _file(path: Path, dist: Path) -> StaticReply:
    kind = content_type(path)
    assets = path.resolve().is_relative_to((dist / "assets").resolve())
    headers = {"Content-Type": kind, "Cache-Control": IMMUTABLE if assets else REVALIDATE, **_security_headers()}
    if path.suffix.lower() == ".html":
        headers["Content-Security-Policy"] = content_security_policy(os.environ.get("SOCKET_URL"))
    return StaticReply(200, path.read_bytes(), headers)


def _text(status: int, text: str) -> StaticReply:
    headers = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", **_security_headers()}
    return StaticReply(status, text.encode(), headers)


def _security_headers() -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"}
