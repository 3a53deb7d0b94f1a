"""What an operator watches and is paged for: the template's alarms and dashboard (merged by infra/package.py).

Alarms (each to the SNS topic `AlarmTopicArn`, when one is given; docs/operations.md says what each means
and what to do):
- `<Prefix>-<queue>-dlq-not-empty`: a dead-letter queue holds a message (a poison message, or one that
  failed `maxReceiveCount` times);
- `<Prefix>-api-5xx-rate`: more than 5 % of the REST API's answers in 5 minutes were 5xx (API Gateway's
  own count: Lambda timeouts and throttles included), over at least 20 requests;
- `<Prefix>-deploy-worker-errors`: the deploy worker failed 3 times or more in 5 minutes (its Lambda errors
  plus the deploy messages it handed back to SQS);
- `<Prefix>-failed-deployments`: more than half of the deployments that ended in 15 minutes failed, over
  at least 3.

The dashboard `<Prefix>-operations` shows the platform's own metrics (namespace `MetricsNamespace`,
dimension `service` = Prefix; chalicelib/adapters/observability.py) beside the AWS metrics of the API,
the functions and the queues.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters import observability as names

PARAMETERS = {
    "AlarmTopicArn": {
        "Type": "String",
        "Default": "",
        "AllowedPattern": r"^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$",
        "Description": "SNS topic the alarms notify (ALARM and OK); empty: the alarms exist but notify no one.",
    },
    "MetricsNamespace": {
        "Type": "String",
        "Default": "dyrector",
        "AllowedPattern": r"^[A-Za-z0-9._/#:-]+$",
        "Description": "CloudWatch namespace of the platform's metrics (METRICS_NAMESPACE); each metric also has "
        "the dimension service=<Prefix>, so stacks can share a namespace.",
    },
}
CONDITIONS = {"HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}}
# What the functions need to know for it (settings.py).
ENVIRONMENT = {
    "LOG_FORMAT": "json",
    "METRICS_NAMESPACE": {"Ref": "MetricsNamespace"},
    "SERVICE_NAME": {"Ref": "Prefix"},
    "TRACING": "on",
}
# Functions left untraced: the WebSocket message handler mostly answers idle agents' keepalive pings, whose
# traces would be most of X-Ray's bill at fleet scale (docs/scale.md) and say nothing.
UNTRACED_FUNCTIONS = frozenset({"WebsocketMessage"})
PERIOD = 300
_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def resources(
    resources_template: dict[str, Any], functions: list[str], deploy_function: str | None, stage: str
) -> dict[str, Any]:
    """The alarms and the dashboard for the functions (logical ids) and the queues of `resources_template`."""
    alarms = {
        f"{queue_id}Alarm": _dead_letter_alarm(queue_id, name)
        for queue_id, name in dead_letter_queues(resources_template).items()
    }
    alarms["ApiServerErrorRateAlarm"] = _api_5xx_alarm(stage)
    if deploy_function:
        alarms["DeployWorkerErrorsAlarm"] = _deploy_worker_alarm(deploy_function)
    alarms["FailedDeploymentRateAlarm"] = _failed_deployments_alarm()
    dashboard = _dashboard(resources_template, functions, deploy_function, stage, sorted(alarms))
    return {**alarms, "OperationsDashboard": dashboard}


def dead_letter_queues(resources_template: dict[str, Any]) -> dict[str, str]:
    """Each dead-letter queue's logical id, with the short name of the queue it serves (`deploy`, `events`)."""
    return {
        resources_template["Resources"][queue_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][
            0
        ]: short
        for queue_id, short in work_queues(resources_template).items()
    }


def work_queues(resources_template: dict[str, Any]) -> dict[str, str]:
    """Each work queue's (one with a dead-letter queue) logical id, with its short name (`deploy` for
    `${Prefix}-deploy`)."""
    return {
        queue_id: resource["Properties"]["QueueName"]["Fn::Sub"].removeprefix("${Prefix}-")
        for queue_id, resource in resources_template["Resources"].items()
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in resource["Properties"]
    }


def _alarm(name: str, description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": f"${{Prefix}}-{name}"},
            "AlarmDescription": f"{description} Runbook: docs/operations.md, alarm <Prefix>-{name}.",
            "ActionsEnabled": True,
            "AlarmActions": _ACTIONS,
            "OKActions": _ACTIONS,
            "EvaluationPeriods": 1,
            "TreatMissingData": "notBreaching",
            **properties,
        },
    }


def _stat(metric_id: str, namespace: Any, metric: str, dimensions: dict[str, Any], stat: str = "Sum") -> dict:
    return {
        "Id": metric_id,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
            },
            "Period": PERIOD,
            "Stat": stat,
        },
    }


def _ours(metric_id: str, metric: str, **dimensions: str) -> dict:
    return _stat(metric_id, {"Ref": "MetricsNamespace"}, metric, {"service": {"Ref": "Prefix"}, **dimensions})


def _dead_letter_alarm(queue_id: str, short: str) -> dict:
    return _alarm(
        f"{short}-dlq-not-empty",
        f"The {short} queue's dead-letter queue holds messages that failed every try.",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}],
        Statistic="Maximum",
        Period=PERIOD,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )


def _api_5xx_alarm(stage: str) -> dict:
    api = {"ApiName": {"Ref": "Prefix"}, "Stage": stage}
    return _alarm(
        "api-5xx-rate",
        "More than 5 % of the REST API's answers were 5xx over 5 minutes (at least 20 requests).",
        Metrics=[
            _stat("requests", "AWS/ApiGateway", "Count", api),
            _stat("errors", "AWS/ApiGateway", "5XXError", api),
            {
                "Id": "rate",
                "Label": "5xx share",
                "Expression": "IF(FILL(requests, 0) >= 20, FILL(errors, 0) / requests, 0)",
                "ReturnData": True,
            },
        ],
        Threshold=0.05,
        ComparisonOperator="GreaterThanThreshold",
    )


def _deploy_worker_alarm(function: str) -> dict:
    return _alarm(
        "deploy-worker-errors",
        "The deploy worker failed 3 times or more in 5 minutes (Lambda errors and deploy messages handed back to SQS).",
        Metrics=[
            _stat("crashes", "AWS/Lambda", "Errors", {"FunctionName": {"Ref": function}}),
            _ours("failures", names.MESSAGE_FAILURES, Queue="deploy"),
            {
                "Id": "errors",
                "Label": "deploy worker errors",
                "Expression": "FILL(crashes, 0) + FILL(failures, 0)",
                "ReturnData": True,
            },
        ],
        Threshold=3,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )


def _failed_deployments_alarm() -> dict:
    ended = "FILL(ok, 0) + FILL(failed, 0)"
    alarm = _alarm(
        "failed-deployments",
        "More than half of the deployments that ended in 15 minutes failed (at least 3 ended).",
        Metrics=[
            _ours("ok", names.DEPLOYMENTS_SUCCESSFUL),
            _ours("failed", names.DEPLOYMENTS_FAILED),
            {
                "Id": "rate",
                "Label": "failed share",
                "Expression": f"IF({ended} >= 3, FILL(failed, 0) / ({ended}), 0)",
                "ReturnData": True,
            },
        ],
        Threshold=0.5,
        ComparisonOperator="GreaterThanThreshold",
    )
    for metric in alarm["Properties"]["Metrics"][:2]:
        metric["MetricStat"]["Period"] = 3 * PERIOD
    return alarm


# --- The dashboard (its body is JSON with ${...} substituted by Fn::Sub) ----------------------------------

_OURS = ["${MetricsNamespace}", None, "service", "${Prefix}"]


def _metric(name: str, *dimensions: str, **options: Any) -> list[Any]:
    return [*_OURS[:1], name, *_OURS[2:], *dimensions, *([options] if options else [])]


def _graph(title: str, metrics: list[Any], **properties: Any) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "region": "${AWS::Region}",
            "view": "timeSeries",
            "stacked": False,
            "period": PERIOD,
            "stat": "Sum",
            "metrics": metrics,
            **properties,
        },
    }


def _by_route(metric: str) -> dict[str, Any]:
    schema = "{${MetricsNamespace},Route,service}"
    search = f"SEARCH('{schema} service=\"${{Prefix}}\" MetricName=\"{metric}\"', 'Sum', {PERIOD})"
    return {"expression": search, "id": metric.lower(), "label": ""}


def _percentiles(name: str, *stats: str) -> list[list[Any]]:
    return [_metric(name, stat=stat, label=stat) for stat in stats]


def _lambda(metric: str, function: str, **options: Any) -> list[Any]:
    return ["AWS/Lambda", metric, "FunctionName", f"${{{function}}}", *([options] if options else [])]


def _deployment_widgets() -> list[dict[str, Any]]:
    ended = "FILL(ok, 0) + FILL(failed, 0)"
    return [
        _graph(
            "Deployments",
            [
                _metric(names.DEPLOYMENTS_STARTED),
                _metric(names.DEPLOYMENTS_SUCCESSFUL),
                _metric(names.DEPLOYMENTS_FAILED),
            ],
        ),
        _graph(
            "Failed deployments (% of those that ended)",
            [
                _metric(names.DEPLOYMENTS_SUCCESSFUL, id="ok", visible=False),
                _metric(names.DEPLOYMENTS_FAILED, id="failed", visible=False),
                [{"expression": f"100 * FILL(failed, 0) / ({ended})", "label": "failed %"}],
            ],
        ),
        _graph("Deployment duration (s)", _percentiles(names.DEPLOYMENT_DURATION, "p50", "p90", "Maximum")),
    ]


def _queue_widgets(deploy: str | None, queues: dict[str, str]) -> list[dict[str, Any]]:
    shorts = sorted(queues.values())
    worker = [_lambda(metric, deploy) for metric in ("Invocations", "Errors", "Throttles")] if deploy else []
    return [
        _graph("Deploy worker", [*worker, _metric(names.MESSAGE_FAILURES, "Queue", "deploy")]),
        _graph(
            "SQS retries and poison messages",
            [_metric(names.MESSAGE_RETRIES, "Queue", short) for short in shorts]
            + [_metric(names.POISON_MESSAGES, "Queue", short) for short in shorts],
        ),
        _graph(
            "Dead-letter queues (messages)",
            [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f"${{{q}.QueueName}}"] for q in queues],
            stat="Maximum",
        ),
    ]


def _fleet_widgets() -> list[dict[str, Any]]:
    return [
        _graph("Agents", [_metric(names.AGENT_CONNECTIONS), _metric(names.AGENTS_LOST)]),
        _graph("Commands pushed", [_metric(names.COMMANDS_PUSHED)]),
        _graph(
            "Command delivery latency (ms, creation to acknowledgement)",
            _percentiles(names.COMMAND_DELIVERY_LATENCY, "p50", "p90", "p99"),
        ),
        _graph("Notifications", [_metric(names.NOTIFICATIONS_DELIVERED), _metric(names.NOTIFICATION_FAILURES)]),
    ]


def _api_widgets(functions: list[str], stage: str, alarms: list[str]) -> list[dict[str, Any]]:
    api = ["ApiName", "${Prefix}", "Stage", stage]
    return [
        _graph(
            "REST API (API Gateway)", [["AWS/ApiGateway", metric, *api] for metric in ("Count", "4XXError", "5XXError")]
        ),
        _graph("API errors by route", [[_by_route(names.API_4XX)], [_by_route(names.API_5XX)]]),
        _graph("Lambda errors by function", [_lambda("Errors", name, label=name) for name in functions]),
        {"type": "alarm", "properties": {"title": "Alarms", "alarms": [f"${{{alarm}.Arn}}" for alarm in alarms]}},
    ]


def _dashboard(
    resources_template: dict[str, Any], functions: list[str], deploy_function: str | None, stage: str, alarms: list[str]
) -> dict[str, Any]:
    widgets = [
        *_deployment_widgets(),
        *_queue_widgets(deploy_function, dead_letter_queues(resources_template)),
        *_fleet_widgets(),
        *_api_widgets(functions, stage, alarms),
    ]
    for index, widget in enumerate(widgets):  # three a row
        widget.update(x=(index % 3) * 8, y=(index // 3) * 6, width=8, height=6)
    return {
        "Type": "AWS::CloudWatch::Dashboard",
        "Properties": {
            "DashboardName": {"Fn::Sub": "${Prefix}-operations"},
            "DashboardBody": {"Fn::Sub": json.dumps({"widgets": widgets}, separators=(",", ":"))},
        },
    }
