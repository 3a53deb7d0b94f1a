"""Shared fixtures: an embedded moto server holding the stack's resources, and API helpers.

The resources come from `infra/resources.json` through moto's CloudFormation, the same
definition that AWS gets. Tests isolate by unique names (no reset between tests), which
keeps the suite fast and also shows that nothing leaks between teams.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def moto_server():
    """A moto server with the stack created in it; sets AWS_ENDPOINT_URL for the session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint

    from infra import stack

    outputs = stack.create_stack()
    stack.export_outputs(outputs)
    stack.verify_mail_sender()

    from chalicelib.db import table

    table.configure()
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def app_module(moto_server):
    import app

    return app


@pytest.fixture()
def client(app_module):
    from chalice.test import Client

    with Client(app_module.app) as c:
        yield c


def unique(prefix: str = "x") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class User:
    id: str
    email: str
    password: str
    token: str
    name: str
    extra: dict = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}


class Api:
    """Calls the app through chalice.test.Client with JSON in and out."""

    def __init__(self, client):
        self.client = client

    def call(self, method: str, path: str, user: User | None = None, body=None, headers=None, raw: str | None = None):
        hdrs = {"Content-Type": "application/json", **(user.headers if user else {}), **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=hdrs, body=payload)
        if isinstance(response.body, bytes):
            response.body = response.body.decode()
        response.json = json.loads(response.body) if response.body else None
        return response

    def get(self, path, user=None, **kw):
        return self.call("GET", path, user, **kw)

    def post(self, path, user=None, body=None, **kw):
        return self.call("POST", path, user, body=body, **kw)

    def put(self, path, user=None, body=None, **kw):
        return self.call("PUT", path, user, body=body, **kw)

    def patch(self, path, user=None, body=None, **kw):
        return self.call("PATCH", path, user, body=body, **kw)

    def delete(self, path, user=None, **kw):
        return self.call("DELETE", path, user, **kw)

    def signup(self, email: str | None = None, password: str = "correct horse battery", first: str = "Ada",
               last: str | None = "Lovelace") -> User:
        email = email or f"{unique('u')}@example.com"
        body = {"email": email, "password": password, "firstName": first}
        if last:
            body["lastName"] = last
        created = self.post("/api/auth/signup", body=body)
        assert created.status_code == 201, created.body
        login = self.post("/api/auth/login", body={"email": email, "password": password})
        assert login.status_code == 200, login.body
        return User(created.json["id"], email, password, login.json["token"], created.json["name"])

    def create_team(self, owner: User, name: str | None = None, slug: str | None = None) -> dict:
        slug = slug or unique("t")[:16]
        response = self.post("/api/teams", owner, {"name": name or f"Team {slug}", "slug": slug})
        assert response.status_code == 201, response.body
        return response.json


@pytest.fixture()
def api(client) -> Api:
    return Api(client)
