"""What the operator sets on a node, from the agent's environment (dyrector's dagent and crane names).

Docker nodes read every variable below; Kubernetes nodes read `ROOT_DOMAIN` and `RCLONE_IMAGE`.

| variable | default | what it does |
|---|---|---|
| `ROOT_DOMAIN` | unset | exposed containers without `routing.domain` answer on `<name>.<prefix>.<ROOT_DOMAIN>` |
| `TRAEFIK_ENABLED` | `false` | the agent runs its own Traefik (container `traefik`, host network) at start |
| `TRAEFIK_IMAGE` | `traefik:v2.8` | its image (dagent pins v2.8; the labels the agent writes are v2 and v3 syntax) |
| `TRAEFIK_PORT` / `TRAEFIK_TLS_PORT` | `80` / `443` | its entrypoints `web` and, with TLS, `websecure` |
| `TRAEFIK_TLS` | `false` | adds `websecure` and the ACME (Let's Encrypt) resolver `le` |
| `TRAEFIK_ACME_MAIL` | unset | the ACME account e-mail (`TRAEFIK_ACME_EMAIL` is read too); required with TLS |
| `TRAEFIK_LOG_LEVEL` | `INFO` | its log level |
| `TRAEFIK_CONTAINER_NAME` | `traefik` | its container's name |
| `HOST_DOCKER_SOCK_PATH` | `/var/run/docker.sock` | the engine socket Traefik's Docker provider watches |
| `RCLONE_IMAGE` | `rclone/rclone:1.57.0` | the storage importer (Docker: `<container>-import`; Kubernetes: `import`) |
| `RCLONE_NETWORK` | unset | its network mode on Docker; `host` when the storage is reachable from the host only |
| `CRASH_WINDOW_SECONDS` | `0` | Docker: how long a started container must stay up to count (`minReadySeconds`) |

Read once at start; a bad value stops the agent with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_TRAEFIK_IMAGE = "traefik:v2.8"
DEFAULT_RCLONE_IMAGE = "rclone/rclone:1.57.0"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class SettingsError(ValueError):
    """An environment variable the agent cannot use; the message names it."""


@dataclass(frozen=True)
class TraefikSettings:
    enabled: bool = False
    image: str = DEFAULT_TRAEFIK_IMAGE
    port: int = 80
    tls: bool = False
    tls_port: int = 443
    acme_email: str | None = None
    log_level: str = "INFO"
    container_name: str = "traefik"
    docker_socket: str = "/var/run/docker.sock"


@dataclass(frozen=True)
class DockerSettings:
    root_domain: str | None = None
    traefik: TraefikSettings = field(default_factory=TraefikSettings)
    rclone_image: str = DEFAULT_RCLONE_IMAGE
    rclone_network: str | None = None
    crash_window: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DockerSettings:
        env = os.environ if env is None else env
        return cls(
            root_domain=_text(env, "ROOT_DOMAIN"),
            traefik=_traefik(env),
            rclone_image=_text(env, "RCLONE_IMAGE") or DEFAULT_RCLONE_IMAGE,
            rclone_network=_text(env, "RCLONE_NETWORK"),
            crash_window=_seconds(env, "CRASH_WINDOW_SECONDS", 0.0),
        )


@dataclass(frozen=True)
class KubernetesSettings:
    root_domain: str | None = None
    rclone_image: str = DEFAULT_RCLONE_IMAGE
    # How often a rollout is looked at: first after `poll_seconds`, then twice as long each time, up to
    # `poll_max_seconds` (not read from the environment; tests shorten them).
    poll_seconds: float = 0.5
    poll_max_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KubernetesSettings:
        env = os.environ if env is None else env
        return cls(
            root_domain=_text(env, "ROOT_DOMAIN"),
            rclone_image=_text(env, "RCLONE_IMAGE") or DEFAULT_RCLONE_IMAGE,
        )


def _traefik(env: Mapping[str, str]) -> TraefikSettings:
    settings = TraefikSettings(
        enabled=_flag(env, "TRAEFIK_ENABLED"),
        image=_text(env, "TRAEFIK_IMAGE") or DEFAULT_TRAEFIK_IMAGE,
        port=_port(env, "TRAEFIK_PORT", 80),
        tls=_flag(env, "TRAEFIK_TLS"),
        tls_port=_port(env, "TRAEFIK_TLS_PORT", 443),
        acme_email=_text(env, "TRAEFIK_ACME_MAIL") or _text(env, "TRAEFIK_ACME_EMAIL"),
        log_level=(_text(env, "TRAEFIK_LOG_LEVEL") or "INFO").upper(),
        container_name=_text(env, "TRAEFIK_CONTAINER_NAME") or "traefik",
        docker_socket=_text(env, "HOST_DOCKER_SOCK_PATH") or "/var/run/docker.sock",
    )
    if settings.enabled and settings.tls and not settings.acme_email:
        raise SettingsError("TRAEFIK_TLS needs TRAEFIK_ACME_MAIL: Let's Encrypt asks for an account e-mail")
    return settings


def _text(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value; unset and empty are the same (None)."""
    return env.get(name) or None


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = (env.get(name) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, not {value!r}")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name) or ""
    if not value:
        return default
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise SettingsError(f"{name} must be a port number (1-65535), not {value!r}")
    return int(value)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 600:
        raise SettingsError(f"{name} must be a number of seconds from 0 to 600, not {value!r}")
    return seconds
