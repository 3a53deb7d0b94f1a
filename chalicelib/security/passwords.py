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
from collections.abc import Set

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from chalicelib import settings
from chalicelib.errors import BadRequestError

MIN_LENGTH = 8
MIN_DISTINCT = 4

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


@functools.cache
def _common_passwords() -> Set[str]:
    """The 30,000 most common passwords of zxcvbn's list (loaded on the first sign-up, not at cold start)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_strength(password: str, email: str) -> None:
    """400 for a password that is short, is the address (or its name part), repeats a few characters,
    or is one of the commonly used ones; the message never echoes it."""
    lowered = password.strip().lower()
    address = email.strip().lower()
    if len(password) < MIN_LENGTH:
        problem = f"must be at least {MIN_LENGTH} characters"
    elif lowered in {address, address.partition("@")[0]}:
        problem = "must not be your e-mail address"
    elif len(set(lowered)) < MIN_DISTINCT:
        problem = f"needs at least {MIN_DISTINCT} different characters"
    elif lowered in _common_passwords():
        problem = "is one of the most commonly used passwords; choose another"
    else:
        return
    raise BadRequestError(f"The password {problem}.", property="password")
