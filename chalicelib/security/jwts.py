"""JWTs for sessions, personal access tokens, deployment tokens and agent tokens.

HS256 with the platform signing key; `typ` says what a token may be used for so a
token of one kind is never accepted where another is expected. Written on `hmac` (RFC 7519
compact form, the same bytes PyJWT produces): PyJWT imports `cryptography` for algorithms we
never use, which cost every Lambda cold start about 60 ms.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

from chalicelib.errors import UnauthorizedError
from chalicelib.security.signing_key import signing_key

ISSUER = "dyrector-serverless"
_HEADER = {"alg": "HS256", "typ": "JWT"}
_REQUIRED = ("sub", "iat")


def issue(typ: str, subject: str, *, expires_at: datetime | None, issued_at: datetime, **claims: Any) -> str:
    payload: dict[str, Any] = {"iss": ISSUER, "typ": typ, "sub": subject, "iat": int(issued_at.timestamp()), **claims}
    if expires_at is not None:
        payload["exp"] = int(expires_at.timestamp())
    signing_input = f"{_b64_json(_HEADER)}.{_b64_json(payload)}"
    return f"{signing_input}.{_b64(_sign(signing_input))}"


def verify(token: str, *, typ: set[str]) -> dict[str, Any]:
    claims = _decode(token)
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp <= time.time()):
        raise UnauthorizedError("Token expired.")
    if claims.get("iss") != ISSUER or claims.get("typ") not in typ or any(c not in claims for c in _REQUIRED):
        raise UnauthorizedError("Invalid token.")
    return claims


def unverified_type(token: str) -> str | None:
    """The `typ` a token claims, unchecked: only to pick which check to run (verify decides)."""
    try:
        claims = json.loads(_unb64(token.split(".")[1]))
    except (ValueError, IndexError, UnicodeError, binascii.Error):
        return None
    return claims.get("typ") if isinstance(claims, dict) else None


def _decode(token: str) -> dict[str, Any]:
    """The claims of a well-formed HS256 token signed with our key; anything else is 401."""
    try:
        header_part, payload_part, signature_part = token.split(".")
        header = json.loads(_unb64(header_part))
        signature = _unb64(signature_part)
        if header.get("alg") != "HS256" or not hmac.compare_digest(signature, _sign(f"{header_part}.{payload_part}")):
            raise ValueError("bad signature")
        claims = json.loads(_unb64(payload_part))
        if not isinstance(claims, dict):
            raise ValueError("claims are not an object")
    except (ValueError, AttributeError, binascii.Error, UnicodeError):
        raise UnauthorizedError("Invalid token.") from None
    return claims


def _sign(signing_input: str) -> bytes:
    return hmac.new(signing_key(), signing_input.encode("ascii"), hashlib.sha256).digest()


def _b64_json(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
