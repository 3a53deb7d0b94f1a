"""The embedded moto's speed-ups answer exactly what moto itself answers.

Each DynamoDB request below runs through both paths at once: the plain JSON rendering next to
moto's shape serializer, the partition-sized Query next to moto's table-wide one. Every
pair must match, status, content type, items and their order, for every attribute type and
for paging, projections, filters, indexes (also right after items join or leave one),
conditions that fail and transactions; a cancelled transaction must leave every item as it was.
"""

from __future__ import annotations

import inspect
import json
import uuid
from typing import Any

import pytest
from moto.core import responses
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from infra import emulator

ITEM_TYPES = {
    "S": {"S": "text"},
    "N": {"N": "12.5"},
    "B": {"B": b"\x00\xffbytes"},
    "SS": {"SS": ["a", "b"]},
    "NS": {"NS": ["1", "2"]},
    "BS": {"BS": [b"\x01", b"\x02"]},
    "BOOL": {"BOOL": False},
    "NULL": {"NULL": True},
    "L": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"B": b"\x03"}}}]},
    "M": {"M": {"empty": {"L": []}, "inner": {"M": {}}, "flag": {"BOOL": True}}},
}


@pytest.fixture()
def both_paths(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any, Any]]:
    """Runs every rendering and every Query twice, fast and original; records the pairs."""
    emulator.adapt_dynamodb()
    renderings: list[tuple[str, Any, Any]] = []
    fast_render, fast_query = DynamoHandler.serialized, Table.query

    def render(self: Any, action_result: Any) -> Any:
        fast = fast_render(self, action_result)
        renderings.append((self._get_action(), fast, fast_render.__wrapped__(self, action_result)))
        return fast

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        fast = fast_query(self, *args, **kwargs)  # as rendered at once, inside the request
        renderings.append(("Table.query", _items(fast), _items(fast_query.__wrapped__(self, *args, **kwargs))))
        return fast

    monkeypatch.setattr(DynamoHandler, "serialized", render)
    monkeypatch.setattr(Table, "query", query)
    return renderings


@pytest.fixture()
def table(aws) -> Any:
    dynamodb = aws("dynamodb")
    name = f"emulator-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "G1PK", "G1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "G1PK", "KeyType": "HASH"},
                    {"AttributeName": "G1SK", "KeyType": "RANGE"},
                ],
            }
        ],
    )
    yield dynamodb, name
    dynamodb.delete_table(TableName=name)


def put_spread_items(dynamodb, name: str) -> None:
    """Items of every attribute type over three partitions, the odd ones in GSI1, in shuffled order."""
    for team in ("t2", "t1", "t3"):
        for n in (3, 1, 2, 5, 4):
            item = {"PK": {"S": f"TEAM#{team}"}, "SK": {"S": f"ITEM#{n}"}, **ITEM_TYPES}
            if n % 2:
                item |= {"G1PK": {"S": "SHARED"}, "G1SK": {"S": f"{n}#{team}"}}
            dynamodb.put_item(TableName=name, Item=item)
    dynamodb.put_item(
        TableName=name, Item={"PK": {"S": "TEAM#t1"}, "SK": {"S": "OTHER#1"}, "S": {"S": "x"}}, ReturnValues="NONE"
    )


def query_key_ranges(dynamodb: Any, name: str) -> dict[str, Any]:
    """Sort-key conditions other than begins_with, paged backwards and counted; returns the first page."""
    between = {":pk": {"S": "TEAM#t1"}, ":a": {"S": "ITEM#2"}, ":b": {"S": "OTHER#0"}}
    page = dynamodb.query(
        TableName=name,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
        ExpressionAttributeValues=between,
        ScanIndexForward=False,
        Limit=2,
    )
    dynamodb.query(
        TableName=name,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
        ExpressionAttributeValues=between,
        ScanIndexForward=False,
        ExclusiveStartKey=page["LastEvaluatedKey"],
    )
    dynamodb.query(
        TableName=name,
        KeyConditionExpression="PK = :pk AND SK > :a",
        ExpressionAttributeValues={":pk": {"S": "TEAM#t1"}, ":a": {"S": "ITEM#4"}},
        Select="COUNT",
    )
    return page


def test_item_operations_render_and_query_as_moto_does(table, both_paths):
    dynamodb, name = table
    # GIVEN items of every attribute type spread over partitions, some in the index, written in shuffled order
    put_spread_items(dynamodb, name)
    key = {"PK": {"S": "TEAM#t1"}, "SK": {"S": "ITEM#2"}}

    # WHEN every item operation runs: reads, pages, projections, filters, the index, writes and failures
    dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True)
    dynamodb.get_item(TableName=name, Key={"PK": {"S": "TEAM#none"}, "SK": {"S": "x"}})
    dynamodb.get_item(
        TableName=name,
        Key=key,
        ProjectionExpression="#b, M.inner",
        ExpressionAttributeNames={"#b": "B"},
        ReturnConsumedCapacity="TOTAL",
    )
    query = {
        "TableName": name,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
        "ExpressionAttributeValues": {":pk": {"S": "TEAM#t1"}, ":sk": {"S": "ITEM#"}},
    }
    first = dynamodb.query(**query, Limit=2)
    rest = dynamodb.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
    dynamodb.query(**query, ScanIndexForward=False, Select="COUNT")
    dynamodb.query(
        **{**query, "ExpressionAttributeValues": {**query["ExpressionAttributeValues"], ":b": {"BOOL": False}}},
        FilterExpression="#f = :b",
        ExpressionAttributeNames={"#f": "BOOL"},
        ProjectionExpression="SK, NS",
    )
    dynamodb.query(
        TableName=name, KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": {"S": "TEAM#missing"}}
    )
    page = query_key_ranges(dynamodb, name)
    index = dynamodb.query(
        TableName=name,
        IndexName="GSI1",
        KeyConditionExpression="G1PK = :g AND G1SK > :from",
        ExpressionAttributeValues={":g": {"S": "SHARED"}, ":from": {"S": "1#t2"}},
    )
    dynamodb.query(
        TableName=name,
        IndexName="GSI1",
        KeyConditionExpression="G1PK = :g",
        Limit=3,
        ExpressionAttributeValues={":g": {"S": "SHARED"}},
        ScanIndexForward=False,
    )
    dynamodb.update_item(
        TableName=name, Key={"PK": {"S": "TEAM#t1"}, "SK": {"S": "ITEM#1"}}, UpdateExpression="REMOVE G1PK"
    )
    dynamodb.put_item(
        TableName=name,
        Item={"PK": {"S": "TEAM#t4"}, "SK": {"S": "ITEM#9"}, "G1PK": {"S": "SHARED"}, "G1SK": {"S": "9#t4"}},
    )
    reindexed = dynamodb.query(
        TableName=name,
        IndexName="GSI1",
        KeyConditionExpression="G1PK = :g",
        ExpressionAttributeValues={":g": {"S": "SHARED"}},
    )
    dynamodb.scan(TableName=name, Limit=4)
    dynamodb.batch_get_item(RequestItems={name: {"Keys": [key, {"PK": {"S": "TEAM#t3"}, "SK": {"S": "ITEM#5"}}]}})
    dynamodb.update_item(
        TableName=name,
        Key=key,
        UpdateExpression="SET #s = :s REMOVE #n",
        ExpressionAttributeNames={"#s": "S", "#n": "N"},
        ExpressionAttributeValues={":s": {"S": "new"}},
        ReturnValues="ALL_NEW",
    )
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName=name, Item=key, ConditionExpression="attribute_not_exists(PK)")
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": {"PK": {"S": "TEAM#t9"}, "SK": {"S": "A"}}}},
            {
                "Update": {
                    "TableName": name,
                    "Key": key,
                    "UpdateExpression": "SET B = :b",
                    "ExpressionAttributeValues": {":b": {"B": b"\x09"}},
                }
            },
        ]
    )
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key}}])
    dynamodb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": key}}]})
    dynamodb.delete_item(TableName=name, Key={"PK": {"S": "TEAM#t9"}, "SK": {"S": "A"}}, ReturnValues="ALL_OLD")

    # THEN both paths agree on every request, and the reads saw what was written, in key order
    operations = {operation for operation, _, _ in both_paths}
    assert {
        "GetItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
        "Table.query",
    } <= operations
    for operation, fast, original in both_paths:
        if operation == "Table.query":
            assert fast == original, operation
        else:
            assert fast[0] == original[0] and fast[1]["Content-Type"] == original[1]["Content-Type"], operation
            assert json.loads(fast[2]) == json.loads(original[2]), operation
    assert [i["SK"]["S"] for i in first["Items"] + rest["Items"]] == [f"ITEM#{n}" for n in range(1, 6)]
    assert [i["SK"]["S"] for i in page["Items"]] == ["ITEM#5", "ITEM#4"]
    assert first["Items"][0]["B"]["B"] == b"\x00\xffbytes" and first["Items"][0]["BS"]["BS"] == [b"\x01", b"\x02"]
    assert [i["G1SK"]["S"] for i in index["Items"]] == ["1#t3", "3#t1", "3#t2", "3#t3", "5#t1", "5#t2", "5#t3"]
    # an item leaving the index and one joining it show in the next index Query
    assert [i["G1SK"]["S"] for i in reindexed["Items"]] == [
        "1#t2",
        "1#t3",
        "3#t1",
        "3#t2",
        "3#t3",
        "5#t1",
        "5#t2",
        "5#t3",
        "9#t4",
    ]


def _items(query_result: tuple[list[Any], int, Any]) -> str:
    items, scanned, last_key = query_result
    return json.dumps([[item.to_json() for item in items], scanned, last_key], default=repr)


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table):
    emulator.adapt_dynamodb()
    dynamodb, name = table
    # GIVEN an item, a guard and items of other partitions
    one = {"PK": {"S": "TEAM#a"}, "SK": {"S": "ONE"}, "N": {"N": "1"}, "L": {"L": [{"S": "x"}]}}
    guard = {"PK": {"S": "TEAM#a"}, "SK": {"S": "GUARD"}}
    other = {"PK": {"S": "TEAM#b"}, "SK": {"S": "ONE"}}
    for item in (one, guard, other):
        dynamodb.put_item(TableName=name, Item=item)
    before = _everything(dynamodb, name)
    update = {
        "Update": {
            "TableName": name,
            "Key": _key(one),
            "UpdateExpression": "SET N = N + :one, L = list_append(L, :l)",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":l": {"L": [{"S": "y"}]}},
        }
    }
    new = {"Put": {"TableName": name, "Item": {"PK": {"S": "TEAM#a"}, "SK": {"S": "NEW"}}}}

    # WHEN a transaction updates the item, adds one and deletes another before its last guard fails
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                update,
                new,
                {"Delete": {"TableName": name, "Key": _key(other)}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": _key(guard),
                        "ConditionExpression": "attribute_exists(Nope)",
                    }
                },
            ]
        )
    # THEN nothing changed, and the reason names the failed guard
    assert _everything(dynamodb, name) == before
    assert [r["Code"] for r in cancelled.value.response["CancellationReasons"]] == [
        "None",
        "None",
        "None",
        "ConditionalCheckFailed",
    ]

    # WHEN a transaction names one item twice after changing others
    with pytest.raises(dynamodb.exceptions.ClientError, match="ValidationException"):
        dynamodb.transact_write_items(TransactItems=[new, update, update])
    # THEN it is refused and nothing changed either
    assert _everything(dynamodb, name) == before

    # WHEN a transaction passes THEN all of it is applied
    dynamodb.transact_write_items(TransactItems=[update, new])
    after = {(i["PK"]["S"], i["SK"]["S"]): i for i in _everything(dynamodb, name)}
    assert after[("TEAM#a", "ONE")]["N"] == {"N": "2"} and after[("TEAM#a", "ONE")]["L"]["L"] == [
        {"S": "x"},
        {"S": "y"},
    ]
    assert ("TEAM#a", "NEW") in after and len(after) == 4


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {"PK": item["PK"], "SK": item["SK"]}


def _everything(dynamodb: Any, name: str) -> list[dict[str, Any]]:
    return sorted(
        dynamodb.scan(TableName=name, ConsistentRead=True)["Items"], key=lambda i: (i["PK"]["S"], i["SK"]["S"])
    )


def test_a_remembered_condition_is_evaluated_with_each_request_own_names_and_values(table):
    emulator.adapt_dynamodb()
    dynamodb, name = table
    # GIVEN an item, and a condition already seen (its tokens are remembered)
    item = {"PK": {"S": "TEAM#c"}, "SK": {"S": "ONE"}, "N": {"N": "1"}, "S": {"S": "a"}}
    dynamodb.put_item(TableName=name, Item=item)
    condition = {"ConditionExpression": "#f = :v AND attribute_exists(PK)"}
    dynamodb.put_item(
        TableName=name,
        Item=item,
        **condition,
        ExpressionAttributeNames={"#f": "N"},
        ExpressionAttributeValues={":v": {"N": "1"}},
    )

    # WHEN the same expression comes with other values and other names
    # THEN each request's own are used: a value that differs fails, a name that matches passes
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(
            TableName=name,
            Item=item,
            **condition,
            ExpressionAttributeNames={"#f": "N"},
            ExpressionAttributeValues={":v": {"N": "2"}},
        )
    dynamodb.put_item(
        TableName=name,
        Item=item,
        **condition,
        ExpressionAttributeNames={"#f": "S"},
        ExpressionAttributeValues={":v": {"S": "a"}},
    )


def test_remembered_tokens_and_method_names_are_moto_own():
    emulator.adapt_dynamodb()
    original = ConditionExpressionParser._lex_condition_expression.__wrapped__
    for expression in ("#0 = :0 AND begins_with (#1, :1)", "size(#l) > :n OR NOT (#a IN (:x, :y))", "a.b[1] <> :c"):
        parser = ConditionExpressionParser(expression, None, None)
        # twice: once computed, once remembered; each time a fresh deque of moto's own tokens
        first, second = parser._lex_condition_expression(), parser._lex_condition_expression()
        first.popleft()
        assert list(second) == list(original(parser)) and len(first) == len(second) - 1
    for _ in range(2):  # an expression that does not lex is refused every time, never remembered
        with pytest.raises(ValueError, match="Cannot parse condition"):
            ConditionExpressionParser("a = $b", None, None)._lex_condition_expression()
    assert responses.method_names_from_class(DynamoHandler) == [
        name for name, _ in inspect.getmembers(DynamoHandler, predicate=inspect.isfunction)
    ]
