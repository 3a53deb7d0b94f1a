"""Password hashing with argon2id (OWASP's first choice).

We keep identity in our own table rather than a Cognito pool: one DynamoDB read per
login, no per-login network hop to another service, and the same behaviour on moto,
LocalStack and AWS. argon2id is memory-hard, so a leaked table is expensive to attack;
parameters are argon2-cffi's RFC 9106 "low memory" profile, which fits a 512 MB Lambda.
The `test` profile (settings.password_hash_profile) exists only so test suites, which sign
up hundreds of users, do not spend minutes hashing; a hash records its own parameters, so
verification works whatever profile is set.
"""

from __future__ import annotations

import functools

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from chalicelib import settings

PROFILES: dict[str, Parameters] = {
    "rfc9106": RFC_9106_LOW_MEMORY,
    # argon2id at its smallest cost (1 pass over 8 KiB), full-size salt and hash.
    "test": Parameters(type=Type.ID, version=19, salt_len=16, hash_len=32, time_cost=1, memory_cost=8, parallelism=1),
}


@functools.lru_cache(maxsize=len(PROFILES))
def _hasher_for(profile: str) -> PasswordHasher:
    if profile not in PROFILES:
        raise ValueError(f"PASSWORD_HASH_PROFILE must be one of {sorted(PROFILES)}, not {profile!r}")
    return PasswordHasher.from_parameters(PROFILES[profile])


def _hasher() -> PasswordHasher:
    return _hasher_for(settings.password_hash_profile())


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
