"""Teams, their members and invitations (`/api/teams`, `/api/users/me`)."""

from enum import StrEnum
from typing import Annotated

from pydantic import EmailStr, StringConstraints

from chalicelib.models.base import Name, PersonName, RequestModel, ResponseModel, UtcDateTime

# Slugs are 3..16 characters and already "slugified": lower-case ASCII, digits, hyphens.
Slug = Annotated[str, StringConstraints(min_length=3, max_length=16, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    user = "user"


class UserStatus(StrEnum):
    pending = "pending"
    verified = "verified"
    expired = "expired"
    declined = "declined"


class CreateTeamRequest(RequestModel):
    slug: Slug
    name: Name


class UpdateTeamRequest(CreateTeamRequest):
    pass


class InviteUserRequest(RequestModel):
    email: EmailStr
    first_name: PersonName
    last_name: PersonName | None = None
    captcha: str | None = None


class UpdateUserRoleRequest(RequestModel):
    role: Role


class TeamStatistics(ResponseModel):
    users: int
    projects: int
    nodes: int
    versions: int
    deployments: int


class TeamResponse(ResponseModel):
    statistics: TeamStatistics
    id: str
    name: str
    slug: str


class TeamUserResponse(ResponseModel):
    role: Role
    status: UserStatus
    email: str
    last_login: UtcDateTime | None
    id: str
    name: str


class TeamDetailsResponse(TeamResponse):
    users: list[TeamUserResponse]


class BasicUser(ResponseModel):
    id: str
    name: str


class UserTeam(ResponseModel):
    role: Role
    id: str
    name: str
    slug: str


class UserInvitation(ResponseModel):
    id: str
    name: str
    slug: str


class UserMetaResponse(ResponseModel):
    user: BasicUser
    teams: list[UserTeam]
    invitations: list[UserInvitation]
