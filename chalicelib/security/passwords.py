"""Password hashing with argon2id (OWASP's first choice).

We keep identity in our own table rather than a Cognito pool: one DynamoDB read per
login, no per-login network hop to another service, and the same behaviour on moto,
LocalStack and AWS. argon2id is memory-hard, so a leaked table is expensive to attack;
parameters are argon2-cffi's RFC 9106 "low memory" profile, which fits a 512 MB Lambda.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@functools.lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    from argon2.profiles import RFC_9106_LOW_MEMORY

    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        # Spend the same time as a real check so absent users are not revealed by timing.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
