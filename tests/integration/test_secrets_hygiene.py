"""Secrets hygiene end to end (issue 6): a real deployment with a registry password, a storage's
keys, sealed instance secrets and every kind of token, then a search for each secret value in
everything the platform said or wrote: every API response of the session (lists, details, logs,
audit logs, errors), the local stack's process log, the agent's log, the CLI's output, and the
table at rest. A token may appear only in the one response that hands it out.

The stack logs as on AWS (LOG_FORMAT=json: one JSON object per line, the metrics as EMF objects with
the invocation's ids), and each line is searched decoded as well as raw, so an escape in the JSON
cannot hide a value.
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
from tests.fixtures.docker_engine import prefixed_containers
from tests.fixtures.local_stack import (
    HttpApi,
    agent_log,
    free_port,
    run_install_command,
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
def hygiene_stack(json_stack_process):
    """The session's stack that logs as on AWS (LOG_FORMAT=json): every value searched for is unique to this
    module, so what other modules did on it cannot match, and its log and table hold this module's part as
    well."""
    return json_stack_process


@dataclass
class Session:
    """What one user's session did and everything the platform said or wrote meanwhile."""

    api: RecordingApi
    team: str
    path: str  # the deployment's
    node_path: str
    storage_id: str
    registered: int  # replies before this index came while the installer was live
    status: str
    worker_env: dict[str, str]
    tokens: dict[str, str]  # login, personal, install, deploy, connection
    secrets: dict[str, str]  # registry password (and the refused one), agent private key
    logs: dict[str, str]


def sign_up(api: RecordingApi) -> tuple[str, str]:
    """A new user signed in; (login token, personal access token)."""
    email = f"sec-{uuid.uuid4().hex[:8]}@example.com"
    api.call("POST", "/api/auth/signup", {"email": email, "password": USER_PASSWORD, "firstName": "Sec"}, expect=201)
    api.token = api.call("POST", "/api/auth/login", {"email": email, "password": USER_PASSWORD}, expect=200).json()[
        "token"
    ]
    return api.token, api.call("POST", "/api/tokens", {"name": "ci", "expirationInDays": 1}, expect=201).json()["token"]


def add_registry_and_storage(api: RecordingApi, team: str, local_registry, wrong: str) -> tuple[dict, dict]:
    """A registry with a password (after a refused attempt with a wrong one), and a storage with keys
    (after a refused one whose URL carries the secret key)."""
    refused = api.call(
        "POST",
        f"{team}/registries",
        {
            "type": "v2",
            "name": "bad",
            "details": {"url": local_registry.url, "user": local_registry.user, "token": wrong},
        },
    )
    assert 400 <= refused.status_code < 500
    registry = api.call(
        "POST",
        f"{team}/registries",
        {
            "type": "v2",
            "name": "private",
            "details": {"url": local_registry.url, "user": local_registry.user, "token": local_registry.password},
        },
        expect=201,
    ).json()
    storage = api.call(
        "POST",
        f"{team}/storages",
        {"name": "assets", "url": "https://s3.example.com", "accessKey": STORAGE_ACCESS, "secretKey": STORAGE_SECRET},
        expect=201,
    ).json()
    refused_storage = api.call(
        "POST",
        f"{team}/storages",
        {
            "name": "leaky",
            "url": f"https://me:{STORAGE_SECRET}@s3.example.com",
            "accessKey": STORAGE_ACCESS,
            "secretKey": STORAGE_SECRET,
        },
    )
    assert refused_storage.status_code == 400
    return registry, storage


def create_deployment(api: RecordingApi, team: str, registry: dict, node: dict, prefix: str) -> tuple[str, str, str]:
    """A versionless project whose web and worker images run on the node, the worker needing DB_PASSWORD;
    (deployment path, project path, images path)."""
    project = api.call("POST", f"{team}/projects", {"type": "versionless", "name": "vault"}, expect=201).json()
    version = api.get(f"{team}/projects/{project['id']}")["versions"][0]
    images_path = f"{team}/projects/{project['id']}/versions/{version['id']}/images"
    web, worker = api.call(
        "POST",
        images_path,
        [{"registryId": registry["id"], "images": ["acme/web:1.0", "acme/worker:latest"]}],
        expect=201,
    ).json()
    api.call(
        "PATCH",
        f"{images_path}/{web['id']}",
        {
            "config": {
                "name": "web",
                "environment": [{"key": "MODE", "value": "prod"}],
                "secrets": [],
                "ports": [{"internal": 8080, "external": free_port()}],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                "args": [{"key": "exec httpd -f -p 8080 -h /"}],
            }
        },
        expect=204,
    )
    api.call(
        "PATCH",
        f"{images_path}/{worker['id']}",
        {
            "config": {
                "name": "worker",
                "environment": [{"key": "MODE", "value": "batch"}],
                "secrets": [{"key": "DB_PASSWORD", "required": True}],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                # It prints its secret: the container's log, read through the node, must still not show it.
                "args": [{"key": 'echo "connecting with $DB_PASSWORD"; exec sleep 600'}],
            }
        },
        expect=204,
    )
    deployment = api.call(
        "POST", f"{team}/deployments", {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix}, expect=201
    ).json()
    return f"{team}/deployments/{deployment['id']}", f"{team}/projects/{project['id']}", images_path


def set_secret_with_cli(api: RecordingApi, personal_token: str, slug: str, path: str, instance: dict) -> str:
    """`python -m cli set-secret` with the personal token; the CLI's output."""
    deployment_id = path.rsplit("/", 1)[1]
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "set-secret",
            "--url",
            api.base,
            "--token",
            personal_token,
            "--team",
            slug,
            "--deployment",
            deployment_id,
            "--instance",
            instance["id"],
            "--key",
            "DB_PASSWORD",
            DB_PASSWORD,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    return cli.stdout + cli.stderr


def read_everything(api: RecordingApi, team: str, path: str, node_path: str, ids: dict[str, str]) -> None:
    """Every page a user can look at about what was made."""
    instance, project_path = f"{path}/instances/{ids['instance']}", f"{team}/projects/{ids['project']}"
    for read in (
        f"{team}/deployments",
        path,
        f"{path}/log?skip=0&take=100",
        instance,
        f"{instance}/secrets",
        f"{team}/nodes",
        node_path,
        f"{node_path}/audit?take=100",
        f"{node_path}/containers?prefix={ids['prefix']}",
        f"{node_path}/{ids['prefix']}/containers/worker/log",
        f"{node_path}/{ids['prefix']}/containers/worker/inspect",
        f"{team}/registries",
        f"{team}/registries/{ids['registry']}",
        f"{team}/storages",
        f"{team}/storages/options",
        f"{team}/storages/{ids['storage']}",
        f"{team}/audit-log?take=100",
        f"{team}/dashboard",
        f"{team}/projects",
        project_path,
        ids["images_path"],
        "/api/tokens",
        "/api/teams",
    ):
        api.get(read)
    api.call("GET", f"{node_path}/script")


@pytest.fixture(scope="module")
def recorded(hygiene_stack, local_registry, docker_client, tmp_path_factory) -> Session:
    """A real deployment with a registry password, a storage's keys, a sealed instance secret and every
    kind of token, deployed through an agent installed by its one-line command; then every read."""
    api = RecordingApi(hygiene_stack.url)
    login_token, personal_token = sign_up(api)
    slug = f"s{uuid.uuid4().hex[:10]}"
    api.call("POST", "/api/teams", {"name": f"Sec {slug}", "slug": slug}, expect=201)
    team = f"/api/{slug}"

    # GIVEN a node whose agent was installed by its one-line command
    node = api.call("POST", f"{team}/nodes", {"name": "secret-host"}, expect=201).json()
    node_path = f"{team}/nodes/{node['id']}"
    install = api.call("POST", f"{node_path}/script", {"type": "docker", "scriptType": "shell"}, expect=201).json()
    data_dir = tmp_path_factory.mktemp("hygiene") / "agent"
    pid = run_install_command(install["command"], data_dir)
    prefix = f"s{uuid.uuid4().hex[:8]}"
    wrong = f"wrong-{uuid.uuid4().hex}"
    try:
        wait_for(
            lambda: api.get(node_path)["status"] == "connected",
            60,
            "node never connected; agent log:\n" + agent_log(data_dir),
        )
        registered = len(api.replies)  # from here on the installer (and its token) is spent
        # AND a registry with a password, a storage with keys, a deployment whose worker needs a sealed secret
        registry, storage = add_registry_and_storage(api, team, local_registry, wrong)
        path, project_path, images_path = create_deployment(api, team, registry, node, prefix)
        instance = next(i for i in api.get(path)["instances"] if i["image"]["name"] == "acme/worker")
        cli_output = set_secret_with_cli(api, personal_token, slug, path, instance)
        deploy_token = api.call(
            "PUT", f"{path}/token", {"name": "ci-deploy", "expirationInDays": 1}, expect=201
        ).json()["token"]

        # WHEN it is deployed through the real agent and engine
        api.call("POST", f"{path}/start", expect=204)
        status = wait_for(
            lambda: (s := api.get(path)["status"]) in ("successful", "failed") and s,
            90,
            "deployment never finished; agent log:\n" + agent_log(data_dir),
        )
        worker_env = (
            dict(e.split("=", 1) for e in docker_client.containers.get(f"{prefix}-worker").attrs["Config"]["Env"])
            if status == "successful"
            else {}
        )
        if status == "successful":  # the worker has printed its secret before the user reads its log
            wait_for(
                lambda: b"connecting with" in docker_client.containers.get(f"{prefix}-worker").logs(),
                20,
                "the worker printed nothing",
            )
        # AND the user looks at everything there is to see
        read_everything(
            api,
            team,
            path,
            node_path,
            {
                "instance": instance["id"],
                "prefix": prefix,
                "registry": registry["id"],
                "storage": storage["id"],
                "project": project_path.rsplit("/", 1)[1],
                "images_path": images_path,
            },
        )
    finally:
        stop_agent(int((data_dir / "agent.pid").read_text()) if (data_dir / "agent.pid").exists() else pid)
        for container in prefixed_containers(docker_client, prefix):
            container.remove(force=True)

    tokens = {
        "login": login_token,
        "personal": personal_token,
        "install": _install_token(install),
        "deploy": deploy_token,
        "connection": (data_dir / "connection.token").read_text().strip(),
    }
    secrets = {
        "registry": local_registry.password,
        "refused registry": wrong,
        "agent key": (data_dir / "secret.key").read_text().strip(),
    }
    logs = {
        "local stack log": hygiene_stack.log(),
        "agent log": agent_log(data_dir),
        "CLI output": cli_output,
        "table at rest": _table_dump(hygiene_stack),
    }
    return Session(api, team, path, node_path, storage["id"], registered, status, worker_env, tokens, secrets, logs)


@pytest.mark.timeout(400)
def test_the_sealed_secret_reaches_its_container(recorded):
    assert recorded.status == "successful", recorded.api.get(f"{recorded.path}/log?take=100")
    assert recorded.worker_env["DB_PASSWORD"] == DB_PASSWORD  # the secret did arrive where it belongs
    # The worker printed it; its log and inspection, read through the node, show it masked.
    [log] = [r for r in recorded.api.replies if r.path.endswith("/containers/worker/log")]
    assert "connecting with ******" in log.text, log.text
    [inspected] = [r for r in recorded.api.replies if r.path.endswith("/containers/worker/inspect")]
    assert {"key": "DB_PASSWORD", "value": "******", "secret": True} in json.loads(inspected.text)["environment"]


def handed_out(recorded: Session) -> dict[str, tuple[str, object]]:
    """Each value, and the responses allowed to carry it: a token is handed out once; the install
    token also shows on the node's page (and its script URL) while the installer is live (dyrector §5)."""
    never = lambda index, reply: False  # noqa: E731
    node_path, path, tokens = recorded.node_path, recorded.path, recorded.tokens
    return {
        "user password": (USER_PASSWORD, never),
        "registry password": (recorded.secrets["registry"], never),
        "refused registry password": (recorded.secrets["refused registry"], never),
        "storage secret key": (STORAGE_SECRET, never),
        "instance secret value": (DB_PASSWORD, never),
        "agent private key": (recorded.secrets["agent key"], never),
        "agent connection token": (tokens["connection"], never),
        "login token": (tokens["login"], lambda i, r: (r.method, r.path) == ("POST", "/api/auth/login")),
        "personal access token": (tokens["personal"], lambda i, r: (r.method, r.path) == ("POST", "/api/tokens")),
        "install token": (
            tokens["install"],
            lambda i, r: (
                (r.method, r.path) == ("POST", f"{node_path}/script")
                or (
                    i < recorded.registered
                    and (r.method, r.path) in {("GET", node_path), ("GET", f"{node_path}/script")}
                )
            ),
        ),
        "deployment token": (tokens["deploy"], lambda i, r: (r.method, r.path) == ("PUT", f"{path}/token")),
    }


@pytest.mark.timeout(400)
def test_no_secret_value_appears_in_any_response_log_or_table(recorded):
    leaks = []
    for name, (value, allowed) in handed_out(recorded).items():
        assert len(value) >= 16, name
        leaks += [
            f"{name} in the response to {reply.method} {reply.path} ({reply.status})"
            for index, reply in enumerate(recorded.api.replies)
            if value in reply.text and not allowed(index, reply)
        ]
        leaks += [
            f"{name} in the {where}"
            for where, text in recorded.logs.items()
            if value in text and not (where == "table at rest" and name in _STORED_HASHED_OR_SEALED)
        ]
    assert not leaks, "\n".join(leaks)
    assert len(recorded.api.replies) >= 40


@pytest.mark.timeout(400)
def test_each_token_is_handed_out_exactly_once_by_its_own_call(recorded):
    values = handed_out(recorded)
    for name in TOKENS:
        value, _ = values[name]
        assert [r.method for r in recorded.api.replies if value in r.text and r.method != "GET"] == [
            "PUT" if name == "deployment token" else "POST"
        ], name


@pytest.mark.timeout(400)
def test_the_storage_access_key_shows_only_on_its_own_pages_and_in_no_log(recorded):
    # The storage's access key is an identifier shown on its details page, never in lists or logs.
    pages = rf"{recorded.team}/storages(/{recorded.storage_id})?"
    leaks = [
        f"storage access key in the response to {reply.method} {reply.path}"
        for reply in recorded.api.replies
        if STORAGE_ACCESS in reply.text and not re.fullmatch(pages, reply.path)
    ]
    leaks += [
        f"storage access key in the {where}"
        for where in ("local stack log", "agent log")
        if STORAGE_ACCESS in recorded.logs[where]
    ]
    assert not leaks, "\n".join(leaks)


# The values with a call that hands them out (all others must never appear in any response).
TOKENS = ("login token", "personal access token", "install token", "deployment token")
# Tokens are kept only as ids or hashes; nothing here is expected in the table in clear at all.
_STORED_HASHED_OR_SEALED: frozenset[str] = frozenset()


def _install_token(install: dict) -> str:
    """The install token inside the generated script (a JWT)."""
    found = re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", json.dumps(install))
    assert found, "no token in the install reply"
    return found[0]


def _table_dump(running) -> str:
    """Every item of the table (a test-only scan) as text."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    (described,) = session.client("cloudformation", endpoint_url=running.aws_endpoint).describe_stacks(
        StackName=stack.DEFAULT_STACK_NAME
    )["Stacks"]
    table = next(o["OutputValue"] for o in described["Outputs"] if o["OutputKey"] == "TableName")
    pages = (
        session.client("dynamodb", endpoint_url=running.aws_endpoint).get_paginator("scan").paginate(TableName=table)
    )
    return json.dumps([item for page in pages for item in page["Items"]], default=lambda b: b.decode("latin-1"))


def _strings(value) -> list[str]:
    """Every string inside a decoded JSON value, keys included."""
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [value] if isinstance(value, str) else []


@pytest.mark.timeout(400)
def test_the_stack_log_is_json_lines_whose_decoded_values_hold_no_secret(recorded):
    # GIVEN the stack's log of the session, as AWS would get it: JSON log records and EMF metrics
    decoded = [json.loads(line) for line in recorded.logs["local stack log"].splitlines() if line.startswith("{")]
    records = [line for line in decoded if "_aws" not in line]
    metrics = [line for line in decoded if "_aws" in line]
    # (this module's calls really were logged with their ids, and its deployment's metrics written)
    deployment_id = recorded.path.rsplit("/", 1)[1]
    assert len([r for r in records if r.get("deployment_id") == deployment_id and r.get("request_id")]) >= 5
    assert [m for m in metrics if m.get("deployment_id") == deployment_id and "DeploymentsSuccessful" in m]
    # THEN no secret, token or password is in any decoded value of any line
    secrets = {name: value for name, (value, _) in handed_out(recorded).items()} | {
        "storage access key": STORAGE_ACCESS
    }
    leaks = [
        f"{name} in a {'metric' if '_aws' in line else 'log record'}: {line.get('message') or line.get('route')}"
        for line in decoded
        for text in _strings(line)
        for name, value in secrets.items()
        if value in text
    ]
    assert not leaks, "\n".join(leaks)
