"""Schemathesis over every documented operation of the running local stack (`make run`).

Each operation gets generated requests, valid and invalid (`FUZZ_EXAMPLES` per operation;
`make fuzz` raises it and draws new ones, `FUZZ_RANDOM=1`), sent over HTTP with a real
login token (agent routes: a real agent token; `FUZZ_TRACE=<file>` logs each request).
Ids that look valid are swapped for the team's real ones, so the code behind the lookups
runs; calls that destroy what they address get a fresh one each time. Every answer must be a
documented status with a body matching its schema, whose object schemas are closed here (an
undocumented field fails), and never a 5xx.
"""

from __future__ import annotations

import os
import re
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.conftest import World, closed

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# CI replays the same examples every run (a failure there is reproducible); `make fuzz` draws new ones.
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
# Not `negative_data_rejection`: this test puts real ids and a real token into generated requests,
# so a request schemathesis made invalid may be valid when sent, and its check would misfire.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# API Gateway ends a request after 29 s: a slower answer would be a 504 in the cloud.
GATEWAY_TIMEOUT = 29
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,30}")


def documented_operations() -> list[tuple[str, str]]:
    """Every operation of the document the stack serves (built by the same code, here)."""
    import app  # noqa: F401 - declares the routes
    from chalicelib.api import openapi

    return [(method.upper(), path) for path, ops in openapi.document()["paths"].items() for method in ops]


OPERATIONS = documented_operations()


@pytest.fixture(scope="session")
def api_schema(fuzz_stack):
    import requests

    document = requests.get(fuzz_stack.url + "/api/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(closed(document))
    schema.config.update(base_url=fuzz_stack.url)
    return schema


def _looks_valid(name: str, value) -> bool:
    if not isinstance(value, str):
        return False
    if name == "teamSlug":
        return bool(_SLUG.fullmatch(value))
    return bool(_UUID.fullmatch(value)) or name in {"command", "deployment", "templateId"}


# Body fields naming a world resource under another name.
BODY_ALIASES = {("POST", "/api/templates"): {"id": "templateId"}}


def use_real_ids(case, world: World) -> None:
    """Valid-looking ids (path, and fields of a body object or of a body list's objects) become real ones."""
    for name, value in list((case.path_parameters or {}).items()):
        if name in world.ids and _looks_valid(name, value):
            case.path_parameters[name] = world.ids[name]
    aliases = BODY_ALIASES.get((case.method, case.path), {})
    objects = case.body if isinstance(case.body, list) else [case.body]
    for body in objects:
        if isinstance(body, dict):
            for field, value in list(body.items()):
                name = aliases.get(field, field)
                if name in world.ids and _looks_valid(name, value):
                    body[field] = world.ids[name]


# Calls that destroy, rename or use up what they address get a fresh one of it each time,
# so the world's own resources stay in place for every other operation.
DISPOSABLE = {
    ("DELETE", "/api/teams/{teamId}"): "teamId",
    ("PUT", "/api/teams/{teamId}"): "teamId",
    ("DELETE", "/api/teams/{teamId}/users/{userId}"): "userId",
    ("DELETE", "/api/{teamSlug}/projects/{projectId}"): "projectId",
    ("POST", "/api/{teamSlug}/projects/{projectId}/convert"): "versionlessProjectId",
    ("DELETE", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}"): "versionId",
    ("DELETE", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images/{imageId}"): "imageId",
    ("DELETE", "/api/{teamSlug}/deployments/{deploymentId}"): "deploymentId",
    ("DELETE", "/api/{teamSlug}/nodes/{nodeId}"): "nodeId",
    ("POST", "/api/{teamSlug}/nodes/{nodeId}/script"): "nodeId",
    ("DELETE", "/api/{teamSlug}/nodes/{nodeId}/script"): "nodeId",
    ("DELETE", "/api/{teamSlug}/nodes/{nodeId}/token"): "nodeId",
    ("DELETE", "/api/{teamSlug}/registries/{registryId}"): "registryId",
    ("DELETE", "/api/{teamSlug}/storages/{storageId}"): "storageId",
    ("DELETE", "/api/{teamSlug}/notifications/{notificationId}"): "notificationId",
    ("DELETE", "/api/tokens/{tokenId}"): "tokenId",
    ("POST", "/api/agent/register"): "installToken",
}
# Calls after whose success the world is rebuilt (the caller left its own team).
INVALIDATING = {("DELETE", "/api/teams/{teamId}/users/leave")}


def prepare(case, world: World) -> dict[str, str]:
    """Real ids in, a fresh resource for a destructive call; returns the request's auth header."""
    use_real_ids(case, world)
    token = world.agent_token if case.path.startswith("/api/agent/") else world.token
    kind = DISPOSABLE.get((case.method, case.path))
    if (case.method, case.path) == ("POST", "/api/auth/logout"):
        token = world.new_session()  # logging out ends that session, never the world's
    elif (case.method, case.path) == ("PUT", "/api/users/me/password"):
        token = world.throwaway_session()  # wrong current passwords throttle that account, not the world's
    elif kind == "installToken":
        token = world.fresh(kind)["installToken"]
    elif kind is not None:
        name = "projectId" if kind == "versionlessProjectId" else kind
        if _looks_valid(name, case.path_parameters.get(name)):
            for key, value in world.fresh(kind).items():  # an invalid (negative) value stays as generated
                if _looks_valid(key, case.path_parameters.get(key)):
                    case.path_parameters[key] = value
    return {"Authorization": f"Bearer {token}"}


def tidy(case, response, world: World) -> None:
    """Teams the call made go again; a call that broke the world has it rebuilt."""
    if response.status_code == 201 and case.path == "/api/teams":
        world.discard("teamId", response.json()["id"])
    elif DISPOSABLE.get((case.method, case.path)) == "teamId":
        world.discard("teamId", case.path_parameters["teamId"])
    if 200 <= response.status_code < 300 and (case.method, case.path) in INVALIDATING:
        world.stale = True


def generated_cases(operation):
    """Valid and invalid requests for one operation (invalid ones where the schema allows any)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        return st.one_of(positive, operation.as_strategy(GenerationMode.NEGATIVE))
    except Exception:  # noqa: BLE001 - an operation with nothing to negate (no parameters, no body)
        return positive


def test_every_documented_operation_is_fuzzed(api_schema):
    served = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert served == set(OPERATIONS)


@pytest.mark.fuzz
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_api_answers_every_generated_request_as_documented(method, path, api_schema, world):
    operation = api_schema[path][method]

    @given(case=generated_cases(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def answers_as_documented(case):
        world.ensure()
        headers = prepare(case, world)
        t0 = time.monotonic()
        response = case.call(headers=headers, timeout=GATEWAY_TIMEOUT)
        if os.environ.get("FUZZ_TRACE"):
            with open(os.environ["FUZZ_TRACE"], "a") as trace:
                trace.write(
                    f"{time.monotonic() - t0:.3f} {response.status_code} {case.method} {case.path} "
                    f"{response.request.url} {str(case.body)[:200]}\n"
                )
        tidy(case, response, world)
        case.validate_response(response, checks=CHECKS, headers=headers)

    answers_as_documented()
