"""Conditional multi-item writes with errors that say which condition failed.

Each operation may name the error raised when *its* condition fails, so a cancelled
transaction maps to e.g. "Team slug taken." rather than a generic error (or, for a write
whose failed condition is an expected outcome, to `conditions.ConditionFailed`).
Transaction conflicts (two writers on the same items at once) are retried briefly;
after that the loser re-evaluates its conditions and normally gets its 409.
"""

from __future__ import annotations

import random
import time
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.db.table import BaseItem, connection
from chalicelib.errors import ConflictError, ServiceUnavailableError

_ATTEMPTS = 5
# pynamodb sends a transaction's items grouped in this order, whatever order they were added in;
# cancellation reasons come back in the order sent.
_SENT_ORDER = {"condition_check": 0, "delete": 1, "save": 2, "update": 3}


class Transaction:
    def __init__(self) -> None:
        self._ops: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._errors: list[Exception | None] = []

    def _add(self, op: str, on_fail: Exception | None, *args: Any, **kwargs: Any) -> Transaction:
        self._ops.append((op, args, kwargs))
        self._errors.append(on_fail)
        return self

    def put(self, item: BaseItem, condition: Condition | None = None, on_fail: Exception | None = None) -> Transaction:
        return self._add("save", on_fail, item, condition)

    def create(self, item: BaseItem, on_fail: Exception | None = None) -> Transaction:
        """Put that fails when an item with the same key exists (entities and guards)."""
        return self.put(item, type(item).PK.does_not_exist(), on_fail)

    def update(
        self, item: BaseItem, actions: list[Any], condition: Condition | None = None, on_fail: Exception | None = None
    ) -> Transaction:
        return self._add("update", on_fail, item, actions, condition)

    def delete(
        self, item: BaseItem, condition: Condition | None = None, on_fail: Exception | None = None
    ) -> Transaction:
        return self._add("delete", on_fail, item, condition)

    def check(
        self, model: type[BaseItem], pk: str, sk: str, condition: Condition, on_fail: Exception | None = None
    ) -> Transaction:
        return self._add("condition_check", on_fail, model, pk, sk, condition)

    def commit(self) -> None:
        for attempt in range(_ATTEMPTS):
            try:
                with TransactWrite(connection=connection()) as tx:
                    for op, args, kwargs in self._ops:
                        getattr(tx, op)(*args, **kwargs)
                return
            except TransactWriteError as exc:
                failed = self._failed_condition(exc)
                if failed is not None:
                    raise failed from None
                if not self._is_conflict(exc):
                    raise
                time.sleep(0.02 * (attempt + 1) + random.random() * 0.03)
        raise ServiceUnavailableError("The write conflicted with concurrent writes, try again.")

    def _failed_condition(self, exc: TransactWriteError) -> Exception | None:
        if exc.cause_response_code != "TransactionCanceledException":
            return None
        paired = sorted(zip(self._ops, self._errors, strict=True), key=lambda p: _SENT_ORDER[p[0][0]])
        sent = [error for _, error in paired]
        for index, reason in enumerate(exc.cancellation_reasons or []):
            if reason is not None and reason.code == "ConditionalCheckFailed":
                return sent[index] or ConflictError()
        return None

    @staticmethod
    def _is_conflict(exc: TransactWriteError) -> bool:
        if exc.cause_response_code == "TransactionConflictException":
            return True
        reasons = exc.cancellation_reasons or []
        return any(r is not None and r.code == "TransactionConflict" for r in reasons)
