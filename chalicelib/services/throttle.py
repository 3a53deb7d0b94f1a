"""Login throttling: failed logins counted per account and per source address in the table.

After a few free failures each further one blocks that account (or address) for a time that
doubles with every failure, answered as 429 with `Retry-After`. An account's block is capped at
a few minutes and its counter ends with a successful login, so its owner is never locked out for
long; a source address that keeps guessing waits up to an hour. Counters expire by TTL.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from chalicelib import settings
from chalicelib.db import counters
from chalicelib.db.table import BaseItem
from chalicelib.errors import TooManyRequestsError


@dataclass(frozen=True)
class Limit:
    kind: str
    free_failures: int
    max_block_seconds: int
    window_seconds: int


ACCOUNT = Limit("login-account", free_failures=5, max_block_seconds=300, window_seconds=900)
SOURCE_KIND = "login-source"


def _source() -> Limit:
    return Limit(SOURCE_KIND, settings.login_failures_per_source(), max_block_seconds=3600, window_seconds=3600)


def counter_keys(email: str, source: str) -> list[tuple[str, str]]:
    """The counters a login reads (along with the account, in one request)."""
    return [counters.key(ACCOUNT.kind, email), counters.key(SOURCE_KIND, source)]


def check(found: list[BaseItem], email: str, source: str) -> bool:
    """429 while the account or the source address is blocked (before any password is checked);
    `found` holds the counters read. Returns whether the account has failures on record."""
    now = time.time()
    account, by_source = counters.pick(found, ACCOUNT.kind, email), counters.pick(found, SOURCE_KIND, source)
    for counter in (account, by_source):
        if counter is not None and counter.blocked_until and counter.blocked_until > now:
            raise TooManyRequestsError(
                "Too many failed logins: wait before trying again.",
                retry_after=math.ceil(counter.blocked_until - now),
            )
    return account is not None


def record_failure(email: str, source: str) -> None:
    now = time.time()
    for limit, key in ((ACCOUNT, email), (_source(), source)):
        counter = counters.add(limit.kind, key, int(now) + limit.window_seconds)
        over = int(counter.count) - limit.free_failures
        if over >= 0:
            counters.block(counter, now + min(limit.max_block_seconds, 2**over))


def record_success(email: str) -> None:
    counters.clear(ACCOUNT.kind, email)
