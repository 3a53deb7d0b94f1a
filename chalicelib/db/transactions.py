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
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.db.table import BaseItem, connection
from chalicelib.errors import ConflictError, ServiceUnavailableError

_ATTEMPTS = 5
# pynamodb sends a transaction's items grouped in this order, whatever order they were added in;
# cancellation reasons come back in the order sent.
_SENT_ORDER = {"condition_check": 0, "delete": 1, "save": 2, "update": 3}
MAX_OPERATIONS = 100  # DynamoDB's limit per TransactWriteItems
# Why operations of a cancelled transaction were refused, when leaving them out lets the rest land.
_REFUSALS = {"ConditionalCheckFailed", "TransactionConflict"}
Unit = TypeVar("Unit")


class Transaction:
    def __init__(self) -> None:
        self._ops: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self._errors: list[Exception | None] = []

    @property
    def size(self) -> int:
        """How many operations it holds (DynamoDB takes at most `MAX_OPERATIONS`)."""
        return len(self._ops)

    @property
    def items(self) -> set[tuple[str, str]]:
        """The (PK, SK) of every item it touches (DynamoDB refuses one item twice in a transaction)."""
        return {
            (args[1], args[2]) if op == "condition_check" else (args[0].PK, args[0].SK) for op, args, _ in self._ops
        }

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
                self._send()
                return
            except TransactWriteError as exc:
                failed = self._failed_condition(exc)
                if failed is not None:
                    raise failed from None
                if not self._is_conflict(exc):
                    raise
                time.sleep(0.02 * (attempt + 1) + random.random() * 0.03)
        raise ServiceUnavailableError("The write conflicted with concurrent writes, try again.")

    def commit_or_refusals(self) -> set[int]:
        """Commits once; or, when the transaction was cancelled because some operations' conditions
        failed or a concurrent write held their items, writes nothing and returns their positions (in
        the order added) so the caller can go on without them. Any other error propagates."""
        try:
            self._send()
            return set()
        except TransactWriteError as exc:
            refused = self._refused(exc)
            if not refused:
                raise
            return refused

    def _send(self) -> None:
        with TransactWrite(connection=connection()) as tx:
            for op, args, kwargs in self._ops:
                getattr(tx, op)(*args, **kwargs)

    def _refused(self, exc: TransactWriteError) -> set[int]:
        if exc.cause_response_code != "TransactionCanceledException":
            return set()
        sent = sorted(range(len(self._ops)), key=lambda i: _SENT_ORDER[self._ops[i][0]])
        reasons = exc.cancellation_reasons or []
        return {sent[k] for k, reason in enumerate(reasons) if reason is not None and reason.code in _REFUSALS}

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


def commit_units(units: Sequence[Unit], build: Callable[[Transaction, Unit], object]) -> Iterator[list[Unit]]:
    """Writes many units (the few operations that belong together, e.g. a node's status and its
    event) in as few transactions as DynamoDB allows, each unit all or nothing, yielding the units
    each transaction wrote (so a caller can act on them before the next, and a crash loses no
    follow-up of what was written). A unit whose condition fails, or whose item a concurrent write
    holds, is left out and the rest sent again, so one refusal never blocks the others."""
    for chunk in _chunks(units, build):
        while chunk:
            refused = _send_units(chunk, build)
            if not refused:
                yield chunk
                break
            chunk = [unit for index, unit in enumerate(chunk) if index not in refused]


def _send_units(chunk: list[Unit], build: Callable[[Transaction, Unit], object]) -> set[int]:
    """One transaction of `chunk`; the indexes of the units refused (nothing written) or an empty set."""
    tx, owners = Transaction(), []
    for index, unit in enumerate(chunk):
        before = tx.size
        build(tx, unit)
        owners += [index] * (tx.size - before)
    return {owners[position] for position in tx.commit_or_refusals()}


def _chunks(units: Sequence[Unit], build: Callable[[Transaction, Unit], object]) -> list[list[Unit]]:
    """Consecutive units whose operations fit one transaction and touch no item twice (units that
    count on the same item, e.g. a team's failed deployments, go in separate transactions)."""
    chunks: list[list[Unit]] = [[]]
    used, touched = 0, set()
    for unit in units:
        probe = Transaction()
        build(probe, unit)
        if chunks[-1] and (used + probe.size > MAX_OPERATIONS or touched & probe.items):
            chunks.append([])
            used, touched = 0, set()
        chunks[-1].append(unit)
        used += probe.size
        touched |= probe.items
    return [chunk for chunk in chunks if chunk]
