"""Our HS256 tokens are standard JWTs: PyJWT (the reference implementation) reads ours and we
read its, and every malformed, re-signed or unsigned variant is a 401."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.errors import UnauthorizedError


@pytest.fixture()
def jwts(moto_server):
    from chalicelib.security import jwts

    return jwts


def _key() -> bytes:
    from chalicelib.security.signing_key import signing_key

    return signing_key()


def test_a_token_we_issue_decodes_with_pyjwt(jwts):
    now = datetime.now(UTC)
    token = jwts.issue("session", "u1", expires_at=now + timedelta(hours=1), issued_at=now, email="a@b.c")
    claims = jwt.decode(token, _key(), algorithms=["HS256"], issuer=jwts.ISSUER)
    assert claims["sub"] == "u1" and claims["typ"] == "session" and claims["email"] == "a@b.c"
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}


def test_a_pyjwt_token_signed_with_our_key_verifies(jwts):
    token = jwt.encode({"sub": "u2", "typ": "pat", "iat": 1, "iss": jwts.ISSUER, "jti": "t"}, _key(), algorithm="HS256")
    assert jwts.verify(token, typ={"pat"})["jti"] == "t"


def test_wrong_kind_issuer_or_missing_claims_are_refused(jwts):
    now = datetime.now(UTC)
    token = jwts.issue("agent", "n1", expires_at=None, issued_at=now)
    with pytest.raises(UnauthorizedError, match="Invalid token"):
        jwts.verify(token, typ={"session"})
    for claims in (
        {"sub": "x", "typ": "session", "iat": 1, "iss": "someone-else"},
        {"typ": "session", "iat": 1, "iss": jwts.ISSUER},
    ):
        with pytest.raises(UnauthorizedError, match="Invalid token"):
            jwts.verify(jwt.encode(claims, _key(), algorithm="HS256"), typ={"session"})


def test_expired_token_says_expired(jwts):
    past = datetime.now(UTC) - timedelta(hours=2)
    token = jwts.issue("session", "u", expires_at=past + timedelta(hours=1), issued_at=past)
    with pytest.raises(UnauthorizedError, match="expired"):
        jwts.verify(token, typ={"session"})


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
        lambda t: ".".join([t.split(".")[0], _b64({"sub": "admin", "typ": "session", "iat": 1}), t.split(".")[2]]),
        lambda t: ".".join([_b64({"alg": "none"}), t.split(".")[1], ""]),  # unsigned
        lambda t: t.replace(".", "", 1),  # two parts
        lambda t: "é." + t,  # not ASCII
        lambda t: ".".join([_b64([1]), t.split(".")[1], t.split(".")[2]]),  # header not an object
    ],
)
def test_tampered_tokens_are_refused(jwts, mangle):
    token = jwts.issue("session", "u", expires_at=None, issued_at=datetime.now(UTC))
    with pytest.raises(UnauthorizedError, match="Invalid token"):
        jwts.verify(mangle(token), typ={"session"})
