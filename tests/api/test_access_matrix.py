"""Access-control matrix: every route the app declares × every kind of caller.

The routes come from `routing.ROUTES`, so a new route is swept the moment it exists. What
each caller must get is derived from the route's own declaration (`auth`, `role`, the team
and ids in its path), never from a per-route list that could drift:

- no token, a garbage / expired / forged / unsigned token, a revoked personal token → 401;
- tokens of another kind (agent install or connection tokens, deployment tokens on user
  routes; user and deployment tokens on agent routes) → 401; a deployment token on another
  deployment's start → 403;
- a member of another team, or someone only invited, on team A's routes → 403/404;
- a member of team B in *its own* team naming team A's ids, in the path or in the body
  (a version, node, registry, storage, image) → 400/403/404;
- a member whose role ranks below the route's declared role → 403;
- an agent of team B naming team A's commands or deployments → 404;
- team B's member (or agent) on routes about the caller alone (its teams, tokens, profile,
  heartbeat, command poll) → served, and with nothing of team A in the answer.

Every answer must carry none of team A's names, e-mails or ids (except those the caller
sent), and team A's items in the table must be exactly as they were. Only public routes may
be called without credentials; they are listed below with the reason.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

import jwt
import pytest

from chalicelib.contracts.agent import AGENT_VERSION
from tests.conftest import Api, User, unique
from tests.fixtures.agents import AgentSocket, install_token

PUBLIC = {
    ("GET", "/api/health"): "liveness for load balancers and monitors; returns only status and version",
    ("POST", "/api/auth/signup"): "creating an account is how a caller gets credentials",
    ("POST", "/api/auth/login"): "exchanging a password for a token",
    ("POST", "/api/auth/verify"): "proving an address by the single-use token mailed to it",
    ("GET", "/api/auth/verify"): "the mailed verification link a person clicks; the token is the credential",
    ("POST", "/api/auth/password-reset"): "a forgotten password; answers the same for any address, mails the owner",
    ("POST", "/api/auth/password-reset/confirm"): "setting a password with the single-use token mailed to the owner",
    ("GET", "/api/openapi.json"): "the API description, the same for everyone",
    ("GET", "/api/docs"): "the readable page rendering openapi.json",
    ("GET", "/api/socket"): "where the WebSocket API is; connecting to it needs a token in the handshake",
}
LOGOUT = ("POST", "/api/auth/logout")
# Own-scope routes that answer other than 200/201 for the caller: logout ends the caller's (spare)
# session; a password change with a wrong current password is refused and changes nothing.
OWN_SCOPE = {LOGOUT: {204}, ("PUT", "/api/users/me/password"): {403}}
USER_AUTH, DEPLOY_AUTH, AGENT_AUTH, INSTALL_AUTH = "user", "user-or-deploy", "agent", "agent-install"
ROLE_RANK = {"user": 0, "admin": 1, "owner": 2}
# Path parameters naming a resource of a team (team A's real ids are put there).
RESOURCE_PARAMS = {
    "projectId",
    "versionId",
    "imageId",
    "deploymentId",
    "instanceId",
    "nodeId",
    "registryId",
    "storageId",
    "notificationId",
    "tokenId",
    "command",
    "deployment",
}
FIGURES = {"calls": 0, "routes": 0, "callers": {}}


def all_routes():
    import app  # noqa: F401 - registers the routes
    from chalicelib.api.routing import all_routes

    return all_routes()


def route_id(route) -> str:
    return f"{route.method} {route.path}"


def params_of(path: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", path))


# --- the two teams ---------------------------------------------------------------------------


@dataclass
class Team:
    """One team with one of everything, and every kind of credential that can act on it."""

    owner: User
    team: dict
    ids: dict[str, str]
    names: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    members: dict[str, User] = field(default_factory=dict)
    partitions: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return self.team["slug"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ok(response, status: int = 200):
    assert response.status_code == status, response.body
    return response.json


def add_members(api: Api, owner: User, team: dict) -> dict[str, User]:
    """An admin and a user who accepted their invitations, and an invitee who has not (yet)."""
    members = {}
    for role in ("admin", "user"):
        member = api.signup()
        ok(api.post(f"/api/teams/{team['id']}/users", owner, {"email": member.email, "firstName": "M"}), 201)
        ok(api.post(f"/api/users/me/invitations/{team['id']}", member), 204)
        if role == "admin":
            ok(api.put(f"/api/teams/{team['id']}/users/{member.id}/role", owner, {"role": "admin"}), 204)
        members[role] = member
    invitee = api.signup()
    ok(api.post(f"/api/teams/{team['id']}/users", owner, {"email": invitee.email, "firstName": "I"}), 201)
    members["invitee"] = invitee
    return members


OPEN_SOCKETS: list[AgentSocket] = []


def connect_agent(api: Api, owner: User, base: str, node: dict) -> str:
    """Registers an agent for `node` through its install script, reports in and opens its socket (kept
    open for the session, so the node stays connected); its connection token."""
    script = ok(api.post(f"{base}/nodes/{node['id']}/script", owner, {"type": "docker", "scriptType": "shell"}), 201)
    public_key = base64.b64encode(b"k" * 32).decode()
    connection = ok(
        api.post(
            "/api/agent/register",
            headers=bearer(install_token(script["script"])),
            body={"version": AGENT_VERSION, "type": "docker", "publicKey": public_key},
        )
    )["token"]
    ok(api.post("/api/agent/heartbeat", headers=bearer(connection), body={"version": AGENT_VERSION}))
    OPEN_SOCKETS.append(AgentSocket(connection))
    return connection


def build_team(api: Api) -> Team:
    from chalicelib.db import keys

    owner = api.signup()
    team = api.create_team(owner, name=unique("Team "))
    slug, base = team["slug"], f"/api/{team['slug']}"
    members = add_members(api, owner, team)
    names = [team["name"], owner.email] + [member.email for member in members.values()]

    registry = ok(
        api.post(
            f"{base}/registries",
            owner,
            {"type": "unchecked", "name": unique("Reg "), "details": {"url": "registry.local"}},
        ),
        201,
    )
    storage = ok(
        api.post(
            f"{base}/storages", owner, {"name": unique("Store "), "url": "https://s3.example.com", "public": True}
        ),
        201,
    )
    notification = ok(
        api.post(
            f"{base}/notifications",
            owner,
            {"type": "discord", "name": unique("Hook "), "url": "https://discord.com/api/webhooks/1/abc"},
        ),
        201,
    )
    project = api.create_project(owner, slug, "versioned", name=unique("Project "))
    version = api.create_version(owner, slug, project["id"], kind="rolling", name=unique("v"))
    ok(
        api.post(
            f"{base}/projects/{project['id']}/versions/{version['id']}/images",
            owner,
            [{"registryId": registry["id"], "images": ["acme/web:1"]}],
        ),
        201,
    )
    [image] = ok(api.get(f"{base}/projects/{project['id']}/versions/{version['id']}/images", owner))
    node = ok(api.post(f"{base}/nodes", owner, {"name": unique("node-")}), 201)
    connection = connect_agent(api, owner, base, node)
    spare = ok(api.post(f"{base}/nodes", owner, {"name": unique("spare-")}), 201)
    spare_script = ok(
        api.post(f"{base}/nodes/{spare['id']}/script", owner, {"type": "docker", "scriptType": "shell"}), 201
    )
    deployment = ok(
        api.post(f"{base}/deployments", owner, {"versionId": version["id"], "nodeId": node["id"], "prefix": "web"}), 201
    )
    [instance] = ok(api.get(f"{base}/deployments/{deployment['id']}", owner))["instances"]
    ci = ok(
        api.post(f"{base}/deployments", owner, {"versionId": version["id"], "nodeId": node["id"], "prefix": "ci"}), 201
    )
    deploy_token = ok(api.put(f"{base}/deployments/{ci['id']}/token", owner, {"name": unique("ci-")}), 201)["token"]
    ok(api.post(f"{base}/nodes/{node['id']}/web/containers/web/restart", owner), 204)
    [command] = [
        c
        for c in ok(api.get("/api/agent/commands", headers=bearer(connection)))
        if c.get("kind") == "container-command"
    ]
    pat = ok(api.post("/api/tokens", owner, {"name": unique("pat "), "expirationInDays": 1}), 201)
    revoked = ok(api.post("/api/tokens", owner, {"name": unique("gone "), "expirationInDays": 1}), 201)
    ok(api.delete(f"/api/tokens/{revoked['id']}", owner), 204)

    ids = {
        "teamId": team["id"],
        "projectId": project["id"],
        "versionId": version["id"],
        "imageId": image["id"],
        "deploymentId": deployment["id"],
        "instanceId": instance["id"],
        "nodeId": node["id"],
        "registryId": registry["id"],
        "storageId": storage["id"],
        "notificationId": notification["id"],
        "tokenId": pat["id"],
        "userId": members["user"].id,
        "command": command["id"],
        "deployment": deployment["id"],
        "ciDeploymentId": ci["id"],
        "spareNodeId": spare["id"],
        "ownerId": owner.id,
    }
    names += [
        project["name"],
        version["name"],
        node["name"],
        spare["name"],
        registry["name"],
        storage["name"],
        notification["name"],
        pat["name"],
    ]
    tokens = {
        "connection": connection,
        "install": install_token(spare_script["script"]),
        "deploy": deploy_token,
        "pat": pat["token"],
        "revoked": revoked["token"],
        # A second login of the owner, for the one call that ends its own session (logout).
        "spare-session": api.post("/api/auth/login", body={"email": owner.email, "password": owner.password}).json[
            "token"
        ],
    }
    partitions = [
        keys.team(team["id"]),
        keys.audit(team["id"]),
        keys.team_slug(slug),
        keys.node_commands(node["id"]),
        keys.node_events(node["id"]),
        keys.node_events(spare["id"]),
        keys.deployment_events(deployment["id"]),
        keys.deployment_events(ci["id"]),
    ] + [keys.user(u.id) for u in (owner, *members.values())]
    return Team(owner, team, ids, names, tokens, members, partitions)


@pytest.fixture(scope="module")
def teams(app_module, agent_package):
    from chalice.test import Client

    with Client(app_module.app) as c:
        api = Api(c)
        a, b = build_team(api), build_team(api)
        before = snapshot(a)
        yield api, a, b
        # Per route only the team's own partition and its audit log are compared (any accepted
        # write lands in one of them); here every partition team A has, after the whole sweep.
        assert snapshot(a) == before, "team A changed during the sweep"
    print(f"\naccess matrix: {FIGURES['routes']} routes, {FIGURES['calls']} calls, callers {FIGURES['callers']}")


def snapshot(team: Team, partitions: list[str] | None = None) -> dict[str, list[str]]:
    """Every item of team A's partitions (all, or the given ones), as stored."""
    from chalicelib import settings
    from chalicelib.adapters import aws

    dynamo, table = aws.client("dynamodb"), settings.table_name()

    def partition(pk: str) -> list[str]:
        items, start = [], {}
        while True:
            page = dynamo.query(
                TableName=table,
                KeyConditionExpression="PK = :pk",
                ConsistentRead=True,
                ExpressionAttributeValues={":pk": {"S": pk}},
                **start,
            )
            items += [json.dumps(item, sort_keys=True) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return sorted(items)
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    partitions = partitions or team.partitions
    return dict(zip(partitions, _pool().map(partition, partitions), strict=True))


@functools.lru_cache(maxsize=1)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=16, thread_name_prefix="snapshot")


# --- bad credentials -------------------------------------------------------------------------


def bad_credentials(a: Team) -> dict[str, dict[str, str]]:
    """Headers that must never authenticate; the forged ones name team A's owner."""
    from chalicelib import ids
    from chalicelib.security import jwts

    now = ids.utcnow()
    claims = {
        "iss": jwts.ISSUER,
        "typ": "session",
        "sub": a.owner.id,
        "email": a.owner.email,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    expired = jwts.issue(
        "session",
        a.owner.id,
        expires_at=now - timedelta(minutes=1),
        issued_at=now - timedelta(hours=2),
        email=a.owner.email,
    )
    return {
        "none": {},
        "garbage": bearer("garbage"),
        "basic": {"Authorization": "Basic " + base64.b64encode(f"{a.owner.email}:x".encode()).decode()},
        "expired": bearer(expired),
        "forged": bearer(jwt.encode(claims, "not-the-platform-key-but-long-enough-for-hs256", algorithm="HS256")),
        "unsigned": bearer(jwt.encode(claims, None, algorithm="none")),
        "revoked-pat": bearer(a.tokens["revoked"]),
    }


# --- requests --------------------------------------------------------------------------------


def fill(path: str, slug: str, ids: dict[str, str]) -> str:
    path = path.replace("{teamSlug}", slug).replace("{templateId}", "nginx")
    path = path.replace("{prefix}", "web").replace("{name}", "web")
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def body_for(route, refs: dict[str, str]):
    """A valid body for the route; `refs` says whose version, node, registry, storage and image it names."""
    n = unique("x")
    config_with_storage = {"config": {"storage": {"storageId": refs["storageId"], "bucket": "b", "path": "data"}}}
    by_path = {
        "/api/agent/register": {"version": AGENT_VERSION, "type": "docker", "publicKey": "cHVibGlj"},
        "/api/agent/heartbeat": {"version": AGENT_VERSION},
        "/api/agent/commands/{command}/result": {"ok": True},
        "/api/agent/deployments/{deployment}/events": {"attempt": 1, "events": [{"type": "log", "log": ["x"]}]},
        "/api/{teamSlug}/deployments": {"versionId": refs["versionId"], "nodeId": refs["nodeId"], "prefix": "zz"},
        "/api/{teamSlug}/deployments/{deploymentId}": {"note": n},
        "/api/{teamSlug}/deployments/{deploymentId}/instances/{instanceId}": config_with_storage,
        "/api/{teamSlug}/deployments/{deploymentId}/start": None,
        "/api/{teamSlug}/deployments/{deploymentId}/copy": {"nodeId": refs["nodeId"], "prefix": "cp"},
        "/api/{teamSlug}/deployments/{deploymentId}/token": {"name": n},
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images": [
            {"registryId": refs["registryId"], "images": ["acme/other:1"]}
        ],
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images/{imageId}": config_with_storage,
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images/order": [refs["imageId"]],
        "/api/{teamSlug}/nodes": {"name": n},
        "/api/{teamSlug}/nodes/{nodeId}": {"name": n},
        "/api/{teamSlug}/nodes/{nodeId}/script": {"type": "docker", "scriptType": "shell"},
        "/api/{teamSlug}/notifications": {"type": "discord", "name": n, "url": "https://discord.com/api/webhooks/2/b"},
        "/api/{teamSlug}/notifications/{notificationId}": {
            "type": "discord",
            "name": n,
            "url": "https://discord.com/api/webhooks/2/b",
        },
        "/api/{teamSlug}/projects": {"type": "versioned", "name": n},
        "/api/{teamSlug}/projects/{projectId}": {"name": n},
        "/api/{teamSlug}/registries": {"type": "unchecked", "name": n, "details": {"url": "registry.local"}},
        "/api/{teamSlug}/registries/{registryId}": {
            "type": "unchecked",
            "name": n,
            "details": {"url": "registry.local"},
        },
        "/api/{teamSlug}/storages": {"name": n, "url": "https://s3.example.com", "public": True},
        "/api/{teamSlug}/storages/{storageId}": {"name": n, "url": "https://s3.example.com", "public": True},
        "/api/teams": {"name": n, "slug": n[:16]},
        "/api/teams/{teamId}": {"name": n, "slug": n[:16]},
        "/api/teams/{teamId}/users": {"email": f"{n}@example.com", "firstName": "Z"},
        "/api/teams/{teamId}/users/{userId}/role": {"role": "admin"},
        "/api/templates": {"id": "nginx", "teamSlug": refs["teamSlug"], "type": "versionless", "name": n},
        "/api/tokens": {"name": n, "expirationInDays": 1},
        "/api/users/me/password": {"currentPassword": "not the password", "newPassword": "a new password 1"},
        "/api/{teamSlug}/projects/{projectId}/versions": {"type": "rolling", "name": n},
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}": {"name": n},
        "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/increase": {"name": n},
    }
    if route.body is None:
        return None
    assert route.path in by_path, f"{route_id(route)} takes a body: add a valid one to body_for"
    return by_path[route.path]


# Body fields naming another resource of the caller's team: where a foreign id can be smuggled in.
BODY_REFS = {
    ("POST", "/api/{teamSlug}/deployments"): {"versionId", "nodeId"},
    ("POST", "/api/{teamSlug}/deployments/{deploymentId}/copy"): {"nodeId"},
    ("PATCH", "/api/{teamSlug}/deployments/{deploymentId}/instances/{instanceId}"): {"storageId"},
    ("POST", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images"): {"registryId"},
    ("PATCH", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images/{imageId}"): {"storageId"},
    ("PUT", "/api/{teamSlug}/projects/{projectId}/versions/{versionId}/images/order"): {"imageId"},
    ("POST", "/api/templates"): {"teamSlug"},
}


@dataclass
class Case:
    caller: str
    headers: dict[str, str]
    path: str
    body: object
    expect: set[int]


def refs_of(team: Team, **override) -> dict[str, str]:
    return {**team.ids, "teamSlug": team.slug, **override}


def cases(route, a: Team, b: Team) -> list[Case]:
    """The calls for one route and what each must get, derived from the route's declaration."""
    if route.auth is None:
        return []
    a_path = fill(route.path, a.slug, a.ids)
    a_body = body_for(route, refs_of(a))
    # Credentials that are no credentials at all.
    out = [Case(name, headers, a_path, a_body, {401}) for name, headers in bad_credentials(a).items()]
    if route.auth in (USER_AUTH, DEPLOY_AUTH):
        return out + user_route_cases(route, a, b, a_path, a_body)
    return out + agent_route_cases(route, a, b, a_path, a_body)


def user_route_cases(route, a: Team, b: Team, a_path: str, a_body) -> list[Case]:
    params = params_of(route.path)
    # Tokens of other kinds, all of team A.
    out = [
        Case("agent-connection", bearer(a.tokens["connection"]), a_path, a_body, {401}),
        Case("agent-install", bearer(a.tokens["install"]), a_path, a_body, {401}),
        # The CI token of team A's other deployment: only a start, and only of its own deployment.
        Case("deploy-token", bearer(a.tokens["deploy"]), a_path, a_body, {403} if route.auth == DEPLOY_AUTH else {401}),
    ]
    out += outsider_cases(route, a, b, a_path, a_body)
    stranger = b.owner.headers
    if "teamSlug" in params and params & RESOURCE_PARAMS:
        # In its own team, naming team A's ids in the path (and body).
        out.append(Case("own-team-foreign-path", stranger, fill(route.path, b.slug, a.ids), a_body, {403, 404}))
    if not params - {"templateId"}:
        # A route about the caller alone (its teams, tokens, profile, the catalog): served, for team B only.
        own = OWN_SCOPE.get((route.method, route.path), {200, 201})
        headers = bearer(b.tokens["spare-session"]) if (route.method, route.path) == LOGOUT else stranger
        out.append(
            Case("other-team-own-scope", headers, fill(route.path, b.slug, b.ids), body_for(route, refs_of(b)), own)
        )
    refs = BODY_REFS.get((route.method, route.path))
    if refs:
        # Its own path, team A's ids in the body.
        body = body_for(route, refs_of(b, **{r: refs_of(a)[r] for r in refs}))
        out.append(Case("own-team-foreign-body", stranger, fill(route.path, b.slug, b.ids), body, {400, 403, 404}))
    return out


def outsider_cases(route, a: Team, b: Team, a_path: str, a_body) -> list[Case]:
    """Callers outside team A (or below the route's role in it) on team A's path."""
    params = params_of(route.path)
    in_team = bool(params & {"teamSlug", "teamId"}) and not route.path.startswith("/api/users/me/")
    own_scope = route.path.startswith("/api/users/me/") or route.path.startswith("/api/tokens/")
    stranger = b.owner.headers
    if in_team:
        out = [
            Case("other-team", stranger, a_path, a_body, {403, 404}),
            Case("invited-only", a.members["invitee"].headers, a_path, a_body, {403, 404}),
        ]
        return out + [
            Case(f"role-{member}", a.members[member].headers, a_path, a_body, {403})
            for member in ("user", "admin")
            if ROLE_RANK[member] < ROLE_RANK[route.role]
        ]
    if own_scope or params & RESOURCE_PARAMS:
        return [Case("other-team", stranger, a_path, a_body, {403, 404})]
    return []


def agent_route_cases(route, a: Team, b: Team, a_path: str, a_body) -> list[Case]:
    out = [
        Case(name, bearer(token), a_path, a_body, {401})
        for name, token in (
            ("user-session", a.owner.token),
            ("user-pat", a.tokens["pat"]),
            ("deploy-token", a.tokens["deploy"]),
        )
    ]
    wrong_kind = a.tokens["connection"] if route.auth == INSTALL_AUTH else a.tokens["install"]
    out.append(Case("agent-wrong-kind", bearer(wrong_kind), a_path, a_body, {401}))
    if params_of(route.path) & RESOURCE_PARAMS:
        out.append(Case("other-team-agent", bearer(b.tokens["connection"]), a_path, a_body, {404}))
    elif route.auth == AGENT_AUTH:
        # Heartbeat and poll act on the calling agent's own node: served, with nothing of team A.
        out.append(Case("other-team-agent-own-scope", bearer(b.tokens["connection"]), a_path, a_body, {200, 204}))
    return out


def leaked(body: str, a: Team, sent: str) -> list[str]:
    secrets = a.names + list(a.ids.values())
    return [s for s in secrets if s and s in body and s not in sent]


def test_every_route_is_public_by_declaration_or_guarded():
    routes = all_routes()
    public = {(r.method, r.path) for r in routes if r.auth is None}
    assert public == set(PUBLIC), "a route without auth must be listed (and justified) in PUBLIC"
    for route in routes:
        assert route.auth in (None, USER_AUTH, DEPLOY_AUTH, AGENT_AUTH, INSTALL_AUTH), route_id(route)
        if params_of(route.path) & {"teamSlug", "teamId"} and not route.path.startswith("/api/users/me/"):
            assert route.role in ROLE_RANK, f"{route_id(route)} must declare the team role it needs"


@pytest.mark.parametrize("route", [r for r in all_routes() if r.auth is not None], ids=route_id)
def test_route_refuses_every_caller_without_the_right(teams, route):
    api, a, b = teams
    watched = a.partitions[:2]  # TEAM#<a> and AUDIT#<a>
    before = snapshot(a, watched)
    failures = []
    FIGURES["routes"] += 1
    for case in cases(route, a, b):
        FIGURES["calls"] += 1
        FIGURES["callers"][case.caller] = FIGURES["callers"].get(case.caller, 0) + 1
        response = api.call(route.method, case.path, body=case.body, headers=case.headers)
        sent = case.path + json.dumps(case.body) + json.dumps(case.headers)
        if response.status_code not in case.expect:
            failures.append(
                f"{case.caller}: {response.status_code} not in {sorted(case.expect)}: {response.body[:200]}"
            )
        if found := leaked(response.body or "", a, sent):
            failures.append(f"{case.caller}: team A's {found} in the answer")
    assert not failures, "\n".join(failures)
    assert snapshot(a, watched) == before, "team A changed"


@pytest.mark.parametrize(
    "route", [r for r in all_routes() if r.role in ("admin", "owner") and "{teamId}" in r.path], ids=route_id
)
def test_the_declared_role_is_enough(app_module, route):
    """The other direction: a member holding exactly the declared role is not refused for it."""
    from chalice.test import Client

    with Client(app_module.app) as c:
        api = Api(c)
        owner = api.signup()
        team = api.create_team(owner)
        holder, target = owner, api.signup()
        ok(api.post(f"/api/teams/{team['id']}/users", owner, {"email": target.email, "firstName": "T"}), 201)
        if not route.path.endswith("/reinvite"):
            ok(api.post(f"/api/users/me/invitations/{team['id']}", target), 204)
        if route.role == "admin":
            holder = api.signup()
            ok(api.post(f"/api/teams/{team['id']}/users", owner, {"email": holder.email, "firstName": "H"}), 201)
            ok(api.post(f"/api/users/me/invitations/{team['id']}", holder), 204)
            ok(api.put(f"/api/teams/{team['id']}/users/{holder.id}/role", owner, {"role": "admin"}), 204)
        path = route.path.replace("{teamId}", team["id"]).replace("{userId}", target.id)
        body = body_for(
            route,
            {"teamSlug": team["slug"], "storageId": "", "versionId": "", "nodeId": "", "registryId": "", "imageId": ""},
        )
        response = api.call(route.method, path, holder, body=body)
        assert response.status_code in (200, 201, 204), response.body


def test_credentials_are_checked_before_the_ids_in_the_path(api):
    """A caller without credentials gets 401 even where an id is malformed (no 400 to probe with)."""
    failures = []
    for route in all_routes():
        if route.auth is None or not re.search(r"\{\w+(Id|command|deployment)\}", route.path):
            continue
        path = re.sub(r"\{(\w+)\}", "not-a-uuid", route.path)
        response = api.call(route.method, path)
        FIGURES["calls"] += 1
        if response.status_code != 401:
            failures.append(f"{route_id(route)}: {response.status_code}")
    assert not failures, failures
