"""Secrets hygiene end to end (issue 6): a real deployment with a registry password, a storage's
keys, sealed instance secrets and every kind of token, then a search for each secret value in
everything the platform said or wrote: every API response of the session (lists, details, logs,
audit logs, errors), the local stack's process log, the agent's log, the CLI's output, and the
table at rest. A token may appear only in the one response that hands it out.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass

import boto3
import pytest

from infra import stack
from tests.fixtures.local_stack import (
    HttpApi,
    agent_log,
    free_port,
    run_install_command,
    running_local_stack,
    stop_agent,
)
from tests.fixtures.waiting import wait_for

STORAGE_ACCESS, STORAGE_SECRET = f"AKIA{uuid.uuid4().hex[:16].upper()}", f"storage-secret-{uuid.uuid4().hex}"
DB_PASSWORD = f"db-pass-{uuid.uuid4().hex}"
USER_PASSWORD = f"user-pass-{uuid.uuid4().hex}"


@dataclass
class Reply:
    method: str
    path: str
    status: int
    text: str


class RecordingApi(HttpApi):
    """HttpApi that keeps every response it got, to be searched afterwards."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.replies: list[Reply] = []

    def call(self, method: str, path: str, body=None, expect: int | None = None):
        reply = super().call(method, path, body, expect)
        self.replies.append(Reply(method, path, reply.status_code, reply.text))
        return reply

    def get(self, path: str):
        return self.call("GET", path, expect=200).json()


@pytest.fixture(scope="module")
def hygiene_stack():
    with running_local_stack() as running:
        yield running


@pytest.mark.timeout(400)
def test_no_secret_value_appears_in_any_response_log_or_table(hygiene_stack, local_registry, docker_client,
                                                              tmp_path):
    api = RecordingApi(hygiene_stack.url)
    email = f"sec-{uuid.uuid4().hex[:8]}@example.com"
    api.call("POST", "/api/auth/signup", {"email": email, "password": USER_PASSWORD, "firstName": "Sec"}, expect=201)
    login_token = api.call("POST", "/api/auth/login", {"email": email, "password": USER_PASSWORD},
                           expect=200).json()["token"]
    api.token = login_token
    personal_token = api.call("POST", "/api/tokens", {"name": "ci", "expirationInDays": 1}, expect=201).json()["token"]
    slug = f"s{uuid.uuid4().hex[:10]}"
    api.call("POST", "/api/teams", {"name": f"Sec {slug}", "slug": slug}, expect=201)
    team = f"/api/{slug}"

    # GIVEN a node whose agent was installed by its one-line command
    node = api.call("POST", f"{team}/nodes", {"name": "secret-host"}, expect=201).json()
    install = api.call("POST", f"{team}/nodes/{node['id']}/script", {"type": "docker", "scriptType": "shell"},
                       expect=201).json()
    install_token = _install_token(install)
    data_dir = tmp_path / "agent"
    pid = run_install_command(install["command"], data_dir)
    prefix = f"s{uuid.uuid4().hex[:8]}"
    try:
        wait_for(lambda: api.get(f"{team}/nodes/{node['id']}")["status"] == "connected", 60,
                 "node never connected; agent log:\n" + agent_log(data_dir))
        registered = len(api.replies)  # from here on the installer (and its token) is spent
        # AND a registry with a password (also a refused attempt with a wrong one), and a storage with keys
        wrong = f"wrong-{uuid.uuid4().hex}"
        refused = api.call("POST", f"{team}/registries", {"type": "v2", "name": "bad", "details": {
            "url": local_registry.url, "user": local_registry.user, "token": wrong}})
        assert 400 <= refused.status_code < 500
        registry = api.call("POST", f"{team}/registries", {"type": "v2", "name": "private", "details": {
            "url": local_registry.url, "user": local_registry.user, "token": local_registry.password}},
            expect=201).json()
        storage = api.call("POST", f"{team}/storages", {
            "name": "assets", "url": "https://s3.example.com", "accessKey": STORAGE_ACCESS,
            "secretKey": STORAGE_SECRET}, expect=201).json()
        refused_storage = api.call("POST", f"{team}/storages", {
            "name": "leaky", "url": f"https://me:{STORAGE_SECRET}@s3.example.com", "accessKey": STORAGE_ACCESS,
            "secretKey": STORAGE_SECRET})
        assert refused_storage.status_code == 400

        # AND a deployment whose worker needs a secret, sealed for the node with the CLI
        project = api.call("POST", f"{team}/projects", {"type": "versionless", "name": "vault"}, expect=201).json()
        version = api.get(f"{team}/projects/{project['id']}")["versions"][0]
        images_path = f"{team}/projects/{project['id']}/versions/{version['id']}/images"
        web, worker = api.call("POST", images_path, [{"registryId": registry["id"],
                                                      "images": ["acme/web:1.0", "acme/worker:latest"]}],
                               expect=201).json()
        port = free_port()
        api.call("PATCH", f"{images_path}/{web['id']}", {"config": {
            "name": "web", "environment": [{"key": "MODE", "value": "prod"}], "secrets": [],
            "ports": [{"internal": 8080, "external": port}], "commands": [{"key": "sh"}, {"key": "-c"}],
            "args": [{"key": "exec httpd -f -p 8080 -h /"}]}}, expect=204)
        api.call("PATCH", f"{images_path}/{worker['id']}", {"config": {
            "name": "worker", "environment": [{"key": "MODE", "value": "batch"}],
            "secrets": [{"key": "DB_PASSWORD", "required": True}],
            "commands": [{"key": "sh"}, {"key": "-c"}], "args": [{"key": "sleep 600"}]}}, expect=204)
        deployment = api.call("POST", f"{team}/deployments", {"versionId": version["id"], "nodeId": node["id"],
                                                              "prefix": prefix}, expect=201).json()
        path = f"{team}/deployments/{deployment['id']}"
        instance = next(i for i in api.get(path)["instances"] if i["image"]["name"] == "acme/worker")
        cli = subprocess.run([sys.executable, "-m", "cli", "set-secret", "--url", api.base, "--token", personal_token,
                              "--team", slug, "--deployment", deployment["id"], "--instance", instance["id"],
                              "--key", "DB_PASSWORD", DB_PASSWORD], capture_output=True, text=True, timeout=60)
        assert cli.returncode == 0, cli.stderr
        deploy_token = api.call("PUT", f"{path}/token", {"name": "ci-deploy", "expirationInDays": 1},
                                expect=201).json()["token"]

        # WHEN it is deployed through the real agent and engine
        api.call("POST", f"{path}/start", expect=204)
        status = wait_for(lambda: (s := api.get(path)["status"]) in ("successful", "failed") and s, 90,
                          "deployment never finished; agent log:\n" + agent_log(data_dir))
        assert status == "successful", api.get(f"{path}/log?take=100")
        env = dict(e.split("=", 1) for e in docker_client.containers.get(f"{prefix}-worker").attrs["Config"]["Env"])
        assert env["DB_PASSWORD"] == DB_PASSWORD  # the secret did arrive where it belongs

        # AND the user looks at everything there is to see
        for read in (f"{team}/deployments", path, f"{path}/log?skip=0&take=100",
                     f"{path}/instances/{instance['id']}", f"{path}/instances/{instance['id']}/secrets",
                     f"{team}/nodes", f"{team}/nodes/{node['id']}", f"{team}/nodes/{node['id']}/audit?take=100",
                     f"{team}/nodes/{node['id']}/containers?prefix={prefix}", f"{team}/registries",
                     f"{team}/registries/{registry['id']}", f"{team}/storages", f"{team}/storages/options",
                     f"{team}/storages/{storage['id']}", f"{team}/audit-log?take=100", f"{team}/dashboard",
                     f"{team}/projects", f"{team}/projects/{project['id']}", images_path, "/api/tokens",
                     "/api/teams"):
            api.get(read)
        api.call("GET", f"{team}/nodes/{node['id']}/script")
    finally:
        stop_agent(int((data_dir / "agent.pid").read_text()) if (data_dir / "agent.pid").exists() else pid)
        for container in docker_client.containers.list(all=True):
            if container.name.startswith(f"{prefix}-"):
                container.remove(force=True)

    connection_token = (data_dir / "connection.token").read_text().strip()
    agent_key = (data_dir / "secret.key").read_text().strip()
    # Each value, and the responses allowed to carry it: a token is handed out once; the install
    # token also shows on the node's page (and its script URL) while the installer is live (dyrector §5).
    never = lambda index, reply: False  # noqa: E731
    node_path = f"{team}/nodes/{node['id']}"
    handed_out = {
        "user password": (USER_PASSWORD, never),
        "registry password": (local_registry.password, never),
        "refused registry password": (wrong, never),
        "storage secret key": (STORAGE_SECRET, never),
        "instance secret value": (DB_PASSWORD, never),
        "agent private key": (agent_key, never),
        "agent connection token": (connection_token, never),
        "login token": (login_token, lambda i, r: (r.method, r.path) == ("POST", "/api/auth/login")),
        "personal access token": (personal_token, lambda i, r: (r.method, r.path) == ("POST", "/api/tokens")),
        "install token": (install_token, lambda i, r: (r.method, r.path) == ("POST", f"{node_path}/script")
                          or (i < registered and (r.method, r.path) in {("GET", node_path),
                                                                          ("GET", f"{node_path}/script")})),
        "deployment token": (deploy_token, lambda i, r: (r.method, r.path) == ("PUT", f"{path}/token")),
    }
    logs = {"local stack log": hygiene_stack.log(), "agent log": agent_log(data_dir),
            "CLI output": cli.stdout + cli.stderr, "table at rest": _table_dump(hygiene_stack)}
    leaks = []
    for name, (value, allowed) in handed_out.items():
        assert len(value) >= 16, name
        for index, reply in enumerate(api.replies):
            if value in reply.text and not allowed(index, reply):
                leaks.append(f"{name} in the response to {reply.method} {reply.path} ({reply.status})")
        for where, text in logs.items():
            if value in text and not (where == "table at rest" and name in _STORED_HASHED_OR_SEALED):
                leaks.append(f"{name} in the {where}")
        if allowed is not never:  # the token was handed out, exactly once by its own call
            assert [r.method for r in api.replies if value in r.text and r.method != "GET"] == \
                ["PUT" if name == "deployment token" else "POST"], name
    # The storage's access key is an identifier shown on its details page, never in lists or logs.
    for reply in api.replies:
        if STORAGE_ACCESS in reply.text and not re.fullmatch(rf"{team}/storages(/{storage['id']})?", reply.path):
            leaks.append(f"storage access key in the response to {reply.method} {reply.path}")
    for where in ("local stack log", "agent log"):
        if STORAGE_ACCESS in logs[where]:
            leaks.append(f"storage access key in the {where}")
    assert not leaks, "\n".join(leaks)
    assert len(api.replies) >= 40


# Tokens are kept only as ids or hashes; nothing here is expected in the table in clear at all.
_STORED_HASHED_OR_SEALED: frozenset[str] = frozenset()


def _install_token(install: dict) -> str:
    """The install token inside the generated script (a JWT)."""
    found = re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", json.dumps(install))
    assert found, "no token in the install reply"
    return found[0]


def _table_dump(running) -> str:
    """Every item of the table (a test-only scan) as text."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name="us-east-1")
    (described,) = session.client("cloudformation", endpoint_url=running.aws_endpoint).describe_stacks(
        StackName=stack.DEFAULT_STACK_NAME)["Stacks"]
    table = next(o["OutputValue"] for o in described["Outputs"] if o["OutputKey"] == "TableName")
    pages = session.client("dynamodb", endpoint_url=running.aws_endpoint).get_paginator("scan").paginate(
        TableName=table)
    return json.dumps([item for page in pages for item in page["Items"]], default=lambda b: b.decode("latin-1"))
