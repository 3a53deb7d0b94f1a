"""The served OpenAPI document is valid, complete, and describes what the API really answers."""

from __future__ import annotations

import copy
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import unique

ROOT = Path(__file__).resolve().parents[2]
DOC_URI = "urn:openapi"


@pytest.fixture()
def doc(api) -> dict:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    return response.json


def _closed(doc: dict) -> dict:
    """The document with every object schema closed, so an undocumented response field fails too."""
    closed = copy.deepcopy(doc)
    for schema in closed["components"]["schemas"].values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return closed


def assert_documented(doc: dict, method: str, path: str, response) -> None:
    """The status is documented for the operation and the body matches its schema (or is empty)."""
    documented = doc["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    assert status in documented, f"{method} {path} answered undocumented {status}: {response.body}"
    content = documented[status].get("content")
    if content is None:
        assert not response.body
        return
    pointer = "/".join(
        [
            "#",
            "paths",
            path.replace("~", "~0").replace("/", "~1"),
            method.lower(),
            "responses",
            status,
            "content",
            "application~1json",
            "schema",
        ]
    )
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(_closed(doc), DRAFT202012))
    validator = Draft202012Validator(
        {"$ref": DOC_URI + pointer}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    errors = [e.message for e in validator.iter_errors(response.json)]
    assert errors == [], f"{method} {path} {status}: {errors}"
    if "Location" in documented[status].get("headers", {}):
        assert response.headers["Location"].endswith(response.json["id"])


def operations(doc: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}


def test_served_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    from chalicelib import settings

    assert doc["info"]["version"] == settings.VERSION


def test_document_lists_exactly_the_declared_routes(doc, app_module):
    from chalicelib.api.openapi import UNDOCUMENTED
    from chalicelib.api.routing import all_routes

    declared = {(r.method, r.path) for r in all_routes()}
    served = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert served == declared
    assert declared >= UNDOCUMENTED
    assert operations(doc) == declared - UNDOCUMENTED


def test_every_operation_has_unique_id_summary_tag_and_documented_errors(doc):
    from chalicelib.api.routing import all_routes

    specs = {(r.method, r.path): r for r in all_routes()}
    ids = []
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            spec = specs[(method.upper(), path)]
            ids.append(op["operationId"])
            assert op["operationId"] == spec.name and op["summary"] == spec.summary and op["tags"] == [spec.tag]
            codes = set(op["responses"])
            assert {str(spec.status), "503"} | {str(c) for c in spec.errors} <= codes
            if spec.auth:
                assert op["security"] == [{"bearer": []}] and {"401", "403"} <= codes
            else:
                assert op["security"] == []
            if "{" in path:
                assert {"400", "404"} <= codes
    assert len(ids) == len(set(ids))


def test_path_ids_are_uuids_and_query_params_use_aliases(doc):
    team = doc["paths"]["/api/teams/{teamId}"]["get"]["parameters"]
    assert team == [{"name": "teamId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}]
    audit = doc["paths"]["/api/{teamSlug}/audit-log"]["get"]["parameters"]
    assert [p["name"] for p in audit] == ["teamSlug", "skip", "take", "from", "to", "filter"]
    assert "pattern" in audit[0]["schema"]


def test_real_responses_match_their_documented_schemas(api, doc):
    # GIVEN a user who signs up and logs in
    email = f"{unique('u')}@example.com"
    signup = api.post(
        "/api/auth/signup", body={"email": email, "password": "correct horse battery", "firstName": "Grace"}
    )
    assert_documented(doc, "POST", "/api/auth/signup", signup)
    login = api.post("/api/auth/login", body={"email": email, "password": "correct horse battery"})
    assert_documented(doc, "POST", "/api/auth/login", login)
    user = api.signup()

    # WHEN they use teams, tokens, the audit log and health THEN every answer is the documented one
    slug = unique("t")[:16]
    created = api.post("/api/teams", user, {"name": "Docs " + slug, "slug": slug})
    assert created.status_code == 201
    assert_documented(doc, "POST", "/api/teams", created)
    assert_documented(doc, "GET", "/api/teams", api.get("/api/teams", user))
    assert_documented(doc, "GET", "/api/teams/{teamId}", api.get(f"/api/teams/{created.json['id']}", user))
    token = api.post("/api/tokens", user, {"name": "ci", "expirationInDays": 3})
    assert_documented(doc, "POST", "/api/tokens", token)
    assert_documented(doc, "GET", "/api/tokens", api.get("/api/tokens", user))
    assert_documented(doc, "DELETE", "/api/tokens/{tokenId}", api.delete(f"/api/tokens/{token.json['id']}", user))
    audit = api.get(f"/api/{slug}/audit-log", user)
    assert audit.json["total"] >= 1
    assert_documented(doc, "GET", "/api/{teamSlug}/audit-log", audit)
    assert_documented(doc, "POST", "/api/users/me", api.post("/api/users/me", user))
    assert_documented(doc, "GET", "/api/health", api.get("/api/health"))


def test_catalog_responses_match_their_documented_schemas(api, doc, registry_item):
    # GIVEN a team with a versioned project, a version and an image with a full config
    from tests.api.test_images import FULL_CONFIG

    user = api.signup()
    team = api.create_team(user)
    slug = team["slug"]
    projects = f"/api/{slug}/projects"
    project = api.post(projects, user, {"type": "versioned", "name": "Docs"})
    assert_documented(doc, "POST", "/api/{teamSlug}/projects", project)
    pid = project.json["id"]
    version = api.post(f"{projects}/{pid}/versions", user, {"type": "incremental", "name": "1.0"})
    assert_documented(doc, "POST", "/api/{teamSlug}/projects/{projectId}/versions", version)
    vid = version.json["id"]
    images = f"{projects}/{pid}/versions/{vid}/images"
    added = api.post(images, user, [{"registryId": registry_item(team), "images": ["acme/web:1"]}])
    assert_documented(doc, "POST", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images", added)
    iid = added.json[0]["id"]
    api.patch(f"{images}/{iid}", user, {"config": FULL_CONFIG})

    # THEN every read answers exactly the documented shape
    image_path = "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images"
    assert_documented(doc, "GET", "/api/{teamSlug}/projects", api.get(projects, user))
    assert_documented(doc, "GET", "/api/{teamSlug}/projects/{projectId}", api.get(f"{projects}/{pid}", user))
    assert_documented(
        doc, "GET", "/api/{teamSlug}/projects/{projectId}/versions", api.get(f"{projects}/{pid}/versions", user)
    )
    assert_documented(
        doc,
        "GET",
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}",
        api.get(f"{projects}/{pid}/versions/{vid}", user),
    )
    assert_documented(doc, "GET", image_path, api.get(images, user))
    assert_documented(doc, "GET", image_path + "/{imageId}", api.get(f"{images}/{iid}", user))
    assert_documented(doc, "PUT", image_path + "/order", api.put(f"{images}/order", user, [iid]))
    assert_documented(
        doc,
        "POST",
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/increase",
        api.post(f"{projects}/{pid}/versions/{vid}/increase", user, {"name": "1.1"}),
    )
    assert_documented(doc, "GET", "/api/{teamSlug}/dashboard", api.get(f"/api/{slug}/dashboard", user))


def test_error_responses_match_the_error_schema(api, doc):
    user = api.signup()
    team = api.create_team(user)
    bad = api.post("/api/auth/signup", body={"email": "not-an-email", "password": "x", "firstName": "A"})
    assert bad.status_code == 400
    assert_documented(doc, "POST", "/api/auth/signup", bad)
    taken = api.post("/api/teams", user, {"name": "Again", "slug": team["slug"]})
    assert taken.status_code == 409
    assert_documented(doc, "POST", "/api/teams", taken)
    assert_documented(doc, "GET", "/api/teams", api.get("/api/teams"))
    assert_documented(doc, "GET", "/api/teams/{teamId}", api.get("/api/teams/not-a-uuid", user))
    stranger = api.signup()
    assert_documented(doc, "GET", "/api/{teamSlug}/audit-log", api.get(f"/api/{team['slug']}/audit-log", stranger))
    zero = api.get(f"/api/{team['slug']}/audit-log?take=0", user)
    assert zero.status_code == 400 and zero.json["property"] == "take"
    assert_documented(doc, "GET", "/api/{teamSlug}/audit-log", zero)


def test_docs_page_is_self_contained_html_listing_every_operation(client, doc):
    page = client.http.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    for path, ops in doc["paths"].items():
        assert f"<code>{path}</code>" in html
        for op in ops.values():
            assert escape(op["summary"]) in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert "TeamDetailsResponse" in html and "TokenResponse[]" in html


def test_document_is_not_built_when_app_is_imported():
    # A fresh interpreter: importing the app (as a cold Lambda does) must not generate any schema.
    code = (
        "import app; from chalicelib.api import docs, openapi; "
        "assert openapi.document.cache_info().currsize == 0; assert docs.render_html.cache_info().currsize == 0; "
        "openapi.document(); assert openapi.document.cache_info().currsize == 1; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_answers_the_fuzzer_found_undocumented_are_documented(api, doc):
    # Regressions from tests/fuzz: each call once answered a status its operation did not document.
    user = api.signup()
    team = api.create_team(user)
    unknown_template = api.post(
        "/api/templates", user, {"type": "versionless", "id": "nope", "teamSlug": team["slug"], "name": "Git"}
    )
    assert unknown_template.status_code == 404
    assert_documented(doc, "POST", "/api/templates", unknown_template)


def test_non_json_answers_document_their_media_type(api, doc, agent_package):
    # GIVEN the two routes that answer something other than JSON: an icon and an install script
    user = api.signup()
    team = api.create_team(user)
    node = api.post(f"/api/{team['slug']}/nodes", user, {"name": "edge"}).json
    api.post(f"/api/{team['slug']}/nodes/{node['id']}/script", user, {"type": "docker", "scriptType": "shell"})
    answers = {
        ("GET", "/api/templates/{templateId}/image"): api.get("/api/templates/wordpress/image", user),
        ("GET", "/api/{teamSlug}/nodes/{nodeId}/script"): api.get(
            f"/api/{team['slug']}/nodes/{node['id']}/script", user
        ),
    }
    for (method, path), answer in answers.items():
        # THEN the document names the media type each really answers with
        assert answer.status_code == 200, answer.body
        content = doc["paths"][path][method.lower()]["responses"]["200"]["content"]
        assert list(content) == [answer.headers["Content-Type"].split(";")[0]]
