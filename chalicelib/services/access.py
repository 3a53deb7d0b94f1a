"""Who may touch which team: the check every `/api/{teamSlug}/...` route runs first.

Inside a team any member may act (dyrector's rule); roles guard only `/api/teams/...`.
A resource id from another team is never served because every repository lookup is
keyed by the team id resolved here, never by an id alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.db import teams as team_repo
from chalicelib.db.items import MemberItem, TeamItem
from chalicelib.errors import ForbiddenError, NotFoundError, not_found
from chalicelib.services.identity import Identity

ROLE_RANK = {"user": 0, "admin": 1, "owner": 2}


@dataclass(frozen=True)
class TeamAccess:
    team_id: str
    slug: str
    role: str


def member_of_slug(slug: str, identity: Identity, min_role: str = "user") -> TeamAccess:
    team_id = team_repo.id_for_slug(slug)
    if team_id is None:
        raise NotFoundError("Team not found.", property="teamSlug")
    membership = team_repo.member(team_id, identity.user_id)
    if membership is None:
        raise ForbiddenError("Forbidden resource.")
    _check_role(membership, min_role)
    return TeamAccess(team_id=team_id, slug=slug, role=membership.role)


def member_of_team(team_id: str, identity: Identity, min_role: str = "user") -> tuple[TeamItem, MemberItem]:
    """A team addressed by id: non-members get 404 (the team's existence is not revealed)."""
    membership = team_repo.member(team_id, identity.user_id)
    team = team_repo.get(team_id) if membership else None
    if membership is None or team is None:
        raise not_found("team")
    _check_role(membership, min_role)
    return team, membership


def _check_role(membership: MemberItem, min_role: str) -> None:
    if ROLE_RANK[membership.role] < ROLE_RANK[min_role]:
        raise ForbiddenError(f"This requires the {min_role} role in the team.")
