"""Names can never become code (issue 15): every name field refuses control characters, line breaks,
bidi overrides and blank values with 400 `{message, property, value}` (the value echoed escaped),
and accepts ordinary unicode names.

The install scripts' own encoding (which holds even for a name stored before this rule) is proved in
tests/unit/test_install_scripts.py.
"""

from __future__ import annotations

import importlib
import pkgutil
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

import chalicelib.models
from chalicelib.contracts import containers
from chalicelib.models.base import RequestModel
from tests.conftest import unique

BAD_NAMES = {
    "nul": "web\x00x",
    "newline": "web\ntouch /tmp/x\n#",
    "carriage-return": "web\rx",
    "tab": "web\tx",
    "ansi-escape": "web\x1b[31mred\x1b[0m",
    "delete": "web\x7fx",
    "next-line": "web\x85x",
    "line-separator": "web\u2028x",
    "paragraph-separator": "web\u2029x",
    "right-to-left-override": "web\u202etxt.exe",
    "left-to-right-embedding": "web\u202ax\u202c",
    "isolates": "web\u2066x\u2069\u2067y\u2069\u2068z\u2069",
    "zero-width-only": "\u200b\u200c\u200d\ufeff\u2060",
    "whitespace-only": " \u3000\u00a0\u2003 ",
}
GOOD_NAMES = ("Café Ωmega", "web-1")
NAME_FIELDS = ("name", "first_name", "last_name")


# ---- every request model -------------------------------------------------------------------------


def request_models() -> list[type[BaseModel]]:
    """Every request model, and the container config's models (the typed contract bodies carry)."""
    found: set[type[BaseModel]] = set()
    for module in pkgutil.iter_modules(chalicelib.models.__path__):
        for value in vars(importlib.import_module(f"chalicelib.models.{module.name}")).values():
            if isinstance(value, type) and issubclass(value, RequestModel) and value is not RequestModel:
                found.add(value)
    for value in vars(containers).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == containers.__name__:
            found.add(value)
    return sorted(found, key=lambda model: (model.__module__, model.__qualname__))


def name_fields() -> list[tuple[str, Any]]:
    fields = []
    for model in request_models():
        for field_name, info in model.model_fields.items():
            if field_name in NAME_FIELDS:
                annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
                fields.append((f"{model.__qualname__}.{field_name}", annotation))
    return fields


@pytest.mark.parametrize(("field", "annotation"), name_fields(), ids=[f for f, _ in name_fields()])
def test_every_name_field_of_every_request_model_refuses_each_bad_class(field, annotation):
    # GIVEN any request model's name field (found by walking chalicelib.models, so a new one is covered)
    adapter = TypeAdapter(annotation)
    for case, value in BAD_NAMES.items():
        # WHEN a bad name is validated THEN it is refused
        with pytest.raises(ValidationError):
            adapter.validate_python(value)
            pytest.fail(f"{field} accepted {case}")
    # AND ordinary names pass (container names have their own ASCII pattern)
    if "Container" not in field and "Config" not in field:
        assert adapter.validate_python("Café Ωmega") == "Café Ωmega"
    assert adapter.validate_python("web-1") == "web-1"


def test_the_walk_finds_the_name_fields_the_issue_lists():
    found = {field for field, _ in name_fields()}
    expected = {
        "SignupRequest.first_name",
        "SignupRequest.last_name",
        "CreateTeamRequest.name",
        "InviteUserRequest.first_name",
        "InviteUserRequest.last_name",
        "CreateNodeRequest.name",
        "CreateProjectRequest.name",
        "CreateVersionRequest.name",
        "IncreaseVersionRequest.name",
        "DeploymentTokenRequest.name",
        "GenerateTokenRequest.name",
        "NotificationRequest.name",
        "StorageRequest.name",
        "UncheckedRegistry.name",
        "Volume.name",
        "InitContainerVolume.name",
    }
    assert expected <= found, expected - found


# ---- through the API -----------------------------------------------------------------------------


@dataclass
class World:
    owner: Any
    team: dict
    project: dict


@pytest.fixture(scope="module")
def world(module_api, module_team) -> World:
    owner, team = module_team
    return World(owner, team, module_api.create_project(owner, team["slug"]))


def random_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Endpoint:
    """A route taking a name: `path(world)` and `body(world, name)`; `creates` when a good name is
    answered 201/204, else (an id that does not exist) a good name gets past validation to 404."""

    method: str
    path: Callable[[World], str]
    body: Callable[[World, str], dict]
    prop: str = "name"
    creates: bool = False
    anonymous: bool = False


def team_path(suffix: str) -> Callable[[World], str]:
    return lambda w: f"/api/{w.team['slug']}{suffix}"


def storage_body(_w: World, name: str) -> dict:
    return {"name": name, "url": "https://s3.example.com", "accessKey": "AKIAEXAMPLE", "secretKey": "s3cr3t-key"}


def notification_body(_w: World, name: str) -> dict:
    return {"type": "discord", "enabledEvents": ["deployment-created"], "name": name, "url": "https://chat.example/h"}


def volume_body(_w: World, name: str) -> dict:
    return {"config": {"volumes": [{"id": random_id(), "name": name, "path": "/data"}]}}


IMAGE = "/projects/{p}/versions/{v}/images/{i}"
ENDPOINTS = {
    "signup.firstName": Endpoint(
        "POST",
        lambda w: "/api/auth/signup",
        lambda w, n: {"email": f"{unique('n')}@example.com", "password": "correct horse battery", "firstName": n},
        prop="firstName",
        creates=True,
        anonymous=True,
    ),
    "signup.lastName": Endpoint(
        "POST",
        lambda w: "/api/auth/signup",
        lambda w, n: {
            "email": f"{unique('n')}@example.com",
            "password": "correct horse battery",
            "firstName": "Ada",
            "lastName": n,
        },
        prop="lastName",
        creates=True,
        anonymous=True,
    ),
    "team.create": Endpoint(
        "POST", lambda w: "/api/teams", lambda w, n: {"name": n, "slug": unique("t")[:16]}, creates=True
    ),
    "team.update": Endpoint(
        "PUT", lambda w: f"/api/teams/{w.team['id']}", lambda w, n: {"name": n, "slug": w.team["slug"]}, creates=True
    ),
    "invite.firstName": Endpoint(
        "POST",
        lambda w: f"/api/teams/{w.team['id']}/users",
        lambda w, n: {"email": f"{unique('i')}@example.com", "firstName": n},
        prop="firstName",
        creates=True,
    ),
    "invite.lastName": Endpoint(
        "POST",
        lambda w: f"/api/teams/{w.team['id']}/users",
        lambda w, n: {"email": f"{unique('i')}@example.com", "firstName": "Ada", "lastName": n},
        prop="lastName",
        creates=True,
    ),
    "node.create": Endpoint("POST", team_path("/nodes"), lambda w, n: {"name": n}, creates=True),
    "node.update": Endpoint("PUT", lambda w: team_path(f"/nodes/{random_id()}")(w), lambda w, n: {"name": n}),
    "project.create": Endpoint(
        "POST", team_path("/projects"), lambda w, n: {"type": "versioned", "name": n}, creates=True
    ),
    "project.update": Endpoint("PUT", lambda w: team_path(f"/projects/{random_id()}")(w), lambda w, n: {"name": n}),
    "version.create": Endpoint(
        "POST",
        lambda w: team_path(f"/projects/{w.project['id']}/versions")(w),
        lambda w, n: {"type": "incremental", "name": n},
        creates=True,
    ),
    "version.update": Endpoint(
        "PUT",
        lambda w: team_path(f"/projects/{w.project['id']}/versions/{random_id()}")(w),
        lambda w, n: {"name": n},
    ),
    "version.increase": Endpoint(
        "POST",
        lambda w: team_path(f"/projects/{w.project['id']}/versions/{random_id()}/increase")(w),
        lambda w, n: {"name": n},
    ),
    "registry.create": Endpoint(
        "POST",
        team_path("/registries"),
        lambda w, n: {"type": "unchecked", "name": n, "details": {"local": True}},
        creates=True,
    ),
    "registry.update": Endpoint(
        "PUT",
        lambda w: team_path(f"/registries/{random_id()}")(w),
        lambda w, n: {"type": "unchecked", "name": n, "details": {"local": True}},
    ),
    "storage.create": Endpoint("POST", team_path("/storages"), storage_body, creates=True),
    "storage.update": Endpoint("PUT", lambda w: team_path(f"/storages/{random_id()}")(w), storage_body),
    "notification.create": Endpoint("POST", team_path("/notifications"), notification_body, creates=True),
    "notification.update": Endpoint("PUT", lambda w: team_path(f"/notifications/{random_id()}")(w), notification_body),
    "token.create": Endpoint(
        "POST", lambda w: "/api/tokens", lambda w, n: {"name": n, "expirationInDays": 1}, creates=True
    ),
    "deployment-token": Endpoint(
        "PUT", lambda w: team_path(f"/deployments/{random_id()}/token")(w), lambda w, n: {"name": n}
    ),
    "template.create": Endpoint(
        "POST",
        lambda w: "/api/templates",
        lambda w, n: {"id": "wordpress", "teamSlug": w.team["slug"], "type": "versioned", "name": n},
        creates=True,
    ),
    "image.volume": Endpoint(
        "PATCH",
        lambda w: team_path(f"/projects/{w.project['id']}/versions/{random_id()}/images/{random_id()}")(w),
        volume_body,
        prop="config.volumes.0.name",
    ),
}


def call(module_api, world: World, endpoint: Endpoint, name: str):
    user = None if endpoint.anonymous else world.owner
    return module_api.call(endpoint.method, endpoint.path(world), user, body=endpoint.body(world, name))


def hidden(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_name_field_refuses_each_bad_class_with_400(module_api, world, endpoint):
    for case, bad in BAD_NAMES.items():
        # WHEN a name of a bad class is sent
        response = call(module_api, world, ENDPOINTS[endpoint], bad)
        # THEN 400 {message, property, value}, the value echoed with its hidden characters escaped
        assert response.status_code == 400, (case, response.body)
        error = response.json
        assert set(error) == {"message", "property", "value"}, (case, error)
        assert error["property"].split(".")[-1] == ENDPOINTS[endpoint].prop.split(".")[-1], (case, error)
        assert error["property"].endswith(ENDPOINTS[endpoint].prop), (case, error)
        assert isinstance(error["value"], str) and not any(hidden(c) for c in error["value"]), (case, error)
        assert not any(hidden(c) for c in error["message"]), (case, error)


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_name_field_accepts_ordinary_unicode_names(module_api, world, endpoint):
    for good in GOOD_NAMES:
        # (a short suffix: names are unique per team, and other cases created these already)
        response = call(module_api, world, ENDPOINTS[endpoint], f"{good} {uuid.uuid4().hex[:4]}")
        if ENDPOINTS[endpoint].creates:
            assert response.status_code in (200, 201, 204), (good, response.body)
        else:  # past validation to the lookup of an id that does not exist
            assert response.status_code == 404, (good, response.body)


def test_a_stored_unicode_name_reads_back_unchanged(module_api, world):
    node = call(module_api, world, ENDPOINTS["node.create"], "  Café Ωmega  ").json
    assert node["name"] == "Café Ωmega"
