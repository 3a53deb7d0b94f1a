"""Personal access tokens (`/api/tokens`)."""

from pydantic import Field

from chalicelib.models.base import Name, RequestModel, ResponseModel, UtcDateTime


class GenerateTokenRequest(RequestModel):
    name: Name
    # 0 means the token never expires, as in dyrector.
    expiration_in_days: int = Field(ge=0, le=3650)


class TokenResponse(ResponseModel):
    id: str
    name: str
    expires_at: UtcDateTime | None
    created_at: UtcDateTime


class GeneratedTokenResponse(TokenResponse):
    token: str
