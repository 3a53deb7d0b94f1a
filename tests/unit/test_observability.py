"""The log and metric helpers (chalicelib/adapters/observability.py): JSON lines with the invocation's
ids, per-thread keys, readable console lines, EMF metrics with their dimensions, and the middleware
that gives every handler its keys, access line and API error counts by route."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator

import pytest

from chalicelib.adapters import observability
from chalicelib.workers import batch


@pytest.fixture(autouse=True)
def clean_keys() -> Iterator[None]:
    observability.clear()
    yield
    observability.clear()


class Captured:
    """What a set of loggers wrote through one handler in a given format."""

    def __init__(self, kind: str, names: tuple[str, ...]) -> None:
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(observability.formatter(kind))
        self.loggers = [logging.getLogger(name) for name in names]

    def __enter__(self) -> Captured:
        for logger in self.loggers:
            logger.addHandler(self.handler)
            logger.propagate = False
            logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        for logger in self.loggers:
            logger.removeHandler(self.handler)
            logger.propagate = True

    @property
    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()

    def records(self) -> list[dict]:
        return [json.loads(line) for line in self.lines]

    def metrics(self) -> list[dict]:
        return [record for record in self.records() if "_aws" in record]


@pytest.fixture()
def metrics_env(monkeypatch):
    monkeypatch.setenv("METRICS_NAMESPACE", "ops-test")
    monkeypatch.setenv("SERVICE_NAME", "dyrector-test")


def test_a_log_line_is_one_json_object_carrying_the_bound_ids(metrics_env):
    # GIVEN an invocation that concerns a team, a deployment and a node
    observability.bind(team="acme", deployment_id="d-1", node_id="n-1", command_id=None)
    # WHEN a module logs, with a line break in its message
    with Captured("json", ("tests.unit.obs",)) as captured:
        logging.getLogger("tests.unit.obs").info("deployed %s\nnext", "web")
    # THEN it is exactly one line, one JSON object with the message, the ids and the service
    (line,) = captured.lines
    record = json.loads(line)
    assert record["message"] == "deployed web\nnext"
    assert (record["level"], record["name"], record["service"]) == ("INFO", "tests.unit.obs", "dyrector-test")
    assert (record["team"], record["deployment_id"], record["node_id"]) == ("acme", "d-1", "n-1")
    assert "command_id" not in record  # empty values are left out
    assert record["timestamp"].endswith("Z") or record["timestamp"].endswith("+00:00")


def test_an_exception_is_logged_inside_its_json_object():
    with Captured("json", ("tests.unit.obs",)) as captured:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("tests.unit.obs").exception("it failed")
    (record,) = captured.records()
    assert record["exception_name"] == "RuntimeError" and "Traceback" in record["exception"]


def test_a_scope_ends_its_keys_and_whatever_was_bound_inside():
    observability.bind(route="sqs dyrector-deploy")
    with observability.scope(message_id="m-1"):
        observability.bind(deployment_id="d-1")
        assert observability.current() == {"route": "sqs dyrector-deploy", "message_id": "m-1", "deployment_id": "d-1"}
    assert observability.current() == {"route": "sqs dyrector-deploy"}


def test_keys_belong_to_their_thread():
    # GIVEN two handlers running at once (the local stack serves requests on threads)
    ready = threading.Barrier(2)
    seen: dict[str, dict] = {}

    def handler(deployment_id: str) -> None:
        observability.clear()
        observability.bind(deployment_id=deployment_id)
        ready.wait(5)  # both have bound their keys before either reads them
        seen[deployment_id] = observability.current()

    threads = [threading.Thread(target=handler, args=(name,)) for name in ("d-a", "d-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # THEN each sees only its own deployment
    assert seen == {"d-a": {"deployment_id": "d-a"}, "d-b": {"deployment_id": "d-b"}}


def test_a_console_line_is_readable_and_names_the_ids():
    observability.bind(team="acme", deployment_id="d-1", request_id="r-1")
    with Captured("console", ("tests.unit.obs",)) as captured:
        logging.getLogger("tests.unit.obs").info("deployment started")
    (line,) = captured.lines
    assert line.endswith("INFO tests.unit.obs: deployment started [team=acme deployment_id=d-1]")


def test_a_metric_is_one_emf_object_in_the_configured_namespace(metrics_env):
    # GIVEN an invocation about a deployment
    observability.bind(deployment_id="d-1", team_id="t-1", route="POST /x")
    # WHEN a service records a fact
    with Captured("json", ("chalicelib.metrics",)) as captured:
        observability.metric(observability.DEPLOYMENT_DURATION, 2.5, observability.SECONDS, attempt=2)
    # THEN CloudWatch gets one EMF object: namespace, the service dimension, the value and unit
    (emf,) = captured.metrics()
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ops-test"
    assert directive["Dimensions"] == [["service"]]
    assert directive["Metrics"] == [{"Name": "DeploymentDuration", "Unit": "Seconds"}]
    assert (emf["DeploymentDuration"], emf["service"]) == ([2.5], "dyrector-test")  # EMF takes a list of values
    # AND the ids ride along as properties, never as dimensions
    assert (emf["deployment_id"], emf["team_id"], emf["attempt"]) == ("d-1", "t-1", 2)
    assert "route" not in emf


def test_a_metric_by_route_adds_a_finer_dimension_set(metrics_env):
    with Captured("json", ("chalicelib.metrics",)) as captured:
        observability.metric(observability.API_4XX, dimensions={"Route": "GET /api/{teamSlug}/nodes"})
    (emf,) = captured.metrics()
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"], ["service", "Route"]]
    assert (emf["Route"], emf["Api4xx"]) == ("GET /api/{teamSlug}/nodes", [1.0])


def test_a_console_metric_is_one_readable_line():
    with Captured("console", ("chalicelib.metrics",)) as captured:
        observability.metric(observability.MESSAGE_RETRIES, dimensions={"Queue": "deploy"})
    (line,) = captured.lines
    assert line.endswith("chalicelib.metrics: metric MessageRetries 1 Count Queue=deploy")


def test_a_metric_that_cannot_be_built_is_dropped_without_failing_the_caller():
    with Captured("json", ("chalicelib.metrics", "chalicelib.adapters.observability")) as captured:
        observability.metric("Broken", 1, "Parsecs")
    assert captured.metrics() == []
    assert [r["message"] for r in captured.records()] == ["metric Broken was not emitted"]


# --- The middleware, on a Chalice app of its own (as app.py registers it) ------------------------------


@pytest.fixture(scope="module")
def tiny_app():
    from chalice import Chalice, Response

    app = Chalice(app_name="obs-test", configure_logs=False)
    app.register_middleware(observability.invocation, "all")
    seen: dict[str, dict] = {}

    @app.route("/api/{teamSlug}/deployments/{deploymentId}")
    def deployment(teamSlug, deploymentId):  # noqa: N803 - the path's names
        seen["http"] = observability.current()
        status = 404 if deploymentId == "missing" else 503 if deploymentId == "down" else 200
        return Response(body="{}", status_code=status)

    @app.on_sqs_message(queue="obs-deploy")
    def on_deploy(event):
        def handle(body: str) -> None:
            seen.setdefault("sqs", []).append(observability.current())
            if body == "poison":
                raise ValueError(body)

        return batch.process(event, handle, "deploy")

    @app.schedule("rate(1 minute)")
    def sweep(event):
        seen["schedule"] = observability.current()

    return app, seen


def test_an_api_request_gets_its_ids_an_access_line_and_no_metric_when_it_succeeds(tiny_app, metrics_env):
    from chalice.test import Client

    app, seen = tiny_app
    names = ("chalicelib.adapters.observability", "chalicelib.metrics")
    with Captured("json", names) as captured, Client(app) as client:
        assert client.http.get("/api/acme/deployments/d-1").status_code == 200
    # THEN the view ran with the route, the team and the deployment in its keys
    keys = seen["http"]
    assert (keys["route"], keys["team"], keys["deployment_id"]) == (
        "GET /api/{teamSlug}/deployments/{deploymentId}",
        "acme",
        "d-1",
    )
    assert keys["request_id"] and keys["function_request_id"] and keys["function_name"] == "api_handler"
    # AND one access line with its status and time, and no metric
    (access,) = captured.records()
    assert (access["status"], access["deployment_id"], access["team"]) == (200, "d-1", "acme")
    assert access["message"].startswith("GET /api/{teamSlug}/deployments/{deploymentId} answered 200 in ")


def test_api_errors_are_counted_by_route(tiny_app, metrics_env):
    from chalice.test import Client

    app, _ = tiny_app
    with Captured("json", ("chalicelib.metrics",)) as captured, Client(app) as client:
        assert client.http.get("/api/acme/deployments/missing").status_code == 404
        assert client.http.get("/api/acme/deployments/down").status_code == 503
    route = "GET /api/{teamSlug}/deployments/{deploymentId}"
    counted = [(name, emf["Route"]) for emf in captured.metrics() for name in ("Api4xx", "Api5xx") if name in emf]
    assert counted == [("Api4xx", route), ("Api5xx", route)]
    assert [emf["deployment_id"] for emf in captured.metrics()] == ["missing", "down"]


def test_an_id_from_the_path_is_cut_short(tiny_app):
    from chalice.test import Client

    app, seen = tiny_app
    with Client(app) as client:
        client.http.get(f"/api/acme/deployments/{'x' * 5000}")
    assert seen["http"]["deployment_id"] == "x" * 128


def sqs_event(*bodies: tuple[str, int]) -> dict:
    """An SQS batch as Lambda hands it over: (body, receive count) per record."""
    return {
        "Records": [
            {
                "messageId": f"m-{index}",
                "receiptHandle": "r",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receives)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:obs-deploy",
                "awsRegion": "us-east-1",
            }
            for index, (body, receives) in enumerate(bodies)
        ]
    }


def test_each_sqs_record_gets_its_message_id_and_failures_retries_and_poison_are_counted(tiny_app, metrics_env):
    from chalice.test import Client

    app, seen = tiny_app
    seen.pop("sqs", None)
    # GIVEN a batch: a first delivery, a redelivery, a failure with tries left, a failure on its last receive
    event = sqs_event(("ok", 1), ("ok", 2), ("poison", 3), ("poison", 5))
    with Captured("json", ("chalicelib.metrics",)) as captured, Client(app) as client:
        reply = client.lambda_.invoke("on_deploy", event).payload
    # THEN the two failures go back to SQS, each record having run with its own message id
    assert reply == {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}]}
    assert [keys["message_id"] for keys in seen["sqs"]] == ["m-0", "m-1", "m-2", "m-3"]
    assert {keys["route"] for keys in seen["sqs"]} == {"sqs obs-deploy"}
    # AND three redeliveries, two failures and one poison message are counted for the deploy queue
    names = [next(k for k in emf if k[0].isupper() and k not in ("Queue",)) for emf in captured.metrics()]
    assert names == ["MessageRetries", "MessageRetries", "MessageFailures", "MessageRetries", "MessageFailures",
                     "PoisonMessages"]  # fmt: skip
    assert {emf["Queue"] for emf in captured.metrics()} == {"deploy"}
    assert [emf["message_id"] for emf in captured.metrics()][-1] == "m-3"


def test_a_schedule_gets_its_rule_and_event_id(tiny_app):
    from chalice.test import Client

    app, seen = tiny_app
    with Client(app) as client:
        client.lambda_.invoke("sweep", client.events.generate_cw_event("Scheduled Event", "aws.events", {}, []))
    assert seen["schedule"]["route"].startswith("schedule ")
    assert seen["schedule"]["function_name"] == "sweep"


# In a fresh interpreter: the Tracer patches botocore process-wide, which the other tests must not see.
TRACED = """
import json, sys
from aws_xray_sdk.core import xray_recorder
from chalice import Chalice
from chalice.test import Client

from chalicelib.adapters import observability

sent = []

class Emitter:
    def send_entity(self, entity):
        sent.append(entity.to_dict())

    def set_daemon_address(self, address):
        pass

app = Chalice(app_name="traced", configure_logs=False)
app.register_middleware(observability.invocation, "all")

@app.route("/api/{teamSlug}/deployments/{deploymentId}/start", methods=["POST"])
def start(teamSlug, deploymentId):
    observability.bind(node_id="n-1")
    return {}

tracer = observability._tracer()
xray_recorder.configure(emitter=Emitter(), sampling=False)
with Client(app) as client:
    client.http.post("/api/acme/deployments/d-1/start")
print(json.dumps({"sent": sent, "loaded": "aws_xray_sdk" in sys.modules}))
"""


def run_traced(tracing: str):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "TRACING": tracing, "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}
    code = (
        TRACED
        if tracing == "on"
        else "import sys, json; from chalicelib.adapters import observability;"
        + ("print(json.dumps({'tracer': observability._tracer(), 'loaded': 'aws_xray_sdk' in sys.modules}))")
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout.strip().splitlines()[-1])


def test_with_tracing_on_each_invocation_is_a_segment_annotated_with_the_deployment():
    result = run_traced("on")
    (segment,) = result["sent"]
    assert segment["name"] == "## POST /api/{teamSlug}/deployments/{deploymentId}/start"
    annotations = segment["annotations"]
    assert (annotations["deployment_id"], annotations["node_id"]) == ("d-1", "n-1")
    assert annotations["Service"] and "ColdStart" in annotations


def test_tracing_is_off_unless_asked_for_and_then_the_xray_sdk_is_not_loaded():
    assert run_traced("off") == {"tracer": None, "loaded": False}
