"""The fuzzed platform: `python -m infra.local` on free ports, a signed-in user and a team full of real things.

`World` holds the ids of one team's real resources (project, version, image, registry, node
with a registered agent, deployment and its instance, storage, notification, token, an
invited user, an agent command). The fuzz test swaps them into generated requests so that
valid-looking ids reach the code behind the 404 check, and asks `World.fresh` for a new
resource whenever a call would destroy or use up the one it addresses. `StandInAgent`
keeps the node connected and answers its commands.
"""

from __future__ import annotations

import contextlib
import copy
import queue
import threading
import uuid
from collections.abc import Iterator

import pytest
import requests
from websockets.exceptions import WebSocketException

from tests.fixtures.agents import AgentSocket, install_token
from tests.fixtures.local_stack import LocalStack, running_local_stack

PASSWORD = "correct horse battery"


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class World:
    """One user's team and its resources on the running stack, by path/body parameter name."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url
        self.http = requests.Session()
        self.token = self._sign_in()
        self.ids: dict[str, str] = {}
        self.agent_token = ""
        self.socket_url = ""
        self.agent: StandInAgent | None = None
        self.stale = True
        self.broken = False

    def call(self, method: str, path: str, body=None, token: str | None = None, expect: int = 200):
        reply = self.http.request(
            method, self.base + path, json=body, timeout=30, headers={"Authorization": f"Bearer {token or self.token}"}
        )
        assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply.json() if reply.content else None

    def _sign_in(self) -> str:
        self.email = f"{unique('fuzz-')}@example.com"
        self.http.post(
            self.base + "/api/auth/signup",
            json={"email": self.email, "password": PASSWORD, "firstName": "Fuzz"},
            timeout=30,
        ).raise_for_status()
        return self.new_session()

    def throwaway_session(self) -> str:
        """A login token of a new user of its own (a call whose failures count against its account)."""
        email = f"{unique('fuzz-x-')}@example.com"
        self.http.post(
            self.base + "/api/auth/signup", json={"email": email, "password": PASSWORD, "firstName": "X"}, timeout=30
        ).raise_for_status()
        login = self.http.post(self.base + "/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
        login.raise_for_status()
        return login.json()["token"]

    def new_session(self) -> str:
        """Another login token of the world's user (for a call that ends its own session: logout)."""
        login = self.http.post(
            self.base + "/api/auth/login", json={"email": self.email, "password": PASSWORD}, timeout=30
        )
        login.raise_for_status()
        return login.json()["token"]

    def ensure(self) -> None:
        if self.broken:
            pytest.fail("the fuzz world could not be built; see the first failure")
        if self.stale:
            self.broken = True
            self.build()
            self.broken = False

    def build(self) -> None:
        """A new team with one of everything; ~20 requests."""
        if "teamId" in self.ids:  # the old team goes, so lists and the table stay small
            self.discard("teamId", self.ids["teamId"])
        if self.agent is not None:  # and its node's stand-in agent
            self.agent.stopped.set()
        slug = unique("fz")
        team = self.call("POST", "/api/teams", {"name": f"Fuzz {slug}", "slug": slug}, expect=201)
        self.ids = {"teamSlug": slug, "teamId": team["id"]}
        invited = self.fresh("userId")
        registry = self.call(
            "POST",
            self.team_path("/registries"),
            {"name": unique("reg-"), "type": "unchecked", "details": {"url": "registry.local", "local": False}},
            expect=201,
        )
        self.ids.update(invited, registryId=registry["id"], **self.fresh("projectId"))
        self.ids.update(self.fresh("versionId"))
        self.ids.update(self.fresh("imageId"))
        node = self.call("POST", self.team_path("/nodes"), {"name": unique("node-")}, expect=201)
        from chalicelib.contracts.agent import AGENT_VERSION

        registered = self.call(
            "POST",
            "/api/agent/register",
            {"version": AGENT_VERSION, "type": "docker", "hostname": "fuzz", "publicKey": "cHVibGlj"},
            token=self._install_token(node["id"]),
        )
        self.agent_token, self.socket_url = registered["token"], registered["socketUrl"]
        self.agent = StandInAgent(self)
        self.agent.start()
        assert self.agent.connected.wait(15), "the stand-in agent could not open its socket"
        self.ids["nodeId"] = node["id"]
        self.ids.update(self.fresh("deploymentId"))
        details = self.call("GET", self.team_path(f"/deployments/{self.ids['deploymentId']}"))
        self.ids.update(deployment=self.ids["deploymentId"], instanceId=details["instances"][0]["id"])
        for name in ("storageId", "notificationId", "tokenId"):
            self.ids.update(self.fresh(name))
        self.ids["templateId"] = self.call("GET", "/api/templates")[0]["id"]
        # A command for the agent routes: asking the node to start a container pushes one.
        self.call("POST", self.team_path(f"/nodes/{node['id']}/containers/web/start"), expect=204)
        self.ids["command"] = self.agent.first_command.get(timeout=15)
        self.stale = False

    def team_path(self, rest: str) -> str:
        return f"/api/{self.ids['teamSlug']}{rest}"

    def _install_token(self, node_id: str) -> str:
        script = self.call(
            "POST", self.team_path(f"/nodes/{node_id}/script"), {"type": "docker", "scriptType": "shell"}, expect=201
        )["script"]
        return install_token(script)

    def fresh(self, name: str) -> dict[str, str]:
        """A new resource of the kind `name` addresses, inside the world's team (for destructive calls)."""
        makers = {
            "teamId": self._fresh_team,
            "userId": self._fresh_user,
            "projectId": self._fresh_project,
            "versionlessProjectId": lambda: self._fresh_project("versionless"),
            "versionId": self._fresh_version,
            "imageId": self._fresh_image,
            "deploymentId": self._fresh_deployment,
            "nodeId": self._fresh_node,
            "installToken": lambda: {"installToken": self._install_token(self.fresh("nodeId")["nodeId"])},
            "registryId": self._fresh_registry,
            "storageId": self._fresh_storage,
            "notificationId": self._fresh_notification,
            "tokenId": self._fresh_token,
        }
        if name not in makers:
            raise KeyError(name)
        return makers[name]()

    def _fresh_team(self) -> dict[str, str]:
        slug = unique("fx")
        return {"teamId": self.call("POST", "/api/teams", {"name": f"Fuzz {slug}", "slug": slug}, expect=201)["id"]}

    def _fresh_user(self) -> dict[str, str]:
        return {
            "userId": self.call(
                "POST",
                f"/api/teams/{self.ids['teamId']}/users",
                {"email": f"{unique('inv-')}@example.com", "firstName": "Invited"},
                expect=201,
            )["id"]
        }

    def _fresh_project(self, kind: str = "versioned") -> dict[str, str]:
        return {
            "projectId": self.call(
                "POST", self.team_path("/projects"), {"type": kind, "name": unique("proj-")}, expect=201
            )["id"]
        }

    def _fresh_version(self) -> dict[str, str]:
        # In a new project once the world is built: versions pile up otherwise.
        owner = self.fresh("projectId") if "imageId" in self.ids else {"projectId": self.ids["projectId"]}
        project = self.team_path(f"/projects/{owner['projectId']}")
        return {
            **owner,
            "versionId": self.call(
                "POST", f"{project}/versions", {"type": "incremental", "name": unique("v")}, expect=201
            )["id"],
        }

    def _fresh_image(self) -> dict[str, str]:
        # In a new version: the world's may have been deployed, which freezes it.
        version = self.fresh("versionId") if "imageId" in self.ids else {"versionId": self.ids["versionId"]}
        project = self.team_path(f"/projects/{version.get('projectId', self.ids['projectId'])}")
        return {
            **version,
            "imageId": self.call(
                "POST",
                f"{project}/versions/{version['versionId']}/images",
                [{"registryId": self.ids["registryId"], "images": ["acme/web:1"]}],
                expect=201,
            )[0]["id"],
        }

    def _fresh_deployment(self) -> dict[str, str]:
        return {
            "deploymentId": self.call(
                "POST",
                self.team_path("/deployments"),
                {"versionId": self.ids["versionId"], "nodeId": self.ids["nodeId"], "prefix": unique("p")},
                expect=201,
            )["id"]
        }

    def _fresh_node(self) -> dict[str, str]:
        return {"nodeId": self.call("POST", self.team_path("/nodes"), {"name": unique("node-")}, expect=201)["id"]}

    def _fresh_registry(self) -> dict[str, str]:
        return {
            "registryId": self.call(
                "POST",
                self.team_path("/registries"),
                {"name": unique("reg-"), "type": "unchecked", "details": {"url": "registry.local", "local": False}},
                expect=201,
            )["id"]
        }

    def _fresh_storage(self) -> dict[str, str]:
        return {
            "storageId": self.call(
                "POST",
                self.team_path("/storages"),
                {"name": unique("st-"), "url": "https://s3.example.com"},
                expect=201,
            )["id"]
        }

    def _fresh_notification(self) -> dict[str, str]:
        return {
            "notificationId": self.call(
                "POST",
                self.team_path("/notifications"),
                {"type": "discord", "name": unique("n-"), "url": "https://discord.example.com/hook"},
                expect=201,
            )["id"]
        }

    def _fresh_token(self) -> dict[str, str]:
        return {
            "tokenId": self.call("POST", "/api/tokens", {"name": unique("tok-"), "expirationInDays": 30}, expect=201)[
                "id"
            ]
        }

    def discard(self, name: str, value: str) -> None:
        """Removes a team the fuzzer made (teams are listed with statistics; many would slow every list)."""
        if name == "teamId":
            self.http.delete(
                f"{self.base}/api/teams/{value}", timeout=30, headers={"Authorization": f"Bearer {self.token}"}
            )


@pytest.fixture(scope="session")
def fuzz_stack() -> Iterator[LocalStack]:
    # Generated logins fail by the hundred from one address: the source limit would throttle the
    # world's own logins (tests/api/test_sessions.py and tests/security check throttling).
    with running_local_stack(env={"LOGIN_FAILURES_PER_SOURCE": "1000000"}) as running:
        yield running


class StandInAgent(threading.Thread):
    """The world's node agent, minus Docker: holds its socket and answers every pushed command with
    success (reconnecting when the fuzzer's calls close it).

    Without it the node turns unreachable and container calls stop at 412/503 before the
    code that asks the agent; a real agent would act on the shared Docker engine.
    """

    def __init__(self, world: World) -> None:
        super().__init__(name="fuzz-agent", daemon=True)
        self.world = world
        self.stopped = threading.Event()
        self.connected = threading.Event()
        self.first_command: queue.Queue[str] = queue.Queue(maxsize=1)
        self.http = requests.Session()

    def _call(self, method: str, path: str, body=None, **kw):
        return self.http.request(
            method,
            self.world.base + path,
            json=body,
            timeout=10,
            headers={"Authorization": f"Bearer {self.world.agent_token}"},
            **kw,
        )

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                socket = AgentSocket(self.world.agent_token, self.world.socket_url)
            except (OSError, WebSocketException):
                self.stopped.wait(0.5)  # revoked or deleted by the fuzzer: keep trying, as an agent would not
                continue
            self.connected.set()
            try:
                self._serve(socket)
            except (OSError, WebSocketException, requests.RequestException, ValueError):
                self.stopped.wait(0.2)
            finally:
                socket.close()

    def _serve(self, socket: AgentSocket) -> None:
        while not self.stopped.is_set():
            try:
                message = socket.pushed(timeout=0.5)
            except TimeoutError:
                continue
            command = message.get("command") or {}
            if message.get("type") != "command" or not command.get("id"):
                continue
            with contextlib.suppress(queue.Full):
                self.first_command.put_nowait(command["id"])
            self._call("POST", f"/api/agent/commands/{command['id']}/ack")
            result = self._result(command)
            self._call("POST", f"/api/agent/commands/{command['id']}/result", result)

    @staticmethod
    def _result(command: dict) -> dict:
        """What an agent would report: no containers listed; a named one runs and has a one-line log."""
        kind = command.get("kind")
        if kind == "container-log":
            return {"ok": True, "log": {"lines": [{"text": "hello", "stream": "stdout"}]}}
        if kind == "container-inspect":
            inspection = {"prefix": command.get("prefix", ""), "name": command.get("name", ""), "state": "running"}
            return {"ok": True, "inspection": inspection}
        return {"ok": True, "containers": [] if kind == "list-containers" else None}


@pytest.fixture(scope="session")
def world(fuzz_stack: LocalStack) -> Iterator[World]:
    world = World(fuzz_stack.url)
    world.build()
    yield world
    if world.agent is not None:
        world.agent.stopped.set()
        world.agent.join(15)


def closed(document: dict) -> dict:
    """The document with every object schema closed, so an undocumented response field is a violation."""
    document = copy.deepcopy(document)
    for schema in document["components"]["schemas"].values():
        if "properties" in schema:
            schema.setdefault("additionalProperties", False)
    return document
