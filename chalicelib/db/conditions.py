"""Conditional single-item writes: the one place that tells "the condition failed" from any other
write error.

A failed condition means the item was not in the state the write expected (a concurrent change,
a spent token, a status that already moved on) and nothing was written. Each repository says
what that means for its caller: an `AppError` for the API, or simply False.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DeleteError, PutError, UpdateError

CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException"


class ConditionFailed(Exception):
    """A write's condition did not hold and nothing was written; internal to db/, never an HTTP answer."""


def conditional(write: Callable[[], Any], on_fail: Exception | None = None) -> bool:
    """Runs `write`; True when it landed. When its condition failed: raises `on_fail` if given,
    else returns False. Every other error (throttling, outage) propagates unchanged."""
    try:
        write()
        return True
    except (UpdateError, PutError, DeleteError) as exc:
        if exc.cause_response_code != CONDITIONAL_CHECK_FAILED:
            raise
        if on_fail is not None:
            raise on_fail from None
        return False


def unchanged(attribute: Any, value: Any) -> Any:
    """The attribute still holds the value read (or is still absent): nothing set it meanwhile."""
    return attribute.does_not_exist() if value is None else attribute == value
