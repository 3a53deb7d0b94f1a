"""`make run` end to end: the API answers over HTTP, the pump drains the real app's queue,
and Ctrl-C stops everything with exit code 0."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import boto3
import pytest
import requests

from infra import stack
from tests.fixtures.local_stack import free_port, http_get, running_local_stack


def test_health_answers_over_http(local_stack):
    status, body = http_get(f"{local_stack}/api/health")
    assert status == 200
    assert isinstance(json.loads(body), dict)


def test_unknown_route_is_a_json_client_error(local_stack):
    status, body = http_get(f"{local_stack}/api/no-such-route/at/all")
    assert 400 <= status < 500
    assert "message" in json.loads(body)


def test_a_kept_connection_is_answered_without_delay(local_stack):
    # GIVEN one kept connection to the API, as a browser or a CLI session holds it
    session = requests.Session()
    session.get(f"{local_stack}/api/health", timeout=10)

    # WHEN requests follow one another on it (each one DynamoDB read behind, on the emulator's kept connection)
    times = []
    for _ in range(10):
        began = time.perf_counter()
        assert session.get(f"{local_stack}/api/health", timeout=10).status_code == 200
        times.append(time.perf_counter() - began)

    # THEN none waits for a delayed ACK (Nagle's algorithm: 40 ms a response, even the fastest)
    assert min(times) < 0.035, times


def test_banner_tells_where_the_console_the_api_and_its_docs_are(local_stack_process):
    log = local_stack_process.log()
    assert f"Console   {local_stack_process.url}/\n" in log
    assert f"{local_stack_process.url}/api\n" in log
    assert f"{local_stack_process.url}/api/docs" in log
    assert local_stack_process.aws_endpoint in log


@pytest.mark.timeout(60)
def test_pump_consumes_the_apps_events_queue(local_stack_process):
    # GIVEN the local stack's own emulator and the events queue its stack created
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    endpoint = local_stack_process.aws_endpoint
    (described,) = session.client("cloudformation", endpoint_url=endpoint).describe_stacks(
        StackName=stack.DEFAULT_STACK_NAME
    )["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    sqs = session.client("sqs", endpoint_url=endpoint)
    url = sqs.get_queue_url(QueueName=outputs["EventsQueueName"])["QueueUrl"]

    # WHEN a message is sent
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"probe": True}))

    # THEN the pump receives it (handled and deleted, or in flight towards a retry)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        visible = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        if visible["Attributes"]["ApproximateNumberOfMessages"] == "0":
            break
        time.sleep(0.5)
    else:
        pytest.fail("the event pump never received the message")


@pytest.mark.timeout(90)
def test_ctrl_c_exits_cleanly():
    # GIVEN a second local stack of its own (the session one is stopped at teardown)
    with running_local_stack() as running:
        # WHEN the user presses Ctrl-C
        code = running.stop()
        # THEN it exits 0, without a traceback
        log = running.log()
    assert code == 0, log
    assert "Traceback" not in log


@pytest.fixture()
def external_emulator():
    """A separate moto server process, standing in for LocalStack."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if http_get(f"{endpoint}/moto-api/", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.timeout(120)
def test_aws_endpoint_url_is_used_and_its_stack_reused(external_emulator):
    # GIVEN an emulator that is already running (as LocalStack would be)
    # WHEN the local stack is started against it twice
    logs = []
    for _ in range(2):
        with running_local_stack(endpoint=external_emulator) as running:
            assert http_get(f"{running.url}/api/health")[0] == 200
            assert running.stop() == 0
            logs.append(running.log())

    # THEN the first run created the stack there, the second reused it, and neither started moto
    assert "creating stack" in logs[0] and "reusing existing stack" in logs[1]
    assert all(f"AWS       {external_emulator}" in log for log in logs)
