"""Logs, metrics and traces of every handler: the one place the platform writes for CloudWatch and X-Ray.

Built on AWS Lambda Powertools for Python, which loads on a function's first invocation, never with
`import app` (a cold start's import stays lean; the X-Ray SDK loads only when tracing is on):

- **Logs.** Every module logs through the standard library (`logging.getLogger(__name__)`). The root
  handler formats each record with Powertools' `LambdaPowertoolsFormatter` as one JSON object per line
  (`LOG_FORMAT=json`, what AWS gets) or as a readable line (`console`, `make run`). Each invocation starts
  with a clean set of keys (`invocation`): the function and its request id, API Gateway's request id, the
  route, the team, and the deployment, node and command ids it concerns; a handler that learns one later
  adds it with `bind`. The keys are Powertools' thread-safe ones, as the local stack serves many calls at
  once. Keys name things by id: no body, header, query string or secret is ever one.
- **Metrics.** `metric` writes one CloudWatch Embedded Metric Format object (Powertools' EMF provider) into
  the same stream: CloudWatch Logs turns it into the metric, and keeps the invocation's ids on it as
  properties a Logs Insights query can filter by. Services call it where they decide the fact.
- **Traces.** With `TRACING=on` (the AWS template), each invocation is an X-Ray subsegment (Powertools'
  Tracer, which also traces every botocore call) annotated with the deployment, node and team ids.

The metric names are the contract with the template's alarms and dashboard (`infra/monitoring.py`).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from chalicelib import settings

log = logging.getLogger(__name__)
metrics_log = logging.getLogger("chalicelib.metrics")
metrics_log.setLevel(logging.INFO)  # metrics are written whatever LOG_LEVEL says

# The platform's metrics (namespace METRICS_NAMESPACE, dimension `service`; see docs/operations.md).
DEPLOYMENTS_STARTED = "DeploymentsStarted"
DEPLOYMENTS_SUCCESSFUL = "DeploymentsSuccessful"
DEPLOYMENTS_FAILED = "DeploymentsFailed"
DEPLOYMENT_DURATION = "DeploymentDuration"  # seconds from `start` to the final status
MESSAGE_RETRIES = "MessageRetries"  # dimension Queue: a message received again after a failure
MESSAGE_FAILURES = "MessageFailures"  # dimension Queue: a message whose handling failed (SQS retries it)
POISON_MESSAGES = "PoisonMessages"  # dimension Queue: failed on its last receive, now in the dead-letter queue
AGENT_CONNECTIONS = "AgentConnections"  # an agent opened its WebSocket
AGENTS_LOST = "AgentsLost"  # a connected node became unreachable (disconnect, gone connection, silence)
COMMANDS_PUSHED = "CommandsPushed"  # a command reached its agent's connection
COMMAND_DELIVERY_LATENCY = "CommandDeliveryLatency"  # milliseconds from a command's creation to its acknowledgement
NOTIFICATIONS_DELIVERED = "NotificationsDelivered"
NOTIFICATION_FAILURES = "NotificationFailures"
API_4XX = "Api4xx"  # also by dimension Route ("POST /api/{teamSlug}/deployments/{deploymentId}/start")
API_5XX = "Api5xx"

COUNT, SECONDS, MILLISECONDS = "Count", "Seconds", "Milliseconds"

# The path parameters that say what a request concerns, and the log key each becomes.
_PATH_KEYS = {
    "teamSlug": "team",
    "teamId": "team_id",
    "deploymentId": "deployment_id",
    "deployment": "deployment_id",
    "nodeId": "node_id",
    "command": "command_id",
    "instanceId": "instance_id",
}
# Keys annotated on the trace too (X-Ray indexes annotations: traces can be filtered by them).
_ANNOTATED = ("deployment_id", "node_id", "team_id")
# Keys a metric carries as properties (never as dimensions: one metric per deployment would cost a fortune).
_METRIC_PROPERTIES = (
    "function_request_id",
    "request_id",
    "message_id",
    "team",
    "team_id",
    "deployment_id",
    "node_id",
    "command_id",
)
# What a console line shows of the keys (the rest is in the JSON lines).
_CONSOLE_KEYS = ("team", "deployment_id", "node_id", "command_id")

_MAX_ID = 128
_state = {"cold": True, "configured": False}


# --- Logs ---------------------------------------------------------------------------------------------


def configure_logging(stream: IO[str] | None = None, level: str | int | None = None) -> logging.Handler:
    """Every logger's records through one handler on the root logger, in `LOG_FORMAT`: on Lambda it
    replaces the runtime's text handler; `make run` calls it at start."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level or settings.log_level())
    _state["configured"] = True
    return handler


def formatter(kind: str | None = None) -> logging.Formatter:
    """The formatter of `kind` (`json` or `console`; default: `LOG_FORMAT`)."""
    json_lines, console = _formatter_classes()
    if (kind or settings.log_format()) == "console":
        return console("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return json_lines(
        utc=True,
        use_rfc3339=True,
        log_record_order=["timestamp", "level", "name", "message"],
        service=settings.service_name(),
        name="%(name)s",
    )


@functools.cache
def _formatter_classes() -> tuple[type[logging.Formatter], type[logging.Formatter]]:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class JsonLines(LambdaPowertoolsFormatter):
        """Powertools' JSON line with the invocation's keys; a metric is written as its EMF object."""

        def format(self, record: logging.LogRecord) -> str:
            emf = getattr(record, "emf", None)
            return json.dumps(emf, separators=(",", ":"), default=str) if emf is not None else super().format(record)

    class Console(logging.Formatter):
        """`make run`: time, level, logger, message and the ids it concerns."""

        def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
            keys = current()
            shown = " ".join(f"{key}={keys[key]}" for key in _CONSOLE_KEYS if keys.get(key))
            return f"{super().formatMessage(record)} [{shown}]" if shown else super().formatMessage(record)

    return JsonLines, Console


@functools.cache
def _keys() -> Any:
    """Powertools' per-thread log keys, which every formatter it builds reads."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    return LambdaPowertoolsFormatter()


def clear() -> None:
    """This thread's log keys start empty (each invocation begins so)."""
    _keys().thread_safe_clear_keys()


def current() -> dict[str, Any]:
    """The keys this thread's log lines carry now."""
    return dict(_keys().thread_safe_get_current_keys())


def bind(**keys: Any) -> None:
    """Adds keys (ids) to every later log line of this invocation; empty values are left out."""
    present = {key: value for key, value in keys.items() if value not in (None, "")}
    if not present:
        return
    _keys().thread_safe_append_keys(**present)
    tracer = _tracer()
    if tracer is not None:
        for key in _ANNOTATED:
            if key in present:
                tracer.put_annotation(key=key, value=str(present[key]))


@contextlib.contextmanager
def scope(**keys: Any) -> Iterator[None]:
    """Keys for part of an invocation (one SQS record): they, and whatever is bound inside, end with it."""
    before = current()
    bind(**keys)
    try:
        yield
    finally:
        clear()
        _keys().thread_safe_append_keys(**before)


# --- Invocations ----------------------------------------------------------------------------------------


def invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Chalice middleware for every event type (app.py): clean keys, the invocation's trace segment, and
    for an API request one access line and its 4xx/5xx count by route."""
    if not _state["configured"] and settings.on_lambda():
        configure_logging()
    kind, keys = describe(event)
    cold, _state["cold"] = _state["cold"], False
    clear()
    lambda_keys = _lambda_keys(event.lambda_context if kind == "http" else event.context)
    # API Gateway's request id where the event has one (chalice's local gateway makes none), else Lambda's.
    keys["request_id"] = keys.get("request_id") or lambda_keys.get("function_request_id")
    try:
        with _segment(str(keys.get("route")), cold):
            bind(**lambda_keys, **keys)
            if cold:
                _keys().thread_safe_append_keys(cold_start=True)
            if kind != "http":
                return get_response(event)
            return _answered(keys["route"], event, get_response)
    finally:
        clear()  # what the thread logs next (the local stack's pump, another handler) is not this invocation's


def describe(event: Any) -> tuple[str, dict[str, Any]]:
    """The kind of a Chalice event (`http`, `websocket`, `sqs`, `schedule`) and the keys it names."""
    name = type(event).__name__
    kind, keys_of = _EVENTS.get(name, (name.lower(), lambda _: {"route": name}))
    return kind, keys_of(event)


def _request_keys(request: Any) -> dict[str, Any]:
    params = request.uri_params or {}
    return {
        "route": f"{request.method} {request.path}",
        "request_id": (request.context or {}).get("requestId"),
        # A caller writes the path: its ids are cut short, so no request can make its log lines long.
        **{_PATH_KEYS[name]: str(value)[:_MAX_ID] for name, value in params.items() if name in _PATH_KEYS},
    }


def _websocket_keys(event: Any) -> dict[str, Any]:
    request = event.to_dict().get("requestContext") or {}
    return {
        "route": request.get("routeKey") or "websocket",
        "request_id": request.get("requestId"),
        "connection_id": event.connection_id,
    }


def _sqs_keys(event: Any) -> dict[str, Any]:
    records = event.to_dict().get("Records") or [{}]
    return {"route": f"sqs {str(records[0].get('eventSourceARN', '')).rsplit(':', 1)[-1]}"}


def _schedule_keys(event: Any) -> dict[str, Any]:
    rule = (event.resources or ["schedule"])[0].rsplit("/", 1)[-1]
    return {"route": f"schedule {rule}", "request_id": event.event_id}


_EVENTS: dict[str, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    "Request": ("http", _request_keys),
    "WebsocketEvent": ("websocket", _websocket_keys),
    "SQSEvent": ("sqs", _sqs_keys),
    "CloudWatchEvent": ("schedule", _schedule_keys),
}


def _lambda_keys(context: Any) -> dict[str, Any]:
    if context is None:
        return {}
    from aws_lambda_powertools.logging.lambda_context import build_lambda_context_model

    model = build_lambda_context_model(context)
    return {"function_name": model.function_name, "function_request_id": model.function_request_id}


def _answered(route: str, request: Any, get_response: Callable[[Any], Any]) -> Any:
    began = time.perf_counter()
    response = get_response(request)
    status = int(getattr(response, "status_code", 200))
    elapsed = round((time.perf_counter() - began) * 1000, 1)
    log.info("%s answered %d in %.0f ms", route, status, elapsed, extra={"status": status, "duration_ms": elapsed})
    if status >= 400:
        metric(API_5XX if status >= 500 else API_4XX, dimensions={"Route": route})
    return response


# --- Metrics ------------------------------------------------------------------------------------------


def metric(
    name: str, value: float = 1, unit: str = COUNT, *, dimensions: Mapping[str, str] | None = None, **details: Any
) -> None:
    """One CloudWatch metric (EMF) in the namespace `METRICS_NAMESPACE`, dimension `service`, and with
    `dimensions` a second, finer dimension set (keep its values few: each is a metric of its own). The
    invocation's ids and `details` travel as properties of the log line, never as dimensions. Never raises:
    a lost metric must not fail what it counts."""
    try:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        service = settings.service_name()
        emf = AmazonCloudWatchEMFProvider(namespace=settings.metrics_namespace(), service=service)
        emf.add_metric(name=name, unit=unit, value=value)
        if dimensions:
            emf.add_dimensions(service=service, **dimensions)
        keys = current()
        for key, detail in {**{k: keys.get(k) for k in _METRIC_PROPERTIES}, **details}.items():
            if detail not in (None, ""):
                emf.add_metadata(key=key, value=detail)
        blob = emf.serialize_metric_set()
    except Exception:  # noqa: BLE001 - see the docstring
        log.warning("metric %s was not emitted", name, exc_info=True)
        return
    shown = "".join(f" {key}={value}" for key, value in (dimensions or {}).items())
    metrics_log.info("metric %s %s %s%s", name, value, unit, shown, extra={"emf": blob})


# --- Traces -------------------------------------------------------------------------------------------


@functools.cache
def _tracer() -> Any | None:
    """Powertools' Tracer when `TRACING` is on (the X-Ray SDK loads only then); botocore calls are traced."""
    if not settings.tracing():
        return None
    from aws_lambda_powertools.tracing import Tracer

    return Tracer(service=settings.service_name(), disabled=False, patch_modules=["botocore"])


@contextlib.contextmanager
def _segment(name: str, cold: bool) -> Iterator[None]:
    """The invocation as a subsegment of Lambda's segment (outside Lambda, with `TRACING=on`, a segment of
    its own, sent to the X-Ray daemon at AWS_XRAY_DAEMON_ADDRESS)."""
    tracer = _tracer()
    if tracer is None:
        yield
        return
    opened = tracer.provider.in_subsegment if settings.on_lambda() else tracer.provider.in_segment
    with opened(f"## {name}") as segment:
        segment.put_annotation("ColdStart", cold)
        segment.put_annotation("Service", settings.service_name())
        yield
