"""Sign-up and login (`/api/auth/...`): the only routes that issue session tokens."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.auth import LoginRequest, LoginResponse, SignupRequest, UserResponse
from chalicelib.services import identity

bp = Blueprint(__name__)
route = Router(bp, "Auth")


@route.post(
    "/api/auth/signup",
    summary="Create an account",
    body=SignupRequest,
    response=UserResponse,
    status=201,
    auth=None,
    errors=(409,),
)
def signup(ctx: RequestContext, body: SignupRequest) -> UserResponse:
    user = identity.signup(body)
    return UserResponse(id=user.id, email=user.email, name=user.name)


@route.post(
    "/api/auth/login",
    summary="Log in and get a bearer token",
    body=LoginRequest,
    response=LoginResponse,
    auth=None,
    errors=(401,),
)
def login(ctx: RequestContext, body: LoginRequest) -> LoginResponse:
    token, expires_at = identity.login(body)
    return LoginResponse(token=token, expires_at=expires_at)
