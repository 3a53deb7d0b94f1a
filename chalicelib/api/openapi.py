"""The OpenAPI 3.1 document, generated from the route table and the pydantic models.

3.1 rather than 3.0: its schema dialect is JSON Schema 2020-12, which is what pydantic
emits, so model schemas go in unchanged (no `nullable` rewriting) and the same schemas
validate real responses with plain `jsonschema`. The document is built on first request
and cached: generating schemas costs more than the API Lambda's cold start should pay.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from pydantic import TypeAdapter

from chalicelib import settings
from chalicelib.api.routing import RouteSpec, all_routes
from chalicelib.models.paging import PageQuery
from chalicelib.models.teams import Slug

OPENAPI_PATH = "/api/openapi.json"
DOCS_PATH = "/api/docs"
# The document does not describe itself or its HTML page (they are still in ROUTES).
UNDOCUMENTED = frozenset({("GET", OPENAPI_PATH), ("GET", DOCS_PATH)})

REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "property": {"type": "string"}, "value": {}},
    "required": ["message"],
}
REASONS = {
    200: "OK",
    201: "Created",
    204: "No content",
    400: "Bad request: malformed JSON, missing or invalid field",
    401: "Missing, invalid or expired bearer token",
    403: "Not allowed for this user or team",
    404: "Not found",
    409: "Conflict: name or slug taken",
    412: "Precondition failed: the state forbids this",
    413: "Request body too large",
    429: "Too many attempts: wait for the Retry-After header's seconds",
    503: "Service temporarily unavailable, try again",
}
_PARAM = re.compile(r"\{(\w+)\}")
# What a paged list answers besides its documented array (README, "API: paging").
NEXT_PAGE_HEADERS = {
    "X-Next-Cursor": {
        "description": "The `cursor` of the next page; absent on the last page",
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'RFC 8288 link to the next page (`<…?take=…&cursor=…>; rel="next"`); absent on the last page',
        "schema": {"type": "string"},
    },
}


def documented_routes() -> list[RouteSpec]:
    return [r for r in all_routes() if (r.method, r.path) not in UNDOCUMENTED]


@functools.cache
def document() -> dict[str, Any]:
    """The whole document; built once per process, on the first call."""
    routes = documented_routes()
    schemas, defs = _schemas(routes)
    if "Error" in defs:
        raise RuntimeError("a model named Error clashes with the shared error schema")
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, schemas, defs, routes)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dyrector.io API",
            "version": settings.VERSION,
            "description": "dyrector.io-compatible container deployment platform.",
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": tag} for tag in dict.fromkeys(r.tag for r in routes)],
        "paths": paths,
        "components": {
            "schemas": {**defs, "Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def _schemas(routes: list[RouteSpec]) -> tuple[dict[tuple[Any, str], Any], dict[str, Any]]:
    """All schemas in one generator run, so shared models get one name and clashes get distinct ones."""
    inputs = []
    for route in routes:
        for kind, mode in (("body", "validation"), ("query", "validation"), ("response", "serialization")):
            tp = getattr(route, kind)
            if tp is not None:
                inputs.append(((route.name, kind), mode, TypeAdapter(tp)))
    by_key, top = TypeAdapter.json_schemas(inputs, by_alias=True, ref_template=REF)
    return {key: schema for (key, _mode), schema in by_key.items()}, top.get("$defs", {})


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return defs[ref.rsplit("/", 1)[-1]] if ref else schema


def _operation(route: RouteSpec, schemas: dict, defs: dict, routes: list[RouteSpec]) -> dict[str, Any]:
    path_params = _PARAM.findall(route.path)
    op: dict[str, Any] = {
        "tags": [route.tag],
        "operationId": route.name,
        "summary": route.summary,
        "security": [{"bearer": []}] if route.auth else [],
    }
    params = [_path_param(name, name in route.free_params) for name in path_params]
    if route.query is not None:
        params += _query_params(_resolve(schemas[(route.name, "query")], defs))
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": not route.body_optional,
            "content": {"application/json": {"schema": schemas[(route.name, "body")]}},
        }
    op["responses"] = {
        str(route.status): _success(route, schemas, defs, routes),
        **{str(code): _error(code) for code in _error_codes(route, path_params)},
    }
    return op


def _path_param(name: str, free: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if name.endswith("Id") and not free:
        schema["format"] = "uuid"
    elif name == "teamSlug":
        schema = TypeAdapter(Slug).json_schema()
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_params(model_schema: dict[str, Any]) -> list[dict[str, Any]]:
    """One parameter per field of the query model, named by alias (`from`, not `from_`)."""
    required = set(model_schema.get("required", ()))
    params = []
    for name, prop in model_schema.get("properties", {}).items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if "description" in prop:
            param["description"] = prop["description"]
        params.append(param)
    return params


def _success(route: RouteSpec, schemas: dict, defs: dict, routes: list[RouteSpec]) -> dict[str, Any]:
    reply: dict[str, Any] = {"description": REASONS.get(route.status, "Success")}
    if route.media_type is not None:
        reply["content"] = {route.media_type: {"schema": {"type": "string"}}}
        return reply
    if route.status == 204 or route.response is None:
        return reply
    schema = schemas[(route.name, "response")]
    reply["content"] = {"application/json": {"schema": schema}}
    if isinstance(route.query, type) and issubclass(route.query, PageQuery):
        reply["headers"] = NEXT_PAGE_HEADERS
    if route.status == 201 and _locates(route, _resolve(schema, defs), routes):
        reply["headers"] = {"Location": {"description": "Path of the created resource", "schema": {"type": "string"}}}
    return reply


def _locates(route: RouteSpec, schema: dict[str, Any], routes: list[RouteSpec]) -> bool:
    """True when the router's `<path>/<id>` Location names a real route (not for sign-up)."""
    if "id" not in schema.get("properties", {}):
        return False
    item = re.compile(re.escape(route.path) + r"/\{\w+\}")
    return any(item.fullmatch(other.path) for other in routes)


def _error_codes(route: RouteSpec, path_params: list[str]) -> list[int]:
    codes = set(route.errors) | {503}
    if route.body is not None or route.query is not None or path_params:
        codes.add(400)
    if route.body is not None:
        codes.add(413)
    if route.auth:
        codes |= {401, 403}
    if path_params:
        codes.add(404)
    return sorted(codes)


def _error(code: int) -> dict[str, Any]:
    return {
        "description": REASONS.get(code, "Error"),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
    }
