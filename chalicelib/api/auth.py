"""Accounts and sessions (`/api/auth/...`): sign-up with e-mail verification, login (the only
route that issues session tokens), logout and password reset."""

from __future__ import annotations

from chalice import Response

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.auth import (
    LoginRequest,
    LoginResponse,
    PasswordResetConfirmRequest,
    PasswordResetRequest,
    SignupRequest,
    SignupResponse,
    VerifyQuery,
    VerifyRequest,
)
from chalicelib.services import accounts, identity

route = Router("Auth")


@route.post(
    "/api/auth/signup",
    summary="Sign up: mails a link that proves the address (the answer is the same for any address)",
    body=SignupRequest,
    response=SignupResponse,
    status=201,
    auth=None,
)
def signup(ctx: RequestContext, body: SignupRequest) -> SignupResponse:
    return SignupResponse(email=accounts.signup(body), message=accounts.SIGNUP_MESSAGE)


@route.post(
    "/api/auth/verify",
    summary="Verify an e-mail address with the token from the mailed link",
    body=VerifyRequest,
    status=204,
    auth=None,
)
def verify(ctx: RequestContext, body: VerifyRequest) -> None:
    accounts.verify(body.token)


@route.get(
    "/api/auth/verify",
    summary="The mailed verification link: verifies the address and says so in plain text",
    query=VerifyQuery,
    auth=None,
    media_type="text/plain",
)
def verify_link(ctx: RequestContext, query: VerifyQuery) -> Response:
    """A GET so a person can click it; a bad link is the usual JSON 400 (as documented)."""
    accounts.verify(query.token)
    return Response(
        body="Your e-mail address is verified: you can log in now.\n",
        status_code=200,
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )


@route.post(
    "/api/auth/login",
    summary="Log in and get a bearer token",
    body=LoginRequest,
    response=LoginResponse,
    auth=None,
    errors=(401, 403, 429),
)
def login(ctx: RequestContext, body: LoginRequest) -> LoginResponse:
    token, expires_at = identity.login(body, ctx.source_address)
    return LoginResponse(token=token, expires_at=expires_at)


@route.post("/api/auth/logout", summary="End this login session (its token stops working)", status=204, errors=(400,))
def logout(ctx: RequestContext) -> None:
    identity.logout(ctx.user)


@route.post(
    "/api/auth/password-reset",
    summary="Mail a password-reset link (the answer is the same for any address)",
    body=PasswordResetRequest,
    status=204,
    auth=None,
)
def request_password_reset(ctx: RequestContext, body: PasswordResetRequest) -> None:
    accounts.request_password_reset(body)


@route.post(
    "/api/auth/password-reset/confirm",
    summary="Set a new password with the token from the reset mail",
    body=PasswordResetConfirmRequest,
    status=204,
    auth=None,
)
def confirm_password_reset(ctx: RequestContext, body: PasswordResetConfirmRequest) -> None:
    accounts.confirm_password_reset(body)
