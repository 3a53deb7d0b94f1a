"""Teams: creation, renaming, deletion, members, roles and invitations.

Rules (dyrector §2.3-2.4): anyone may create a team and becomes its owner; renaming,
inviting and managing members needs admin (which includes owner); deleting needs owner;
the owner can be neither re-roled nor removed. Invitations expire after
`settings.invitation_days()` days and are mailed through the events queue.

Every list these routes embed is capped, so each is one Query page whatever the platform holds: a team's
users (members and invitations, `USERS_PER_TEAM`), a user's teams (`TEAMS_PER_USER`) and their unanswered
invitations (`OPEN_INVITATIONS_PER_USER`). A write past a cap is a 409 that changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.adapters import s3
from chalicelib.contracts.events import UserInvited
from chalicelib.db import counters, keys, stats
from chalicelib.db import teams as team_repo
from chalicelib.db import users as user_repo
from chalicelib.db.items import InvitationItem, MemberItem, TeamItem, UserItem
from chalicelib.errors import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    PreconditionFailedError,
    TooManyRequestsError,
    not_found,
)
from chalicelib.models.paging import Page, PageQuery
from chalicelib.models.teams import CreateTeamRequest, InviteUserRequest, UpdateTeamRequest
from chalicelib.services import events, registries, storages
from chalicelib.services.identity import Identity


@dataclass
class TeamUser:
    id: str
    name: str
    email: str
    role: str
    status: str
    last_login: datetime | None


def _check_slug(slug: str) -> None:
    if slug in settings.RESERVED_SLUGS:
        raise BadRequestError("This slug is reserved by the API, choose another one.", property="slug", value=slug)


def statistics(team: TeamItem) -> dict[str, int]:
    """dyrector's team statistics, read from the counters on the team item (no Query)."""
    return {
        "users": stats.count(team.member_count) + stats.count(team.invitation_count),
        "projects": stats.count(team.project_count),
        "nodes": stats.count(team.node_count),
        "versions": stats.count(team.version_count),
        "deployments": stats.count(team.deployment_count),
    }


def invitation_status(invite: InvitationItem, now: datetime | None = None) -> str:
    if invite.status == "pending" and invite.created_at < _live_since(now):
        return "expired"
    return invite.status


def _live_since(now: datetime | None = None) -> datetime:
    return (now or ids.utcnow()) - timedelta(days=settings.invitation_days())


def list_teams(identity: Identity, query: PageQuery) -> Page[TeamItem]:
    """A page of the user's teams (by name within the page), read in one BatchGetItem."""
    memberships = team_repo.memberships_page(identity.user_id, query)
    teams = team_repo.batch_get({m.team_id for m in memberships.items})
    return Page(sorted(teams.values(), key=lambda t: t.name.lower()), memberships.cursor)


def create_team(identity: Identity, request: CreateTeamRequest) -> TeamItem:
    _check_slug(request.slug)
    now = ids.utcnow()
    team_id = ids.new_id()
    team = TeamItem(
        keys.team(team_id),
        keys.TEAM,
        id=team_id,
        name=request.name,
        slug=request.slug,
        created_at=now,
        created_by=identity.user_id,
        updated_at=now,
        updated_by=identity.user_id,
    )
    # A new team starts with the public Docker Hub library registry, as in dyrector.
    team_repo.create(
        team,
        team_repo.new_member(team_id, identity.user_id, "owner", now),
        registries.seeded_hub(team_id, identity.user_id, now),
    )
    return team


def team_users(team_id: str) -> list[TeamUser]:
    members = team_repo.members(team_id)
    invitations = [i for i in team_repo.invitations(team_id) if i.user_id not in {m.user_id for m in members}]
    users = user_repo.batch_get({m.user_id for m in members})
    return [_member_user(m, users.get(m.user_id)) for m in members] + [_invited_user(i) for i in invitations]


def _member_user(member: MemberItem, user: UserItem | None) -> TeamUser:
    if user is None:
        return TeamUser(member.user_id, "", "", member.role, "verified", None)
    return TeamUser(member.user_id, user.name, user.email, member.role, "verified", user.last_login)


def _invited_user(invitation: InvitationItem) -> TeamUser:
    """An invitee shows with the e-mail and the name the inviter gave, as a plain user, until they
    accept: never the account's own name or last login (an invitation must not reveal them)."""
    return TeamUser(
        invitation.user_id, invitation.name or "", invitation.email, "user", invitation_status(invitation), None
    )


# The routes below declare the role they need; routing checked it and hands over the team and the
# caller's membership it read (`RequestContext.team_item`, `.membership`), so they are not read twice.


def update_team(identity: Identity, team: TeamItem, request: UpdateTeamRequest) -> TeamItem:
    _check_slug(request.slug)
    team_repo.rename(team, request.name, request.slug, identity.user_id, ids.utcnow())
    return team


def delete_team(team: TeamItem) -> TeamItem:
    team_repo.delete(team)
    # Sealed storage keys and install scripts live in S3, not the table: they go too.
    for prefix in (storages.team_prefix(team.id), f"scripts/{team.id}/"):
        s3.delete_prefix(prefix)
    return team


def _find_or_create_invitee(request: InviteUserRequest) -> UserItem:
    user = user_repo.get_by_email(request.email)
    if user is not None:
        return user
    user = user_repo.new_item(ids.new_id(), request.email, request.first_name, request.last_name, None, ids.utcnow())
    try:
        user_repo.create(user)
    except ConflictError:
        # Someone registered or was invited with this e-mail a moment ago: use that account.
        user = user_repo.get_by_email(request.email)
        if user is None:
            raise
    return user


def _spend_invitation(team: TeamItem) -> None:
    """Counts an invitation mail against the team's daily limit (429 + Retry-After beyond it)."""
    now = ids.utcnow()
    tomorrow = int((now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).timestamp())
    sent_today = counters.add("invitations", f"{team.id}#{now.date().isoformat()}", tomorrow + 86400)
    if int(sent_today.count) > settings.invitations_per_day():
        raise TooManyRequestsError(
            f"The team sent its {settings.invitations_per_day()} invitations for today.",
            retry_after=tomorrow - int(now.timestamp()),
        )


def _send_invitation(identity: Identity, team: TeamItem, invite: InvitationItem) -> None:
    base = settings.public_url()
    events.publish(
        UserInvited(
            team_id=team.id,
            team_name=team.name,
            email=invite.email,
            invitee_name=invite.name or "",
            inviter_name=identity.name or identity.email,
            accept_url=f"{base}/api/users/me/invitations/{team.id}",
            signup_url=f"{base}/api/auth/signup",
            expires_in_days=settings.invitation_days(),
        )
    )


def invite_user(identity: Identity, team: TeamItem, request: InviteUserRequest) -> TeamUser:
    user = _find_or_create_invitee(request)
    now = ids.utcnow()
    invite = team_repo.new_invitation(team.id, user.id, user.email, identity.user_id, now)
    invite.name = " ".join(part for part in (request.first_name, request.last_name) if part)
    _spend_invitation(team)
    team_repo.put_invitation(invite, _live_since(now))
    _send_invitation(identity, team, invite)
    return _invited_user(invite)


def reinvite_user(identity: Identity, team: TeamItem, user_id: str) -> None:
    invite = team_repo.invitation(team.id, user_id)
    if invite is None or team_repo.member(team.id, user_id) is not None:
        raise not_found("invitation")
    if invite.status == "declined":
        raise PreconditionFailedError("The user declined the invitation.", property="userId")
    user = user_repo.get(user_id)
    if user is None:
        raise not_found("user")
    now = ids.utcnow()
    wait = invite.created_at + timedelta(minutes=settings.reinvite_cooldown_minutes()) - now
    if wait.total_seconds() > 0:
        raise TooManyRequestsError("The invitation was sent a moment ago.", retry_after=int(wait.total_seconds()) + 1)
    renewed = team_repo.new_invitation(team.id, user.id, user.email, identity.user_id, now)
    renewed.name = invite.name
    _spend_invitation(team)
    team_repo.renew_invitation(renewed)
    _send_invitation(identity, team, renewed)


def set_user_role(caller: MemberItem, user_id: str, role: str) -> None:
    target = team_repo.member(caller.team_id, user_id)
    if target is None:
        raise not_found("user")
    if target.role == "owner":
        raise ForbiddenError("The owner's role cannot be changed.", property="userId")
    if role == "owner" and caller.role != "owner":
        raise ForbiddenError("Only the owner can grant the owner role.", property="role")
    team_repo.set_role(target, role)


def remove_user(team_id: str, user_id: str) -> None:
    target = team_repo.member(team_id, user_id)
    if target is not None:
        if target.role == "owner":
            raise ForbiddenError("The owner cannot be removed from the team.", property="userId")
        team_repo.remove_member(target)
        return
    invite = team_repo.invitation(team_id, user_id)
    if invite is None:
        raise not_found("user")
    team_repo.delete_invitation(invite)


def leave_team(membership: MemberItem) -> None:
    if membership.role == "owner":
        raise PreconditionFailedError("The owner cannot leave the team; delete it or hand over ownership first.")
    team_repo.remove_member(membership)


def me(identity: Identity) -> tuple[UserItem | None, list[tuple[TeamItem, str]], list[TeamItem]]:
    """The caller, their teams with roles, and the teams with a live pending invitation for them."""
    user = user_repo.get(identity.user_id)
    memberships = team_repo.memberships_of(identity.user_id)
    now = ids.utcnow()
    pending = [i for i in team_repo.invitations_of(identity.user_id) if invitation_status(i, now) == "pending"]
    teams = team_repo.batch_get({m.team_id for m in memberships} | {i.team_id for i in pending})
    mine = [(teams[m.team_id], m.role) for m in memberships if m.team_id in teams]
    invited = [teams[i.team_id] for i in pending if i.team_id in teams]
    return user, sorted(mine, key=lambda tr: tr[0].name.lower()), invited


def accept_invitation(identity: Identity, team_id: str) -> None:
    """Only the proven owner of the invited address joins (a login needs a verified address; checked
    again here for tokens made before verification existed)."""
    invite = team_repo.invitation(team_id, identity.user_id)
    if invite is None:
        raise not_found("invitation")
    user = user_repo.get(identity.user_id)
    if user is None or not user.verified or user.email != invite.email:
        raise ForbiddenError("Verify your e-mail address before joining a team.", property="teamId")
    status = invitation_status(invite)
    if status == "expired":
        if invite.status != "expired":
            team_repo.expire_invitation(invite)
        raise PreconditionFailedError("The invitation has expired, ask for a new one.", property="teamId")
    if status != "pending":
        raise PreconditionFailedError(f"The invitation was {status}.", property="teamId")
    team_repo.accept_invitation(invite, team_repo.new_member(team_id, identity.user_id, "user", ids.utcnow()))


def decline_invitation(identity: Identity, team_id: str) -> None:
    invite = team_repo.invitation(team_id, identity.user_id)
    if invite is None or invitation_status(invite) != "pending":
        raise not_found("invitation")
    team_repo.decline_invitation(invite)
