"""Traefik on Docker nodes (dyrector §6 item 11): the labels that route to an exposed container, and
the arguments of the Traefik the agent runs itself. Pure: no engine, no SDK.

An exposed container gets the router and the service `<prefix>-<name>` on the entrypoint `web`.
Its rule is `Host(routing.domain)`, else `Host(<name>.<prefix>.<ROOT_DOMAIN>)` when the node has
a root domain, joined with `PathPrefix(routing.path)` when a path is set; with neither a host nor
a path there is no rule and the deployment fails (dagent's ErrInsufficientRoutingRules).
`stripPath` strips the path prefix before the request reaches the container, `uploadLimit`
caps the request body, and `exposeWithTls` adds the router `<prefix>-<name>-secure` on
`websecure` with a certificate from the ACME resolver `le`.

Where this differs from dagent, on purpose: the service port is `routing.port`, else the first
internal port (dagent leaves it to Traefik, which picks the lowest exposed one; the Kubernetes
runtime also takes the first), and the upload limit is a middleware of this container's own
routers (dagent writes one shared middleware `limit` that no router uses, so it has no effect).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from agent.runtime.docker_spec import DeployError
from chalicelib.contracts.naming import container_name

WEB = "web"
WEBSECURE = "websecure"
RESOLVER = "le"
ACME_STORAGE = "/letsencrypt/acme.json"
EXPOSED = ("expose", "exposeWithTls")
# `16k`, `10MB`, `1Mi`, `2 g`: binary multiples, as dagent's datasize parser reads them.
_SIZE = re.compile(r"^\s*(\d+)\s*(?:([kmgtpe])i?)?b?\s*$", re.IGNORECASE)
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


class RoutingError(DeployError):
    """An exposed container that cannot be routed; the message says what to set."""


def routing_labels(
    *,
    prefix: str,
    name: str,
    expose: str | None,
    domain: str | None,
    path: str | None,
    strip_path: bool,
    upload_limit: str | None,
    port: int | None,
    internal_ports: Iterable[int],
    root_domain: str | None,
) -> dict[str, str]:
    """The Traefik labels of the container `<prefix>-<name>`; none when it is not exposed."""
    if (expose or "none") not in EXPOSED:
        return {}
    service = container_name(prefix, name)
    rule = _rule(prefix, name, domain, path, root_domain)
    backend = _backend(port, list(internal_ports))
    middlewares = _middlewares(service, path if strip_path else None, upload_limit)
    labels = {"traefik.enable": "true"}
    labels |= {f"traefik.http.middlewares.{m}.{key}": value for m, (key, value) in middlewares.items()}
    if backend:
        labels[f"traefik.http.services.{service}.loadbalancer.server.port"] = str(backend)
    for router, options in _routers(service, expose == "exposeWithTls", rule, list(middlewares), backend).items():
        labels |= {f"traefik.http.routers.{router}.{key}": value for key, value in options.items()}
    return labels


def _backend(port: int | None, internal: list[int]) -> int | None:
    """The container port Traefik forwards to: routing.port (one of the internal ports), else the first."""
    if port and port not in internal:
        listed = ", ".join(str(p) for p in internal) or "none"
        raise RoutingError(f"routing.port {port} is not one of the container's internal ports ({listed})")
    return port or (internal[0] if internal else None)


def _routers(
    service: str, tls: bool, rule: str, middlewares: list[str], backend: int | None
) -> dict[str, dict[str, str]]:
    """`<service>` on `web`; with TLS also `<service>-secure` on `websecure` with an ACME certificate."""
    common = {"rule": rule}
    if middlewares:
        common["middlewares"] = ",".join(middlewares)
    if backend:
        common["service"] = service
    routers = {service: {"entrypoints": WEB, **common}}
    if tls:
        secure = {"entrypoints": WEBSECURE, "tls": "true", "tls.certresolver": RESOLVER}
        routers[f"{service}-secure"] = {**secure, **common}
    return routers


def _middlewares(service: str, strip: str | None, upload_limit: str | None) -> dict[str, tuple[str, str]]:
    """The container's own middlewares, by name: (option, value)."""
    found = {}
    if strip:
        found[f"{service}-stripper"] = ("stripprefix.prefixes", _path(strip))
    if upload_limit:
        found[f"{service}-limit"] = ("buffering.maxRequestBodyBytes", str(size_in_bytes(upload_limit)))
    return found


def _rule(prefix: str, name: str, domain: str | None, path: str | None, root_domain: str | None) -> str:
    host = domain
    if not host and root_domain:
        host = ".".join(part for part in (name, prefix, root_domain) if part)
    rules = []
    if host:
        rules.append(f"Host(`{_literal(host, 'routing.domain')}`)")
    if path:
        rules.append(f"PathPrefix(`{_path(path)}`)")
    if not rules:
        raise RoutingError(
            "exposing the container needs a routing rule: set routing.domain or routing.path, "
            "or ROOT_DOMAIN on the node's agent"
        )
    return " && ".join(rules)


def _path(path: str) -> str:
    """A path prefix as Traefik wants it: starting with `/`."""
    literal = _literal(path, "routing.path")
    return literal if literal.startswith("/") else f"/{literal}"


def _literal(value: str, field: str) -> str:
    """A value that goes between backquotes in a Traefik rule (which has no escape for them)."""
    if "`" in value or any(c.isspace() for c in value):
        raise RoutingError(f"{field} {value!r} may contain neither spaces nor backquotes")
    return value


def size_in_bytes(value: str) -> int:
    """`16384`, `16k`, `16KB`, `16Ki` → 16384 (binary multiples); anything else is a RoutingError."""
    match = _SIZE.match(value)
    if not match:
        raise RoutingError(f"routing.uploadLimit {value!r} is not a size such as 16384, 16k or 10MB")
    exponent: int = _UNITS[(match.group(2) or "").lower()]
    return int(match.group(1)) << (10 * exponent)


def traefik_arguments(*, port: int, tls: bool, tls_port: int, acme_email: str | None, log_level: str) -> list[str]:
    """The command of the agent's own Traefik (as dagent starts it): the Docker provider for
    containers that opt in with `traefik.enable=true`, `web` on `port`; with TLS, `websecure` on
    `tls_port` and the resolver `le` answering Let's Encrypt's HTTP challenge on `web`."""
    arguments = [
        "--providers.docker=true",
        "--providers.docker.exposedByDefault=false",
        f"--entryPoints.{WEB}.address=:{port}",
        f"--log.level={log_level}",
    ]
    if tls:
        arguments += [
            f"--entryPoints.{WEBSECURE}.address=:{tls_port}",
            f"--certificatesResolvers.{RESOLVER}.acme.httpChallenge.entryPoint={WEB}",
            f"--certificatesResolvers.{RESOLVER}.acme.storage={ACME_STORAGE}",
            f"--certificatesResolvers.{RESOLVER}.acme.email={acme_email or ''}",
        ]
    return arguments
