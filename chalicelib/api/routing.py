"""How every route is declared, validated, authenticated, audited and answered.

`Router.route` wraps a view so that: path ids are checked, the bearer token is
verified, the JSON body and query are validated by pydantic, the result is shaped by
the response model (by alias; a `Page` becomes its documented array plus the next page's
headers, README "API: paging"), successful team writes are audited, and every failure
becomes a JSON `{message, property, value}` with the status its error class owns.
This module is the only place errors become HTTP. Each declaration is also recorded
in `ROUTES`, from which the OpenAPI document is generated.

Cold starts: `app.py` registers every route from `api/manifest.py` with a stand-in view that
imports the route's module (its models and services) on the route's first call; this module
imports no service at import for the same reason.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from chalice import Chalice, Response
from pydantic import SecretStr, TypeAdapter, ValidationError

from chalicelib import ids
from chalicelib.adapters import aws, observability
from chalicelib.errors import AppError, BadRequestError, PayloadTooLargeError, ServiceUnavailableError

if TYPE_CHECKING:
    from chalicelib.db.items import MemberItem, TeamItem
    from chalicelib.services.access import TeamAccess
    from chalicelib.services.agents import AgentIdentity
    from chalicelib.services.identity import Identity

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# Fields whose input is never echoed back in an error (nor logged).
SECRET_FIELDS = frozenset({"password", "secretKey", "accessKey", "token", "value", "captcha", "privateKey"})


@dataclass
class RouteSpec:
    method: str
    path: str
    name: str
    tag: str
    summary: str
    auth: str | None
    status: int
    body: Any = None
    query: Any = None
    response: Any = None
    errors: tuple[int, ...] = ()
    body_optional: bool = False
    # Path parameters named `...Id` that are not UUIDs (e.g. a template's file stem).
    free_params: tuple[str, ...] = ()
    # The least team role the caller needs ("user" = any member, "admin", "owner"); None when
    # the route is not about one team. Enforced here, before the view, for the team in the path.
    role: str | None = None
    # What a view returning its own `Response` sends (a script, an icon) instead of JSON.
    media_type: str | None = None
    module: str = ""  # the api module declaring it (api/manifest.py lists it there)


ROUTES: list[RouteSpec] = []
# The Chalice view of each declared route, by (method, path); filled as route modules load.
HANDLERS: dict[tuple[str, str], Callable[..., Response]] = {}
_APP: list[Chalice] = []


def bind(app: Chalice) -> None:
    """The app whose `current_request` the views read."""
    _APP[:] = [app]


def lazy_view(module: str, method: str, path: str) -> Callable[..., Response]:
    """Chalice's view for a route: loads the route's module on its first call, then delegates."""

    def view(**path_params: str) -> Response:
        handler = HANDLERS.get((method, path))
        if handler is None:
            importlib.import_module(f"chalicelib.api.{module}")
            handler = HANDLERS[(method, path)]
        return handler(**path_params)

    view.__name__ = re.sub(r"\W+", "_", f"{method.lower()}{path}").strip("_")  # stable: packaging names it
    return view


def all_routes() -> list[RouteSpec]:
    """Every declared route (the OpenAPI document, the access matrix): loads every route module."""
    from chalicelib.api import manifest

    for module in manifest.MODULES:
        importlib.import_module(f"chalicelib.api.{module}")
    return list(ROUTES)


class App(Chalice):
    """A Chalice app whose `current_request` belongs to the calling thread.

    Chalice keeps the request on the (shared) app object. Lambda runs one request at a time,
    but the local server (`make run`) and a threaded test client do not: without this, a view
    could read another caller's request, headers and bearer token included.
    """

    _requests = threading.local()

    @property  # type: ignore[override]
    def current_request(self) -> Any:
        return getattr(self._requests, "request", None)

    @current_request.setter
    def current_request(self, request: Any) -> None:
        self._requests.request = request


@dataclass
class RequestContext:
    """What a view knows about its call: the request, the caller and the team in scope."""

    request: Any
    identity: Identity | None = None
    agent: AgentIdentity | None = None
    team: TeamAccess | None = None
    # A team addressed by id (`/api/teams/{teamId}/...`) and the caller's membership, as the role
    # check read them: the view uses them instead of reading them again.
    team_item: TeamItem | None = None
    membership: MemberItem | None = None
    audit_team_id: str | None = None
    audit_data: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def source_address(self) -> str:
        """The caller's address as API Gateway saw it (never a client-supplied header)."""
        identity_context = (self.request.context or {}).get("identity") or {}
        return str(identity_context.get("sourceIp") or "unknown")

    @property
    def user(self) -> Identity:
        assert self.identity is not None, "route declared without auth"
        return self.identity

    def require_team(self, team_slug: str, role: str = "user") -> TeamAccess:
        """Membership (and role) check for `/api/{teamSlug}/...`; also scopes the audit entry."""
        from chalicelib.services import access

        self.team = access.member_of_slug(team_slug, self.user, role)
        self.audit_team_id = self.team.team_id
        observability.bind(team_id=self.team.team_id)
        return self.team


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


def error_response(error: AppError) -> Response:
    retry_after = getattr(error, "retry_after", None)
    return json_response(error.body(), error.status, {"Retry-After": str(retry_after)} if retry_after else None)


def concrete_path(request: Any) -> str:
    """The called path (`/api/teams/<id>`), rebuilt the same way on Lambda and locally."""
    path = request.path
    for name, value in (request.uri_params or {}).items():
        path = path.replace("{" + name + "}", value)
    return path


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s@]*@")


def next_page_headers(request: Any, cursor: str | None) -> dict[str, str]:
    """`X-Next-Cursor` and an RFC 8288 `Link` to the next page (the same query with its cursor);
    none on the last page."""
    if cursor is None:
        return {}
    query = urlencode({**(request.query_params or {}), "cursor": cursor})
    return {"X-Next-Cursor": cursor, "Link": f'<{concrete_path(request)}?{query}>; rel="next"'}


def _echo(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) and not isinstance(value, SecretStr):
        # A URL's user:password part is never echoed back; control and format characters come back escaped.
        return _visible(_URL_CREDENTIALS.sub(r"\1***@", value[:200])) if isinstance(value, str) else value
    return None


def _visible(text: str) -> str:
    """`text` with control, format and line-separator characters as `\\uXXXX` (an echo never moves a terminal)."""
    return "".join(
        f"\\u{ord(char):04x}" if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )


def validation_error(exc: ValidationError, tagged: bool = False) -> BadRequestError:
    """The first problem as `{message, property, value}`. `tagged`: the body is a union told apart by
    a field (`type`), whose value pydantic puts first in the location; it names no request property."""
    first = exc.errors(include_url=False)[0]
    loc = [str(part) for part in first.get("loc", ())][1 if tagged else 0 :]
    prop = ".".join(loc) or None
    if first.get("type") == "json_invalid":
        return BadRequestError("Malformed JSON body.")
    if first.get("type") == "missing" and not loc:
        return BadRequestError("Request body is required.")
    secret = any(part in SECRET_FIELDS for part in loc)
    message = f"{prop}: {first['msg']}" if prop else first["msg"]
    return BadRequestError(message, property=prop, value=None if secret else _echo(first.get("input")))


def _declared_role(method: str, path: str, role: str | None) -> str | None:
    """The route's least team role; `/api/{teamSlug}/...` defaults to any member."""
    from chalicelib.services import access

    role = role or ("user" if "{teamSlug}" in path else None)
    if role is not None and role not in access.ROLE_RANK:
        raise ValueError(f"{method} {path}: unknown role {role!r}")
    if "{teamId}" in path and role is None and not path.startswith("/api/users/me/"):
        raise ValueError(f"{method} {path}: a route addressing a team by id must declare its role")
    return role


def _authenticate(ctx: RequestContext, auth: str | None) -> None:
    from chalicelib.services import agents, identity

    authorization = ctx.request.headers.get("authorization")
    if auth in ("user", "user-or-deploy"):
        # "user-or-deploy": a CI deployment token is accepted too (deployment start only).
        ctx.identity = identity.authenticate(authorization, allow_deploy_token=auth == "user-or-deploy")
        observability.bind(user_id=ctx.identity.user_id)
    elif auth is not None:  # "agent" or "agent-install": a node's agent calling
        ctx.agent = agents.authenticate(authorization, auth)
        observability.bind(node_id=ctx.agent.node_id, team_id=ctx.agent.team_id)


def _authorize(ctx: RequestContext, path_params: dict[str, str], role: str | None) -> None:
    """Membership and role for the team in the path (by slug, or by id where a role is declared)."""
    from chalicelib.services import access

    if "teamSlug" in path_params:
        ctx.require_team(path_params["teamSlug"], role or "user")
    elif "teamId" in path_params and role is not None:
        ctx.team_item, ctx.membership = access.member_of_team(path_params["teamId"], ctx.user, role)


def _view_arguments(
    ctx: RequestContext, spec: RouteSpec, path_params: dict[str, str], body_adapter: TypeAdapter | None
) -> dict[str, Any]:
    """Credentials, then membership and role, before anything else: a stranger learns nothing,
    not even a 400 for a malformed id. Then the path ids, the body and the query, validated."""
    _authenticate(ctx, spec.auth)
    _authorize(ctx, path_params, spec.role)
    kwargs: dict[str, Any] = Router._path_args(path_params, spec.free_params)
    request = ctx.request
    if body_adapter is not None and (not spec.body_optional or (request.raw_body or b"").strip()):
        kwargs["body"] = Router._parse_body(request, body_adapter)
        ctx.audit_data = body_adapter.dump_python(kwargs["body"], mode="json", by_alias=True)
    if spec.query is not None:
        kwargs["query"] = spec.query.model_validate(dict(request.query_params or {}))
    return kwargs


def _unexpected_error(spec: RouteSpec, exc: Exception) -> Response:
    """503 when AWS could not be reached (the caller may retry), else a fixed 500; the traceback
    is logged, never echoed. Called from the handler's `except`, so the traceback is current."""
    if aws.is_outage(exc):
        log.warning("%s %s: AWS unavailable (%s)", spec.method, spec.path, type(exc).__name__)
        return error_response(ServiceUnavailableError())
    log.exception("%s %s failed", spec.method, spec.path)
    return json_response({"message": "Internal server error."}, 500)


@functools.cache
def adapter(shape: Any) -> TypeAdapter[Any]:
    """A route's validator, built when the route first runs: a cold start pays only for its own."""
    return TypeAdapter(shape)


class Router:
    """Declares the routes of one resource module (registered on the app by `api/manifest.py`)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        body: Any = None,
        query: Any = None,
        response: Any = None,
        status: int = 200,
        auth: str | None = "user",
        errors: tuple[int, ...] = (),
        body_optional: bool = False,
        free_params: tuple[str, ...] = (),
        role: str | None = None,
        media_type: str | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`auth`: "user" (bearer login/personal token), "user-or-deploy" (also a deployment token),
        "agent" / "agent-install" (a node agent's tokens) or None (public).
        `role`: the least team role needed; `/api/{teamSlug}/...` defaults to "user" (any member,
        dyrector's rule) and `/api/teams/{teamId}/...` must declare one."""
        role = _declared_role(method, path, role)

        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            spec = RouteSpec(
                method,
                path,
                view.__name__,
                self.tag,
                summary,
                auth,
                status,
                body,
                query,
                response,
                errors,
                body_optional,
                free_params,
                role,
                media_type,
            )
            spec.module = view.__module__.rsplit(".", 1)[-1]
            ROUTES.append(spec)
            HANDLERS[(method, path)] = functools.wraps(view)(self._handler(spec, view))
            return view

        return decorate

    def _handler(self, spec: RouteSpec, view: Callable[..., Any]) -> Callable[..., Response]:
        """The Chalice view for `view`: everything around it, and every failure answered here."""

        def handler(**path_params: str) -> Response:
            body_adapter = adapter(spec.body) if spec.body is not None else None
            response_adapter = adapter(spec.response) if spec.response is not None else None
            request = _APP[0].current_request
            ctx = RequestContext(request)
            try:
                kwargs = _view_arguments(ctx, spec, path_params, body_adapter)
                reply = self._shape(view(ctx, **kwargs), response_adapter, spec.status, request)
            except ValidationError as exc:
                return error_response(validation_error(exc))
            except AppError as exc:
                return error_response(exc)
            except Exception as exc:  # noqa: BLE001 - the one place unknown errors are answered
                return _unexpected_error(spec, exc)
            if spec.method != "GET" and ctx.audit_team_id:
                self._audit(ctx, spec.method, request)
            return reply

        return handler

    def get(self, path: str, **kw: Any):
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any):
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any):
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.route("DELETE", path, **kw)

    @staticmethod
    def _path_args(path_params: dict[str, str], free_params: tuple[str, ...]) -> dict[str, str]:
        args = {}
        for name, value in path_params.items():
            if name.endswith("Id") and name not in free_params and not ids.is_uuid(value):
                raise BadRequestError(f"{name} must be a UUID.", property=name, value=_echo(value))
            args[_snake(name)] = value
        return args

    @staticmethod
    def _parse_body(request: Any, adapter: TypeAdapter) -> Any:
        raw = request.raw_body or b""
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLargeError(f"Request body exceeds {MAX_BODY_BYTES} bytes.")
        if not raw.strip():
            raise BadRequestError("Request body is required.")
        try:
            return adapter.validate_json(raw, strict=True)
        except ValidationError as exc:
            tagged = adapter.core_schema["type"] == "tagged-union"
            first = exc.errors(include_url=False)[0]
            if not tagged or first.get("type") in ("union_tag_invalid", "union_tag_not_found", "json_invalid"):
                raise
            raise validation_error(exc, tagged=True) from None

    @staticmethod
    def _shape(result: Any, adapter: TypeAdapter | None, status: int, request: Any) -> Response:
        from chalicelib.models.paging import Page  # with the first view's models, not at cold start

        if isinstance(result, Response):
            return result
        if status == 204 or adapter is None:
            return Response(body="", status_code=204 if status == 204 else status)
        headers = {}
        if isinstance(result, Page):  # a paged list: the documented array, the next page in headers
            headers = next_page_headers(request, result.cursor)
            result = result.items
        shaped = adapter.dump_python(adapter.validate_python(result, from_attributes=True), mode="json", by_alias=True)
        if status == 201 and isinstance(shaped, dict) and isinstance(shaped.get("id"), str):
            headers["Location"] = f"{concrete_path(request).rstrip('/')}/{shaped['id']}"
        return json_response(shaped, status, headers)

    @staticmethod
    def _audit(ctx: RequestContext, method: str, request: Any) -> None:
        from chalicelib.services import audit

        try:
            audit.record(ctx.audit_team_id, ctx.identity, method, concrete_path(request), ctx.audit_data)
        except Exception:  # noqa: BLE001 - a lost audit entry must not turn a done write into an error
            log.exception("audit entry for %s was not written", method)
