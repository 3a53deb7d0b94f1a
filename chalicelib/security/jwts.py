"""JWTs for sessions, personal access tokens, deployment tokens and the node agents' tokens.

HS256 with the platform signing key; `typ` says what a token may be used for so a
token of one kind is never accepted where another is expected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jwt

from chalicelib.errors import UnauthorizedError
from chalicelib.security.signing_key import signing_key

ISSUER = "dyrector-serverless"


def issue(typ: str, subject: str, *, expires_at: datetime | None, issued_at: datetime, **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": ISSUER, "typ": typ, "sub": subject, "iat": int(issued_at.timestamp()), **claims}
    if expires_at is not None:
        payload["exp"] = int(expires_at.timestamp())
    return jwt.encode(payload, signing_key(), algorithm="HS256")


def verify(token: str, *, typ: set[str]) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, signing_key(), algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["sub", "iat"]})
    except jwt.ExpiredSignatureError:
        raise UnauthorizedError("Token expired.") from None
    except jwt.PyJWTError:
        raise UnauthorizedError("Invalid token.") from None
    if claims.get("typ") not in typ:
        raise UnauthorizedError("Invalid token.")
    return claims
