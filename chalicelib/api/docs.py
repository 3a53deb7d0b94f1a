"""The API's own description: `GET /api/openapi.json` and a readable `GET /api/docs`.

Both are public and go through the Router like every route (so they are in ROUTES), but
`openapi.UNDOCUMENTED` keeps them out of the document itself. The HTML page is rendered
here from the document, with inline CSS only: the platform may run with no Internet.
"""

from __future__ import annotations

import functools
import json
from html import escape
from typing import Any

from chalice import Response

from chalicelib.api import openapi
from chalicelib.api.routing import RequestContext, Router, json_response

route = Router("Docs")

CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:1.5rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}
code{font-family:ui-monospace,monospace}
.m{font:bold 12px ui-monospace,monospace;padding:.1rem .4rem;border-radius:3px;color:#fff}
.GET{background:#2b7bb9}.POST{background:#2e8b57}.PUT{background:#c77c02}.PATCH{background:#7a5fb0}
.DELETE{background:#c0392b}
pre{background:#f6f6f6;padding:.6rem;overflow:auto}
"""


@route.get(openapi.OPENAPI_PATH, summary="This API's OpenAPI 3.1 document", auth=None)
def get_openapi(ctx: RequestContext) -> Response:
    return json_response(openapi.document(), 200)


@route.get(openapi.DOCS_PATH, summary="Human-readable API reference (HTML)", auth=None)
def get_docs(ctx: RequestContext) -> Response:
    return Response(
        body=render_html(),
        status_code=200,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def schema_name(schema: dict[str, Any] | None) -> str:
    """`TeamResponse`, `TeamResponse[]`, or the plain type for an inline schema."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return schema_name(schema.get("items")) + "[]"
    return str(schema.get("type", "any"))


def _link(schema: dict[str, Any] | None) -> str:
    if not schema:
        return "&mdash;"
    name = schema_name(schema)
    target = name.removesuffix("[]")
    if target in openapi.document()["components"]["schemas"]:
        return f'<a href="#schema-{escape(target)}"><code>{escape(name)}</code></a>'
    return f"<code>{escape(name)}</code>"


def _json_schema(container: dict[str, Any] | None) -> dict[str, Any] | None:
    return (container or {}).get("content", {}).get("application/json", {}).get("schema")


def _row(method: str, path: str, op: dict[str, Any]) -> str:
    responses = op["responses"]
    success = next(code for code in responses if code.startswith("2"))
    errors = ", ".join(code for code in responses if not code.startswith("2"))
    auth = "bearer" if op["security"] else "public"
    return (
        f'<tr id="{escape(op["operationId"])}"><td><span class="m {method}">{method}</span></td>'
        f"<td><code>{escape(path)}</code></td><td>{escape(op['summary'])}</td><td>{auth}</td>"
        f"<td>{_request_cell(op)}</td>"
        f"<td>{success} {_link(_json_schema(responses[success]))}</td><td>{errors}</td></tr>"
    )


def _request_cell(op: dict[str, Any]) -> str:
    """The body's schema, else the query parameters, else a dash."""
    request = _link(_json_schema(op.get("requestBody"))) if "requestBody" in op else ""
    if request:
        return request
    query = [f"<code>{escape(p['name'])}</code>" for p in op.get("parameters", ()) if p["in"] == "query"]
    return "query: " + ", ".join(query) if query else "&mdash;"


@functools.cache
def render_html() -> str:
    """The reference page; cached like the document it is made from."""
    doc = openapi.document()
    rows: dict[str, list[str]] = {tag["name"]: [] for tag in doc["tags"]}
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            rows[op["tags"][0]].append(_row(method.upper(), path, op))
    head = (
        "<tr><th>Method</th><th>Path</th><th>Summary</th><th>Auth</th><th>Request</th><th>Response</th>"
        "<th>Errors</th></tr>"
    )
    sections = [f"<h2>{escape(tag)}</h2><table>{head}{''.join(r)}</table>" for tag, r in rows.items()]
    schemas = [
        f'<details id="schema-{escape(name)}"><summary><code>{escape(name)}</code></summary>'
        f"<pre>{escape(json.dumps(schema, indent=2))}</pre></details>"
        for name, schema in sorted(doc["components"]["schemas"].items())
    ]
    info = doc["info"]
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(info["title"])}</title>'
        f"<style>{CSS}</style></head><body><h1>{escape(info['title'])} <small>{escape(info['version'])}"
        f'</small></h1><p>Machine-readable: <a href="openapi.json">openapi.json</a> (OpenAPI '
        f"{doc['openapi']}). Errors are JSON <code>{{message, property?, value?}}</code>; bearer routes "
        f"take <code>Authorization: Bearer &lt;JWT&gt;</code>.</p>{''.join(sections)}"
        f"<h2>Schemas</h2>{''.join(schemas)}</body></html>"
    )
