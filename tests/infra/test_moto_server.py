"""The embedded moto server (`infra/moto_server.py`) answers as moto's own server does, over
connections it keeps; a request it cannot frame still gets its answer, and the connection closes.

Both servers run in this process and share moto's backends, so a resource made through one is
seen through the other: the answers can be compared byte for byte.
"""

from __future__ import annotations

import http.client
import json
import logging
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from infra.local import EmulatorProcess
from infra.moto_server import CachedDispatcher, EmbeddedMotoServer

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
SIGNED = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"
)


@pytest.fixture(scope="module")
def embedded() -> Iterator[tuple[str, int]]:
    server = EmbeddedMotoServer("127.0.0.1", 0)
    server.start()
    yield server.get_host_and_port()
    server.stop()


def client(service: str, address: tuple[str, int]) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client(service, endpoint_url=f"http://{address[0]}:{address[1]}")


def dynamodb_request(target: str, body: dict[str, Any]) -> tuple[str, str, bytes, dict[str, str]]:
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{target}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": SIGNED.format(service="dynamodb"),
    }
    return "POST", "/", json.dumps(body).encode(), headers


def exchange(connection: http.client.HTTPConnection, request: tuple[str, str, bytes, dict[str, str]]) -> Any:
    method, path, body, headers = request
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    return response


def comparable(response: Any) -> tuple[int, str | None, Any]:
    """Status, content type and body; the per-request ids and dates differ by nature."""
    body = response.body
    if response.getheader("Content-Type", "").startswith("application/x-amz-json"):
        body = json.loads(body)
    return response.status, response.getheader("Content-Type"), body


def test_answers_match_moto_own_server_over_one_kept_connection(embedded, moto_endpoint):
    # GIVEN a table, and one connection to each server
    name = f"kept-{uuid.uuid4().hex[:8]}"
    client("dynamodb", embedded).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
    )
    host, port = moto_endpoint.removeprefix("http://").split(":")
    original, kept = http.client.HTTPConnection(host, int(port)), http.client.HTTPConnection(*embedded)
    item = {"PK": {"S": "a"}, "B": {"B": "AAE="}, "N": {"N": "1"}}
    requests = [
        dynamodb_request("PutItem", {"TableName": name, "Item": item}),
        dynamodb_request("GetItem", {"TableName": name, "Key": {"PK": {"S": "a"}}}),
        dynamodb_request("GetItem", {"TableName": "no-such-table", "Key": {"PK": {"S": "a"}}}),
        dynamodb_request(
            "PutItem", {"TableName": name, "Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
        ),
        ("HEAD", "/moto-api/", b"", {}),
        dynamodb_request(
            "Query",
            {
                "TableName": name,
                "KeyConditionExpression": "PK = :a",
                "Select": "COUNT",
                "ExpressionAttributeValues": {":a": {"S": "a"}},
            },
        ),
    ]

    # WHEN the same requests go to both, one after the other on the same connection
    pairs = [(exchange(kept, requests[0]), exchange(original, requests[0]))]
    socket = kept.sock
    pairs += [(exchange(kept, request), exchange(original, request)) for request in requests[1:]]

    # THEN the answers are moto's (successes, a missing table, a failed condition), none closes the connection
    for (fast, slow), request in zip(pairs, requests, strict=True):
        assert comparable(fast) == comparable(slow), request
        assert fast.getheader("Connection") is None and not fast.will_close, request
    assert [fast.status for fast, _ in pairs] == [200, 200, 400, 400, 200, 200]
    assert json.loads(pairs[1][0].body)["Item"] == item
    assert kept.sock is socket  # one connection served every request


def test_botocore_reuses_one_connection(embedded, caplog):
    # GIVEN a client of a service not called before on this server (the dispatch cache is warm for others)
    sqs = client("sqs", embedded)
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")

    # WHEN it makes twenty calls
    url = sqs.create_queue(QueueName=f"kept-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for n in range(19):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{n}")

    # THEN every message arrived, through a single connection
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "19"
    opened = [r for r in caplog.records if r.getMessage().startswith("Starting new HTTP connection")]
    assert len(opened) == 1


def test_a_table_created_after_the_dispatch_cache_is_warm_is_found(embedded):
    # GIVEN a server that has answered DynamoDB already
    dynamodb = client("dynamodb", embedded)
    dynamodb.list_tables()
    name = f"late-{uuid.uuid4().hex[:8]}"

    # WHEN a table is created afterwards and used
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
    )
    dynamodb.put_item(TableName=name, Item={"PK": {"S": "x"}})

    # THEN it is listed and its item read back
    assert name in dynamodb.list_tables()["TableNames"]
    assert dynamodb.get_item(TableName=name, Key={"PK": {"S": "x"}})["Item"] == {"PK": {"S": "x"}}


@pytest.mark.parametrize(
    "host", ["dynamodb", "sqs.us-east-1.amazonaws.com", "s3.amazonaws.com", "kms.eu-west-1.amazonaws.com", "moto_api"]
)
def test_the_cached_dispatch_picks_moto_own_backend(host):
    cached, original = CachedDispatcher(create_backend_app), DomainDispatcherApplication(create_backend_app)
    # WHEN a host is looked up twice (the second answer comes from the cache)
    first, second = cached.get_backend_for_host(host), cached.get_backend_for_host(host)
    # THEN both are moto's own answer
    assert first == second == original.get_backend_for_host(host)
    assert first is not None


def test_an_unknown_host_is_not_cached():
    cached = CachedDispatcher(create_backend_app)
    assert cached.get_backend_for_host("example.org") is None
    assert cached.get_backend_for_host(None) is None
    assert cached._backend_for_host == {}


def test_a_chunked_body_is_answered_then_the_connection_closes(embedded):
    # GIVEN a bucket
    bucket = f"chunked-{uuid.uuid4().hex[:8]}"
    s3 = client("s3", embedded)
    s3.create_bucket(Bucket=bucket)
    connection = http.client.HTTPConnection(*embedded)

    # WHEN an object is uploaded with a chunked body (no length to read up to)
    connection.request(
        "PUT",
        f"/{bucket}/object",
        body=iter([b"hello ", b"world"]),
        headers={"Authorization": SIGNED.format(service="s3")},
        encode_chunked=True,
    )
    response = connection.getresponse()
    response.read()

    # THEN it is stored, and this one connection is not kept
    assert response.status == 200
    assert response.will_close
    assert s3.get_object(Bucket=bucket, Key="object")["Body"].read() == b"hello world"


class _Failing(EmbeddedMotoServer):
    def wsgi_app(self) -> Any:
        def fail(environ: dict[str, Any], start_response: Any) -> Any:
            raise RuntimeError("a bug in the emulator")

        return fail


def test_an_emulator_error_is_a_500_and_closes_the_connection():
    server = _Failing("127.0.0.1", 0)
    server.start()
    try:
        connection = http.client.HTTPConnection(*server.get_host_and_port())
        response = exchange(connection, dynamodb_request("ListTables", {}))
        assert response.status == 500
        assert response.will_close
    finally:
        server.stop()


def test_a_kept_connection_answers_without_waiting_for_the_client_ack(embedded):
    # GIVEN one kept connection
    connection = http.client.HTTPConnection(*embedded)
    exchange(connection, dynamodb_request("ListTables", {}))

    # WHEN requests follow one another on it
    times = []
    for _ in range(10):
        began = time.perf_counter()
        exchange(connection, dynamodb_request("ListTables", {}))
        times.append(time.perf_counter() - began)

    # THEN they are not held back by Nagle's algorithm (a 40 ms delayed ACK each, even the fastest)
    assert min(times) < 0.025, times


def test_the_emulator_process_serves_and_stops_on_request():
    # GIVEN the emulator as `make run` starts it
    emulator = EmulatorProcess(0)
    try:
        # WHEN it is used THEN it answers, with the emulator's DynamoDB adaptations in place
        assert client("dynamodb", ("127.0.0.1", emulator.port)).list_tables()["TableNames"] is not None
    finally:
        emulator.stop()
    # THEN stopping it ends the process cleanly
    assert emulator.process.returncode == 0


def test_the_emulator_process_ends_when_the_stack_process_is_gone():
    # GIVEN a stack process that starts the emulator, then dies without stopping it (kill -9)
    script = "import os; from infra.local import EmulatorProcess as E; print(E(0).process.pid, flush=True); os._exit(9)"
    # (run returns once the emulator, which shares the stack's stdout, has closed it too)
    stack = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    child = int(stack.stdout.strip())

    # THEN the emulator notices and ends within seconds
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.2)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
