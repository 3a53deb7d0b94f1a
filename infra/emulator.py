"""The embedded moto server's DynamoDB, made atomic per request and cheap enough to share a laptop.

moto (5.x) runs a TransactWriteItems by deep-copying the table, applying the items one by
one and, when a condition fails, putting the copy back. With concurrent requests (the local
server is threaded) two transactions can both pass the same guard, and a failed one can
restore a copy that undoes, or resurrects, another request's writes: 20 parallel creates of
one name answered one 201 and nineteen 409s yet left two items. Real DynamoDB applies each
request atomically; one lock around every DynamoDB action gives the emulator that property.
Only an emulator we start ourselves is changed; LocalStack and AWS need nothing.

moto also answers every Query by sorting the whole table, so each Query costs more as `make run`
accumulates data. Real DynamoDB reads one partition; `index_queries` makes a base-table Query
read only its partition (and in it only the sort keys the key condition names; an index Query,
the items with its key value, grouped once per write), skip the table-wide sort it redoes on its
own candidates anyway, and skip deep-copying the items it answers with.

moto deep-copies every table a TransactWriteItems names, to roll back if it fails: each
transaction cost grew with the table (one version creation took 29 s after a long fuzz run).
`journal_transactions` keeps a copy of only the items the transaction names, and puts those back.

moto renders every response by walking botocore's shape model member by member: a
Query of ten 1 KB items took 30 ms, a third of the local stack's CPU during a deployment.
The item operations' results are plain JSON already, so `plain_item_responses` dumps them
directly (tests/infra/test_emulator.py holds both renderings equal); anything else, errors
included, still takes moto's path.

Last, two things moto recomputes on every request although their inputs never change
(`cache_per_request_work`): it tokenizes each condition, filter and key expression with a dozen
regular expressions (a sixth of the stack's CPU under 20 clients; the app sends a handful of
distinct expressions, the values travel separately), and it lists a response class's methods
with `inspect.getmembers` to find the action's handler. Both are remembered.
"""

from __future__ import annotations

import base64
import collections
import copy
import functools
import inspect
import json
import threading
import weakref
from typing import Any

_LOCK = threading.RLock()
# DynamoDB actions that never change an item; any other action counts as a write (see _Writes).
_READS = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "TransactGetItems",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "ListTagsOfResource",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
    }
)


class _Writes:
    """How many DynamoDB actions that may write have run; a Query's index of a table is good for one count."""

    count = 0


class _CopyModule:
    """Stands in for the `copy` module inside one moto module: `deepcopy` replaced, the rest as is."""

    def __init__(self, deepcopy: Any) -> None:
        self.deepcopy = deepcopy

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


_SHALLOW = _CopyModule(deepcopy=lambda value, *memo: list(value))


def _replace(owner: Any, name: str, make: Any) -> None:
    """Sets `owner.name` to `make(original)` unless this module already did (each change is idempotent)."""
    original = getattr(owner, name)
    if getattr(original, "adapted", False):
        return
    replacement = functools.wraps(original)(make(original))
    replacement.adapted = True
    setattr(owner, name, replacement)


def adapt_dynamodb() -> None:
    """All the changes below, for the moto server this process is about to start (idempotent)."""
    serialize_dynamodb()
    index_queries()
    plain_item_responses()
    journal_transactions()
    cache_per_request_work()


def serialize_dynamodb() -> None:
    """Makes every DynamoDB action of the in-process moto server run alone, and counts the writes."""
    from moto.dynamodb.responses import DynamoHandler

    def make(original: Any) -> Any:
        def call_action(self: Any) -> Any:
            with _LOCK:
                try:
                    return original(self)
                finally:
                    if self._get_action() not in _READS:
                        _Writes.count += 1

        return call_action

    _replace(DynamoHandler, "call_action", make)


def index_queries() -> None:
    """Makes moto's Query cost follow the partition read, not the table size."""
    from moto.dynamodb.models import table as table_module
    from moto.dynamodb.models.table import Table

    serialize_dynamodb()  # what follows relies on one action at a time and on the write count

    def make(original: Any) -> Any:
        signature = inspect.signature(original)

        def query(self: Any, *args: Any, **kwargs: Any) -> Any:
            arguments = signature.bind(self, *args, **kwargs).arguments
            candidates = _candidates(
                self, arguments["hash_key"], arguments.get("index_name"), arguments.get("hash_key_conditions")
            )
            if arguments.get("index_name") is None and arguments.get("range_comparison") and self.range_key_attr:
                candidates = _in_key_range(candidates, arguments["range_comparison"], arguments["range_objs"])
            # Both swaps are seen by this call only, as DynamoDB actions run one at a time (above).
            # moto deep-copies the results so that no later write shows through them; here the
            # response is rendered before the lock is released, and projections build new items.
            self.all_items = lambda: candidates
            table_module.copy = _SHALLOW
            try:
                return original(self, *args, **kwargs)
            finally:
                del self.all_items
                table_module.copy = copy

        return query

    _replace(Table, "query", make)


def _candidates(table: Any, hash_key: Any, index_name: str | None, hash_conditions: Any) -> list[Any]:
    """The items moto's Query filters and sorts itself: one partition of the table or of an index."""
    if index_name is None and hash_key is not None:
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        return list(partition.values()) if table.range_key_attr else [partition]
    if index_name is not None and hash_conditions:
        attribute, value = hash_conditions[0]
        return _by_attribute(table, attribute).get(value, [])
    return _all_items(table)


def _in_key_range(items: list[Any], comparison: str, values: list[Any]) -> list[Any]:
    """The partition's items whose sort key meets the key condition (`begins_with(SK, 'PROJECT#')`), as
    DynamoDB reads them: moto sizes, sorts and tests every item of the partition, and a team's partition
    holds its audit trail too, so a count of its projects cost a pass over every audit entry."""
    return [item for item in items if item.range_key is not None and item.range_key.compare(comparison, values)]


_INDEXES: weakref.WeakKeyDictionary[Any, dict[str, tuple[int, dict[Any, list[Any]]]]] = weakref.WeakKeyDictionary()


def _by_attribute(table: Any, attribute: str) -> dict[Any, list[Any]]:
    """The table's items grouped by one attribute's value, rebuilt after any write: an index Query
    (a node's pending commands, the health sweep's silent nodes) then costs a lookup, not a pass
    over the whole table."""
    built = _INDEXES.setdefault(table, {}).get(attribute)
    if built is None or built[0] != _Writes.count:
        groups: dict[Any, list[Any]] = {}
        for item in _all_items(table):
            value = item.attrs.get(attribute)
            if value is not None:
                groups.setdefault(value, []).append(item)
        built = _INDEXES[table][attribute] = (_Writes.count, groups)
    return built[1]


def _all_items(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for partition in table.items.values() for item in partition.values()]
    return list(table.items.values())


_ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)


class _NotPlain(TypeError):
    pass


def plain_item_responses() -> None:
    """Renders the item operations' results with `json.dumps` instead of moto's serializer."""
    from moto.dynamodb.responses import DynamoHandler

    def make(original: Any) -> Any:
        def serialized(self: Any, action_result: Any) -> Any:
            result, operation = action_result.result, self._get_action()
            if not isinstance(result, Exception) and operation in _ITEM_OPERATIONS:
                try:
                    body = json.dumps(_render(result, _output_shape(operation)))
                except _NotPlain:
                    return original(self, action_result)
                return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, body
            return original(self, action_result)

        return serialized

    _replace(DynamoHandler, "serialized", make)


@functools.cache
def _output_shape(operation: str) -> Any:
    from moto.core.utils import get_service_model

    return get_service_model("dynamodb").operation_model(operation).output_shape


def _render(value: Any, shape: Any) -> Any:
    """`value` as the DynamoDB JSON protocol writes it: the shape's members only, no nulls,
    blobs in base64. Attribute values are already in wire form and are copied as they are."""
    render = _CONTAINERS.get(shape.type_name)
    return render(value, shape) if render is not None else _render_scalar(value, shape.type_name)


def _render_structure(value: Any, shape: Any) -> Any:
    if shape.name == "AttributeValue":
        return _plain(value)
    if not isinstance(value, dict):
        raise _NotPlain(shape.name)
    members = shape.members
    return {
        key: _render(member, members[key]) for key, member in value.items() if member is not None and key in members
    }


def _render_list(value: Any, shape: Any) -> Any:
    return [None if member is None else _render(member, shape.member) for member in value]


def _render_map(value: Any, shape: Any) -> Any:
    return {key: _render(member, shape.value) for key, member in value.items() if member is not None}


_CONTAINERS = {"structure": _render_structure, "list": _render_list, "map": _render_map}


def _render_scalar(value: Any, kind: str) -> Any:
    if kind == "blob" and isinstance(value, str):
        return base64.b64encode(value.encode()).decode()
    if kind in ("double", "float") and isinstance(value, (int, float)):
        return float(value)
    if kind in ("string", "boolean", "integer", "long", "blob"):
        return _plain(value)
    raise _NotPlain(kind)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(member) for key, member in value.items() if member is not None}
    if isinstance(value, list):
        return [_plain(member) for member in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise _NotPlain(type(value).__name__)


def journal_transactions() -> None:
    """Makes a TransactWriteItems keep the items it touches for its rollback, not every table."""
    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    serialize_dynamodb()  # the rollback below relies on one action at a time
    keep_tables = _CopyModule(
        deepcopy=lambda value, *memo: value if isinstance(value, Table) else copy.deepcopy(value, *memo)
    )

    def make(original: Any) -> Any:
        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
            journal = _journal(self, transact_items)
            if journal is None:  # a malformed request: moto's own path raises the right error
                return original(self, transact_items)
            backend_module.copy = keep_tables  # moto's rollback now puts back the same table objects
            try:
                return original(self, transact_items)
            except Exception:
                for (table_name, hash_key, range_key), before in journal.items():
                    _put_back(self.tables[table_name], hash_key, range_key, before)
                raise
            finally:
                backend_module.copy = copy

        return transact_write_items

    _replace(DynamoDBBackend, "transact_write_items", make)


def _journal(backend: Any, transact_items: list[dict[str, Any]]) -> dict[tuple[Any, Any, Any], Any] | None:
    """A copy of each item the transaction may change, None where it does not exist yet."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    journal: dict[tuple[Any, Any, Any], Any] = {}
    try:
        for entry in transact_items:
            ((_, operation),) = entry.items()
            table = backend.tables[operation["TableName"]]
            key = operation.get("Key") or operation["Item"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            if (table.name, hash_key, range_key) not in journal:
                journal[(table.name, hash_key, range_key)] = copy.deepcopy(table.get_item(hash_key, range_key))
    except Exception:  # noqa: BLE001 - malformed; moto's own path answers with the right error
        return None
    return journal


def _put_back(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    elif before is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = before


def cache_per_request_work() -> None:
    """Remembers the tokens of each condition expression and the method names of each response class."""
    from moto.core import responses
    from moto.dynamodb.comparisons import ConditionExpressionParser

    def lexing(original: Any) -> Any:
        @functools.lru_cache(maxsize=1024)
        def tokens(expression: str) -> tuple[Any, ...]:
            # Lexing reads only the expression; the tokens are immutable tuples, handed out in a new deque.
            return tuple(original(ConditionExpressionParser(expression, None, None)))

        def lex_condition_expression(self: Any) -> Any:
            return collections.deque(tokens(self.condition_expression))

        return lex_condition_expression

    _replace(ConditionExpressionParser, "_lex_condition_expression", lexing)
    # A class's methods are fixed once it is defined (adapt_dynamodb replaces methods, never adds names).
    _replace(responses, "method_names_from_class", functools.cache)
