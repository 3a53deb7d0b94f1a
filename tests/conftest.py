"""Shared fixtures: an embedded moto server holding the stack's resources, and API helpers.

The resources come from `infra/resources.json` through moto's CloudFormation, the same
definition that AWS gets. Tests isolate by unique names (no reset between tests), which
keeps the suite fast and also shows that nothing leaks between teams.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.pop("AWS_PROFILE", None)
# The cheapest argon2id cost: the suite signs up hundreds of users (tests/unit/test_passwords.py checks
# the production default). Set before `app` is imported; stacks started as subprocesses inherit it.
os.environ.setdefault("PASSWORD_HASH_PROFILE", "test")
# The test registry (docker-registry) and webhook receivers listen on loopback, as under `make run`
# (infra/local.py's default); tests/security starts stacks with other settings to show the refusals.
os.environ.setdefault("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
# Re-inviting at once is what many tests do; tests/api/test_invitations.py sets the cooldown where it checks it.
os.environ.setdefault("REINVITE_COOLDOWN_MINUTES", "0")
logging.getLogger("werkzeug").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The directories whose files take longest, longest first (docs/testing.md): `make test` hands whole
# files to its workers in collection order (pytest-xdist, `--dist loadfile --no-loadscope-reorder`),
# so these start first and the many short files fill the gaps at the end.
SLOW_FIRST = ("fuzz", "integration", "security", "browser", "infra", "agent")


def _slowness_rank(item: pytest.Item) -> int:
    parts = item.path.relative_to(item.config.rootpath).parts
    group = parts[1] if len(parts) > 2 and parts[0] == "tests" else ""
    return SLOW_FIRST.index(group) if group in SLOW_FIRST else len(SLOW_FIRST)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks `docker` every test that needs the engine, directly or through another fixture
    (local_registry, busybox_image...), so `make test-fast` can leave them out; orders the files
    slowest group first (a stable sort: a file's tests stay together and in their order)."""
    for item in items:
        if "docker_client" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)
    items.sort(key=_slowness_rank)


@pytest.fixture(scope="session")
def moto_server():
    """A moto server with the stack created in it; sets AWS_ENDPOINT_URL for the session. The same
    server `make run` embeds (cached dispatch, kept-alive connections), here in a thread of the test
    process: tests reach its backends directly."""
    from infra import emulator
    from infra.moto_server import EmbeddedMotoServer

    emulator.adapt_dynamodb()  # atomic requests and partition-sized Queries, as in DynamoDB (see infra/emulator.py)
    port = free_port()
    server = EmbeddedMotoServer(ip_address="127.0.0.1", port=port)
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
    """The app, with its WebSocket API served locally as `make run` does (agents' push channel)."""
    import app
    from infra.ws_gateway import WebSocketGateway

    gateway = WebSocketGateway(app.app, stage="api")
    gateway.start()
    os.environ.update(SOCKET_URL=gateway.url, SOCKET_MANAGEMENT_URL=gateway.management_url)
    yield app
    gateway.stop()


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
        is_json = response.headers.get("Content-Type", "application/json").startswith("application/json")
        response.json = json.loads(response.body) if response.body and is_json else None
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

    def signup(
        self,
        email: str | None = None,
        password: str = "correct horse battery",
        first: str = "Ada",
        last: str | None = "Lovelace",
    ) -> User:
        email = email or f"{unique('u')}@example.com"
        body = {"email": email, "password": password, "firstName": first}
        if last:
            body["lastName"] = last
        created = self.post("/api/auth/signup", body=body)
        assert created.status_code == 201, created.body
        self.verify(email)
        login = self.post("/api/auth/login", body={"email": email, "password": password})
        assert login.status_code == 200, login.body
        user_id = json.loads(base64.urlsafe_b64decode(login.json["token"].split(".")[1] + "=="))["sub"]
        return User(user_id, email, password, login.json["token"], " ".join(p for p in (first, last) if p))

    def verify(self, email: str) -> None:
        """Follows the verification link of the newest mail to `email`, as its owner would."""
        verified = self.post("/api/auth/verify", body={"token": mailed_token(email)})
        assert verified.status_code == 204, verified.body

    def create_team(self, owner: User, name: str | None = None, slug: str | None = None) -> dict:
        slug = slug or unique("t")[:16]
        response = self.post("/api/teams", owner, {"name": name or f"Team {slug}", "slug": slug})
        assert response.status_code == 201, response.body
        return response.json

    def create_project(self, user: User, slug: str, kind: str = "versioned", name: str | None = None) -> dict:
        response = self.post(f"/api/{slug}/projects", user, {"type": kind, "name": name or unique("Project ")})
        assert response.status_code == 201, response.body
        return response.json

    def create_version(
        self, user: User, slug: str, project_id: str, kind: str = "incremental", name: str | None = None
    ) -> dict:
        response = self.post(
            f"/api/{slug}/projects/{project_id}/versions", user, {"type": kind, "name": name or unique("v")}
        )
        assert response.status_code == 201, response.body
        return response.json


def sent_mail_to(address: str) -> list:
    """The mails moto's SES (in this process) sent to `address`, oldest first."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    backend = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [m for m in backend.sent_messages if address.lower() in (a.lower() for a in m.destinations["ToAddresses"])]


def mailed_token(address: str) -> str:
    """The token in the newest link mailed to `address` (verification or reset)."""
    for message in reversed(sent_mail_to(address)):
        found = re.search(r"token=([\w-]+)|\"token\": \"([\w-]+)\"", message.body)
        if found:
            return found.group(1) or found.group(2)
    raise AssertionError(f"no mail with a link to {address}")


@pytest.fixture()
def api(client) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def module_api(app_module) -> Iterator[Api]:
    """An Api for module-scoped fixtures (the users and teams a module's tests only read)."""
    from chalice.test import Client

    with Client(app_module.app) as c:
        yield Api(c)


@pytest.fixture(scope="module")
def module_user(module_api) -> User:
    """One signed-up user per module, for tests that use it only to call (nothing they assert lists it)."""
    return module_api.signup()


@pytest.fixture(scope="module")
def module_team(module_api, module_user) -> tuple[User, dict]:
    """(owner, team) created once per module, for tests that only read the team or add uniquely named,
    test-owned things to it; tests that list or change the team itself make their own."""
    return module_user, module_api.create_team(module_user)


@pytest.fixture(scope="session")
def registry_item(moto_server):
    """`registry_item(team)` → id of an unchecked registry in that team (no network involved)."""
    from chalicelib import ids
    from chalicelib.db import keys
    from chalicelib.db.items import RegistryItem

    def make(team: dict) -> str:
        now, registry_id = ids.utcnow(), ids.new_id()
        RegistryItem(
            keys.team(team["id"]),
            keys.registry(registry_id),
            id=registry_id,
            name=unique("Local "),
            kind="unchecked",
            details={"url": "registry.local", "local": False},
            created_at=now,
            created_by="test",
            updated_at=now,
            updated_by="test",
        ).save()
        return registry_id

    return make


def queue_drainer(queue_name):
    """A function returning the bodies of the messages now on a queue (deleting them)."""
    from chalicelib.adapters import aws, queues

    def drain() -> list[str]:
        sqs, url = aws.client("sqs"), queues.queue_url(queue_name())
        bodies = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages"):
            for message in batch:
                bodies.append(message["Body"])
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return bodies

    return drain


@pytest.fixture()
def events_queue(moto_server):
    from chalicelib import settings

    return queue_drainer(settings.events_queue_name)


@pytest.fixture()
def deploy_queue(moto_server):
    from chalicelib import settings

    return queue_drainer(settings.deploy_queue_name)


@pytest.fixture(scope="session")
def agent_package(moto_server):
    """The agent program published to the (moto) bucket, as the local stack does at start."""
    from infra import agent_package as package

    return package.publish()


from tests.fixtures.docker_engine import busybox_image, docker_client  # noqa: E402,F401
from tests.fixtures.node_tools import bridge_s3, host_traefik, rclone_image, traefik_image  # noqa: E402,F401
from tests.fixtures.receiver import receiver  # noqa: E402,F401
from tests.fixtures.registry import local_registry  # noqa: E402,F401
