"""The embedded moto's speed-ups answer exactly what moto itself answers.

Each DynamoDB request below runs through both paths at once: the plain JSON rendering next to
moto's shape serializer, the partition-sized Query next to moto's table-wide one. Every
pair must match, status, content type, items and their order, for every attribute type and
for paging, projections, filters, indexes, conditions that fail and transactions.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from infra import emulator

ITEM_TYPES = {
    "S": {"S": "text"}, "N": {"N": "12.5"}, "B": {"B": b"\x00\xffbytes"}, "SS": {"SS": ["a", "b"]},
    "NS": {"NS": ["1", "2"]}, "BS": {"BS": [b"\x01", b"\x02"]}, "BOOL": {"BOOL": False}, "NULL": {"NULL": True},
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
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "G1PK", "G1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "G1PK", "KeyType": "HASH"}, {"AttributeName": "G1SK", "KeyType": "RANGE"}]}])
    yield dynamodb, name
    dynamodb.delete_table(TableName=name)


def test_item_operations_render_and_query_as_moto_does(table, both_paths):
    dynamodb, name = table
    # GIVEN items of every attribute type spread over partitions, some in the index, written in shuffled order
    for team in ("t2", "t1", "t3"):
        for n in (3, 1, 2, 5, 4):
            item = {"PK": {"S": f"TEAM#{team}"}, "SK": {"S": f"ITEM#{n}"}, **ITEM_TYPES}
            if n % 2:
                item |= {"G1PK": {"S": "SHARED"}, "G1SK": {"S": f"{n}#{team}"}}
            dynamodb.put_item(TableName=name, Item=item)
    dynamodb.put_item(TableName=name, Item={"PK": {"S": "TEAM#t1"}, "SK": {"S": "OTHER#1"}, "S": {"S": "x"}},
                      ReturnValues="NONE")
    key = {"PK": {"S": "TEAM#t1"}, "SK": {"S": "ITEM#2"}}

    # WHEN every item operation runs: reads, pages, projections, filters, the index, writes and failures
    dynamodb.get_item(TableName=name, Key=key, ConsistentRead=True)
    dynamodb.get_item(TableName=name, Key={"PK": {"S": "TEAM#none"}, "SK": {"S": "x"}})
    dynamodb.get_item(TableName=name, Key=key, ProjectionExpression="#b, M.inner", ExpressionAttributeNames={"#b": "B"},
                      ReturnConsumedCapacity="TOTAL")
    query = {"TableName": name, "KeyConditionExpression": "PK = :pk AND begins_with(SK, :sk)",
             "ExpressionAttributeValues": {":pk": {"S": "TEAM#t1"}, ":sk": {"S": "ITEM#"}}}
    first = dynamodb.query(**query, Limit=2)
    rest = dynamodb.query(**query, ExclusiveStartKey=first["LastEvaluatedKey"])
    dynamodb.query(**query, ScanIndexForward=False, Select="COUNT")
    dynamodb.query(**{**query, "ExpressionAttributeValues": {**query["ExpressionAttributeValues"], ":b": {"BOOL": False}}},
                   FilterExpression="#f = :b", ExpressionAttributeNames={"#f": "BOOL"}, ProjectionExpression="SK, NS")
    dynamodb.query(TableName=name, KeyConditionExpression="PK = :pk",
                   ExpressionAttributeValues={":pk": {"S": "TEAM#missing"}})
    index = dynamodb.query(TableName=name, IndexName="GSI1", KeyConditionExpression="G1PK = :g AND G1SK > :from",
                           ExpressionAttributeValues={":g": {"S": "SHARED"}, ":from": {"S": "1#t2"}})
    dynamodb.query(TableName=name, IndexName="GSI1", KeyConditionExpression="G1PK = :g", Limit=3,
                   ExpressionAttributeValues={":g": {"S": "SHARED"}}, ScanIndexForward=False)
    dynamodb.scan(TableName=name, Limit=4)
    dynamodb.batch_get_item(RequestItems={name: {"Keys": [key, {"PK": {"S": "TEAM#t3"}, "SK": {"S": "ITEM#5"}}]}})
    dynamodb.update_item(TableName=name, Key=key, UpdateExpression="SET #s = :s REMOVE #n",
                         ExpressionAttributeNames={"#s": "S", "#n": "N"}, ExpressionAttributeValues={":s": {"S": "new"}},
                         ReturnValues="ALL_NEW")
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName=name, Item=key, ConditionExpression="attribute_not_exists(PK)")
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": name, "Item": {"PK": {"S": "TEAM#t9"}, "SK": {"S": "A"}}}},
        {"Update": {"TableName": name, "Key": key, "UpdateExpression": "SET B = :b",
                    "ExpressionAttributeValues": {":b": {"B": b"\x09"}}}}])
    dynamodb.transact_get_items(TransactItems=[{"Get": {"TableName": name, "Key": key}}])
    dynamodb.batch_write_item(RequestItems={name: [{"DeleteRequest": {"Key": key}}]})
    dynamodb.delete_item(TableName=name, Key={"PK": {"S": "TEAM#t9"}, "SK": {"S": "A"}}, ReturnValues="ALL_OLD")

    # THEN both paths agree on every request, and the reads saw what was written, in key order
    operations = {operation for operation, _, _ in both_paths}
    assert {"GetItem", "Query", "Scan", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem",
            "TransactWriteItems", "TransactGetItems", "Table.query"} <= operations
    for operation, fast, original in both_paths:
        if operation == "Table.query":
            assert fast == original, operation
        else:
            assert fast[0] == original[0] and fast[1]["Content-Type"] == original[1]["Content-Type"], operation
            assert json.loads(fast[2]) == json.loads(original[2]), operation
    assert [i["SK"]["S"] for i in first["Items"] + rest["Items"]] == [f"ITEM#{n}" for n in range(1, 6)]
    assert first["Items"][0]["B"]["B"] == b"\x00\xffbytes" and first["Items"][0]["BS"]["BS"] == [b"\x01", b"\x02"]
    assert [i["G1SK"]["S"] for i in index["Items"]] == ["1#t3", "3#t1", "3#t2", "3#t3", "5#t1", "5#t2", "5#t3"]


def _items(query_result: tuple[list[Any], int, Any]) -> str:
    items, scanned, last_key = query_result
    return json.dumps([[item.to_json() for item in items], scanned, last_key], default=repr)
