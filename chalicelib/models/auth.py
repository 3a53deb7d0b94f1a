"""Sign-up and login: ours, since dyrector delegates identity to Ory Kratos."""

from typing import Annotated

from pydantic import EmailStr, SecretStr, StringConstraints

from chalicelib.models.base import PersonName, RequestModel, ResponseModel, UtcDateTime

NewPassword = Annotated[SecretStr, StringConstraints(min_length=8, max_length=256)]
MailedToken = Annotated[str, StringConstraints(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class SignupRequest(RequestModel):
    email: EmailStr
    password: NewPassword
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


class SignupResponse(ResponseModel):
    """The same for a new and a registered address: what happens next is said by mail."""

    email: str
    message: str


class VerifyRequest(RequestModel):
    token: MailedToken


class VerifyQuery(RequestModel):
    token: MailedToken


class PasswordResetRequest(RequestModel):
    email: EmailStr


class PasswordResetConfirmRequest(RequestModel):
    token: MailedToken
    password: NewPassword


class ChangePasswordRequest(RequestModel):
    current_password: Annotated[SecretStr, StringConstraints(min_length=1, max_length=256)]
    new_password: NewPassword
