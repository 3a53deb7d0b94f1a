"""Teams (`/api/teams/...`): addressed by id; the only routes where roles matter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.teams import (
    CreateTeamRequest,
    InviteUserRequest,
    TeamDetailsResponse,
    TeamResponse,
    TeamUserResponse,
    UpdateTeamRequest,
    UpdateUserRoleRequest,
)
from chalicelib.services import teams

if TYPE_CHECKING:
    from chalicelib.db.items import MemberItem, TeamItem

route = Router("Teams")


def _team(team: TeamItem) -> dict:
    return {"id": team.id, "name": team.name, "slug": team.slug, "statistics": teams.statistics(team)}


def _in_path(ctx: RequestContext) -> tuple[TeamItem, MemberItem]:
    """The team in the path and the caller's membership, as the declared role's check read them."""
    assert ctx.team_item is not None and ctx.membership is not None, "route declared without a role"
    return ctx.team_item, ctx.membership


@route.get("/api/teams", summary="List your teams with statistics", query=PageQuery, response=list[TeamResponse])
def list_teams(ctx: RequestContext, query: PageQuery):
    return teams.list_teams(ctx.user, query).map(_team)


@route.post(
    "/api/teams",
    summary="Create a team (you become its owner)",
    body=CreateTeamRequest,
    response=TeamResponse,
    status=201,
    errors=(409,),
)
def create_team(ctx: RequestContext, body: CreateTeamRequest):
    team = teams.create_team(ctx.user, body)
    ctx.audit_team_id = team.id
    return _team(team)


@route.get(
    "/api/teams/{teamId}",
    summary="Team details with its users",
    response=TeamDetailsResponse,
    errors=(404,),
    role="user",
)
def get_team(ctx: RequestContext, team_id: str):
    team = _in_path(ctx)[0]
    return {**_team(team), "users": teams.team_users(team.id)}


@route.put(
    "/api/teams/{teamId}",
    summary="Rename a team (admin)",
    body=UpdateTeamRequest,
    status=204,
    errors=(404, 409),
    role="admin",
)
def update_team(ctx: RequestContext, team_id: str, body: UpdateTeamRequest) -> None:
    teams.update_team(ctx.user, _in_path(ctx)[0], body)
    ctx.audit_team_id = team_id


@route.delete(
    "/api/teams/{teamId}", summary="Delete a team and everything in it (owner)", status=204, errors=(404,), role="owner"
)
def delete_team(ctx: RequestContext, team_id: str) -> None:
    teams.delete_team(_in_path(ctx)[0])


@route.post(
    "/api/teams/{teamId}/users",
    summary="Invite a user by e-mail (admin)",
    body=InviteUserRequest,
    response=TeamUserResponse,
    status=201,
    errors=(404, 409, 429),
    role="admin",
)
def invite_user(ctx: RequestContext, team_id: str, body: InviteUserRequest):
    invited = teams.invite_user(ctx.user, _in_path(ctx)[0], body)
    ctx.audit_team_id = team_id
    return invited


@route.put(
    "/api/teams/{teamId}/users/{userId}/role",
    summary="Change a member's role (admin)",
    body=UpdateUserRoleRequest,
    status=204,
    errors=(404,),
    role="admin",
)
def update_user_role(ctx: RequestContext, team_id: str, user_id: str, body: UpdateUserRoleRequest) -> None:
    teams.set_user_role(_in_path(ctx)[1], user_id, body.role.value)
    ctx.audit_team_id = team_id


@route.delete("/api/teams/{teamId}/users/leave", summary="Leave a team", status=204, errors=(404, 412), role="user")
def leave_team(ctx: RequestContext, team_id: str) -> None:
    teams.leave_team(_in_path(ctx)[1])
    ctx.audit_team_id = team_id


@route.delete(
    "/api/teams/{teamId}/users/{userId}",
    summary="Remove a user or invitation (admin)",
    status=204,
    errors=(404,),
    role="admin",
)
def remove_user(ctx: RequestContext, team_id: str, user_id: str) -> None:
    teams.remove_user(team_id, user_id)
    ctx.audit_team_id = team_id


@route.post(
    "/api/teams/{teamId}/users/{userId}/reinvite",
    summary="Send a new invitation (admin)",
    status=204,
    errors=(404, 412, 429),
    role="admin",
)
def reinvite_user(ctx: RequestContext, team_id: str, user_id: str) -> None:
    teams.reinvite_user(ctx.user, _in_path(ctx)[0], user_id)
    ctx.audit_team_id = team_id
