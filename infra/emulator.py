"""The embedded moto server's DynamoDB, made to apply one request at a time.

moto (5.x) runs a TransactWriteItems by deep-copying the table, applying the items one by
one and, when a condition fails, putting the copy back. With concurrent requests (the local
server is threaded) two transactions can both pass the same guard, and a failed one can
restore a copy that undoes, or resurrects, another request's writes: 20 parallel creates of
one name answered one 201 and nineteen 409s yet left two items. Real DynamoDB applies each
request atomically; one lock around every DynamoDB action gives the emulator that property.
Only an emulator we start ourselves is changed; LocalStack and AWS need nothing.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()


def serialize_dynamodb() -> None:
    """Makes every DynamoDB action of the in-process moto server run alone (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "serialized", False):
        return
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _LOCK:
            return original(self)

    call_action.serialized = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
