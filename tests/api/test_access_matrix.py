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
from dataclasses import dataclass
from datetime import timedelta

import jwt
import pytest

from tests.conftest import Api
from tests.fixtures.route_catalogue import (
    Team,
    all_routes,
    bearer,
    body_for,
    build_team,
    fill,
    ok,
    params_of,
    route_id,
)

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
