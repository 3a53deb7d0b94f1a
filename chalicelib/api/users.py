"""The caller's own profile and invitations (`/api/users/me/...`)."""

from __future__ import annotations

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.auth import ChangePasswordRequest
from chalicelib.models.teams import BasicUser, UserInvitation, UserMetaResponse, UserTeam
from chalicelib.services import accounts, teams

route = Router("Users")


@route.post("/api/users/me", summary="The current user, their teams and pending invitations", response=UserMetaResponse)
def get_me(ctx: RequestContext) -> UserMetaResponse:
    user, memberships, invited = teams.me(ctx.user)
    return UserMetaResponse(
        user=BasicUser(id=ctx.user.user_id, name=user.name if user else ctx.user.name),
        teams=[UserTeam(role=role, id=t.id, name=t.name, slug=t.slug) for t, role in memberships],
        invitations=[UserInvitation(id=t.id, name=t.name, slug=t.slug) for t in invited],
    )


@route.post("/api/users/me/invitations/{teamId}", summary="Accept an invitation", status=204, errors=(404, 409, 412))
def accept_invitation(ctx: RequestContext, team_id: str) -> None:
    teams.accept_invitation(ctx.user, team_id)
    ctx.audit_team_id = team_id


@route.delete("/api/users/me/invitations/{teamId}", summary="Decline an invitation", status=204, errors=(404,))
def decline_invitation(ctx: RequestContext, team_id: str) -> None:
    teams.decline_invitation(ctx.user, team_id)
    ctx.audit_team_id = team_id


@route.put(
    "/api/users/me/password",
    summary="Change the password (the current one is required; other sessions end)",
    body=ChangePasswordRequest,
    status=204,
    errors=(429,),
)
def change_password(ctx: RequestContext, body: ChangePasswordRequest) -> None:
    accounts.change_password(ctx.user.user_id, body, ctx.source_address)
