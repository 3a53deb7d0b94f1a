"""Image references and the initial config an added image gets (dyrector §3, §4.4).

Registries may describe an image's environment with labels
`org.dyrectorio.env.<KEY>=<type>[,required][,secret][,default:<value>]`; adding the image
pre-fills the config from them: secret keys become declared secrets, required or defaulted
plain keys become environment entries.
"""

from __future__ import annotations

import re
from typing import Any

from chalicelib.ids import new_id

ENV_LABEL = "org.dyrectorio.env."
# Docker reference grammar, registry-relative: path components and a tag.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
NAME_PATTERN = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_NOT_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_.-]+")


def split_reference(reference: str) -> tuple[str, str | None]:
    """`name[:tag]` → (name, tag); the first `:` separates them, as dyrector does."""
    name, sep, tag = reference.strip().partition(":")
    return name, (tag if sep else None)


def reference_error(name: str, tag: str | None) -> str | None:
    if not NAME_PATTERN.fullmatch(name) or len(name) > 255:
        return f"'{name}' is not a valid image name (lower-case path components such as 'library/nginx')."
    if tag is not None and not TAG_PATTERN.fullmatch(tag):
        return f"'{tag}' is not a valid image tag."
    return None


def container_name(image_name: str, taken: set[str]) -> str:
    """The last path segment, made a valid container name and unique within the version."""
    base = _NOT_NAME_CHARS.sub("-", image_name.rsplit("/", 1)[-1]).strip("-._") or "container"
    if len(base) < 2:
        base = f"{base}-container"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def config_from_labels(labels: dict[str, str] | None) -> dict[str, Any]:
    """Environment and secret keys declared by the image's env labels (stored config shape)."""
    environment: list[dict[str, Any]] = []
    secrets: list[dict[str, Any]] = []
    for label, rule in sorted((labels or {}).items()):
        declared = _env_label(label, rule)
        if declared is None:
            continue
        key, flags, default = declared
        if "secret" in flags:
            secrets.append({"id": new_id(), "key": key, "required": "required" in flags})
        elif "required" in flags or default is not None:
            environment.append({"id": new_id(), "key": key, "value": default or ""})
    return {field: entries for field, entries in (("environment", environment), ("secrets", secrets)) if entries}


def _env_label(label: str, rule: str) -> tuple[str, set[str], str | None] | None:
    """`org.dyrectorio.env.<KEY>` = `<type>[,flag...][,default:<value>]` → (KEY, flags, default);
    None for any other label."""
    key = label[len(ENV_LABEL) :].strip() if label.startswith(ENV_LABEL) else ""
    if not key:
        return None
    options = [part.strip() for part in rule.split(",")][1:]  # the first part is the type
    default = next((option.split(":", 1)[1] for option in options if option.startswith("default:")), None)
    return key, set(options), default
