"""Personal access tokens (`/api/tokens`): scoped to the caller, never to a team."""

from __future__ import annotations

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.paging import PageQuery
from chalicelib.models.tokens import GeneratedTokenResponse, GenerateTokenRequest, TokenResponse
from chalicelib.services import tokens

route = Router("Tokens")


@route.get("/api/tokens", summary="List your access tokens", query=PageQuery, response=list[TokenResponse])
def list_tokens(ctx: RequestContext, query: PageQuery):
    return tokens.list_tokens(ctx.user, query)


@route.post(
    "/api/tokens",
    summary="Generate an access token (shown once)",
    body=GenerateTokenRequest,
    response=GeneratedTokenResponse,
    status=201,
    errors=(409,),
)
def generate_token(ctx: RequestContext, body: GenerateTokenRequest):
    item, jwt = tokens.generate_token(ctx.user, body)
    return GeneratedTokenResponse(
        id=item.id, name=item.name, expires_at=item.expires_at, created_at=item.created_at, token=jwt
    )


@route.get("/api/tokens/{tokenId}", summary="Get an access token", response=TokenResponse, errors=(404,))
def get_token(ctx: RequestContext, token_id: str):
    return tokens.get_token(ctx.user, token_id)


@route.delete("/api/tokens/{tokenId}", summary="Delete (revoke) an access token", status=204, errors=(404,))
def delete_token(ctx: RequestContext, token_id: str) -> None:
    tokens.delete_token(ctx.user, token_id)
