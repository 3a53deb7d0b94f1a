"""Sign-up and login: ours, since dyrector delegates identity to Ory Kratos."""

from typing import Annotated

from pydantic import EmailStr, SecretStr, StringConstraints

from chalicelib.models.base import PersonName, RequestModel, ResponseModel, UtcDateTime


class SignupRequest(RequestModel):
    email: EmailStr
    password: Annotated[SecretStr, StringConstraints(min_length=8, max_length=256)]
    first_name: PersonName
    last_name: PersonName | None = None


class LoginRequest(RequestModel):
    email: EmailStr
    password: Annotated[SecretStr, StringConstraints(min_length=1, max_length=256)]


class UserResponse(ResponseModel):
    id: str
    email: str
    name: str


class LoginResponse(ResponseModel):
    token: str
    expires_at: UtcDateTime
