"""The resource template: valid CloudFormation, the schema pynamodb expects, creatable on moto,
and merged into `chalice package` with wired environment, least-privilege IAM and partial batches."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from chalicelib import settings
from chalicelib.adapters import observability
from infra import monitoring, package, stack, web_hosting
from tests.infra.conftest import unique_prefix

ROOT = Path(__file__).resolve().parents[2]


def lint(path: Path) -> list[str]:
    from cfnlint.api import lint_file

    return [f"{m.rule.id} {m.message} ({m.linenumber})" for m in lint_file(path)]


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`python -m infra.package` output (what `make package` builds)."""
    out = tmp_path_factory.mktemp("package")
    package.package(out)
    return out


def test_resources_template_passes_cfn_lint():
    assert lint(stack.TEMPLATE_PATH) == []


def test_table_schema_matches_the_pynamodb_model():
    # GIVEN the table in the template and the model the app queries with
    from chalicelib.db.table import BaseItem

    table = stack.template()["Resources"]["Table"]["Properties"]
    model = BaseItem._get_schema()

    # THEN keys, attribute types and indexes are the same
    assert table["KeySchema"] == [
        {"AttributeName": k["AttributeName"], "KeyType": k["KeyType"]} for k in model["key_schema"]
    ]
    assert sorted(map(json.dumps, table["AttributeDefinitions"])) == sorted(
        map(json.dumps, model["attribute_definitions"])
    )
    template_indexes = {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]}
    model_indexes = {i["index_name"]: (i["key_schema"], i["projection"]) for i in model["global_secondary_indexes"]}
    assert template_indexes == model_indexes
    assert table["BillingMode"] == "PAY_PER_REQUEST"


def test_table_keeps_data_safe():
    table = stack.template()["Resources"]["Table"]
    assert table["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"


def test_bucket_is_private_and_encrypted():
    bucket = stack.template()["Resources"]["Bucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert "${AWS::AccountId}" in bucket["BucketName"]["Fn::Sub"]  # globally unique


def test_queue_visibility_covers_six_worker_timeouts():
    # AWS guidance for SQS event sources: visibility >= 6 x function timeout
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    visibility = stack.template()["Parameters"]["VisibilityTimeout"]["Default"]
    assert visibility >= 6 * config["lambda_timeout"]


def test_output_keys_become_environment_variable_names():
    names = {stack.env_name(key) for key in stack.template()["Outputs"]}
    assert {"TABLE_NAME", "DEPLOY_QUEUE_NAME", "EVENTS_QUEUE_NAME", "BUCKET_NAME", "KMS_KEY_ID"} <= names
    assert stack.env_name("SQSQueueUrl") == "SQS_QUEUE_URL"


def test_stack_on_moto_creates_every_resource(aws):
    # GIVEN a fresh prefix  WHEN the stack is created from resources.json on moto
    prefix = unique_prefix("tpl")
    outputs = stack.create_stack(prefix, {"Prefix": prefix}, cloudformation=aws("cloudformation"))
    env = stack.export_outputs(outputs, environ={})

    # THEN the table has the model's keys and both indexes
    table = aws("dynamodb").describe_table(TableName=env["TABLE_NAME"])["Table"]
    assert table["TableName"] == prefix
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["PK", "SK"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}

    # AND each work queue redrives to its own dead-letter queue after 5 receives
    sqs = aws("sqs")
    for queue, dlq in (
        (env["DEPLOY_QUEUE_NAME"], env["DEPLOY_DEAD_LETTER_QUEUE_NAME"]),
        (env["EVENTS_QUEUE_NAME"], env["EVENTS_DEAD_LETTER_QUEUE_NAME"]),
    ):
        assert queue.startswith(prefix) and dlq == f"{queue}-dlq"
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"].endswith(f":{dlq}")
        assert int(redrive["maxReceiveCount"]) == 5
        assert int(attributes["VisibilityTimeout"]) > 60

    # AND the bucket exists, encrypted; the alias reaches a usable key
    s3 = aws("s3")
    s3.head_bucket(Bucket=env["BUCKET_NAME"])
    assert s3.get_bucket_encryption(Bucket=env["BUCKET_NAME"])["ServerSideEncryptionConfiguration"]["Rules"]
    assert env["KMS_KEY_ID"] == f"alias/{prefix}"
    kms = aws("kms")
    blob = kms.encrypt(KeyId=env["KMS_KEY_ID"], Plaintext=b"x")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"


def test_existing_stack_is_reused(aws):
    prefix = unique_prefix("reuse")
    first = stack.create_stack(prefix, {"Prefix": prefix}, cloudformation=aws("cloudformation"))
    again = stack.create_stack(prefix, {"Prefix": prefix}, cloudformation=aws("cloudformation"))
    assert again == first


def test_mail_sender_is_verified(aws):
    ses = aws("ses")
    sender = stack.verify_mail_sender(f"{unique_prefix('sender')}@example.com", ses=ses)
    assert sender in ses.list_identities()["Identities"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_template_passes_cfn_lint(packaged):
    assert lint(packaged / "sam.json") == []


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_template_contains_the_resources_once(packaged):
    sam = json.loads((packaged / "sam.json").read_text())
    resources = stack.template()
    for logical_id, resource in resources["Resources"].items():
        assert sam["Resources"][logical_id] == resource
    for key, output in resources["Outputs"].items():
        assert sam["Outputs"][key] == output


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_functions_get_resource_names_and_partial_batches(packaged):
    sam = json.loads((packaged / "sam.json").read_text())
    outputs = stack.template()["Outputs"]
    functions = {k: r for k, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert functions
    sqs_sources = 0
    for function in functions.values():
        variables = function["Properties"]["Environment"]["Variables"]
        for key, output in outputs.items():
            assert variables[stack.env_name(key)] == output["Value"]
        assert variables["PUBLIC_URL"] == {"Ref": "PublicUrl"}
        # Outbound requests reach public addresses only unless the operator lists networks.
        assert variables["OUTBOUND_ALLOWED_NETWORKS"] == {"Ref": "OutboundAllowedNetworks"}
        assert sam["Parameters"]["OutboundAllowedNetworks"]["Default"] == "none"
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                sqs_sources += 1
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
                queue_id = event["Properties"]["Queue"]["Fn::Sub"].removeprefix("${").removesuffix(".Arn}")
                assert sam["Resources"][queue_id]["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    from app import app

    assert sqs_sources == sum(type(s).__name__ == "SQSEventConfig" for s in app.event_sources)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_health_schedule_never_runs_twice_at_once(packaged):
    # Two overlapping sweeps would read and flip the same silent nodes: reserved concurrency 1.
    sam = json.loads((packaged / "sam.json").read_text())
    scheduled = [
        r["Properties"]
        for r in sam["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "Schedule" for e in r["Properties"].get("Events", {}).values())
    ]
    assert [p["ReservedConcurrentExecutions"] for p in scheduled] == [1]
    assert scheduled[0]["Handler"] == "app.check_health"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_role_is_least_privilege(packaged):
    sam = json.loads((packaged / "sam.json").read_text())
    (policy,) = sam["Resources"]["DefaultRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    for sid, statement in statements.items():
        assert not any(action.endswith(":*") for action in statement["Action"]), sid
        if sid not in ("Logs", "Traces"):  # X-Ray takes no resource-level permissions
            assert statement["Resource"] != "*", sid
    assert statements["Traces"]["Action"] == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    assert statements["Table"]["Resource"] == [{"Fn::GetAtt": ["Table", "Arn"]}, {"Fn::Sub": "${Table.Arn}/index/*"}]
    assert {r["Fn::GetAtt"][0] for r in statements["Queues"]["Resource"]} == {"DeployQueue", "EventsQueue"}
    assert set(statements["Key"]["Action"]) == {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"}
    assert statements["Mail"]["Action"] == ["ses:SendEmail"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_bundle_ships_the_template_catalog(packaged):
    # The template files are package data, not modules: the Lambda must still receive them.
    names = set(zipfile.ZipFile(packaged / "deployment.zip").namelist())
    catalog = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "chalicelib" / "templates").iterdir()
        if p.suffix in (".json", ".svg")
    }
    assert len(catalog) >= 12 and catalog <= names


def test_merge_template_refuses_a_queue_the_resources_do_not_define():
    chalice_sam = {
        "Resources": {
            "OnOther": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Timeout": 60,
                    "Events": {
                        "OnOtherSqsEventSource": {
                            "Type": "SQS",
                            "Properties": {
                                "Queue": {
                                    "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:elsewhere"
                                }
                            },
                        }
                    },
                },
            }
        }
    }
    with pytest.raises(package.PackageError, match="elsewhere"):
        package.build_merge_template(stack.template(), chalice_sam)


def test_merge_template_refuses_a_timeout_longer_than_the_queue_visibility():
    chalice_sam = {
        "Resources": {
            "OnDeploy": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Timeout": 900,
                    "Events": {
                        "OnDeploySqsEventSource": {
                            "Type": "SQS",
                            "Properties": {
                                "Queue": {
                                    "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:"
                                    "${AWS::AccountId}:dyrector-deploy"
                                }
                            },
                        }
                    },
                },
            }
        }
    }
    with pytest.raises(package.PackageError, match="visibility"):
        package.build_merge_template(stack.template(), chalice_sam)


def test_the_dead_letter_redrive_count_is_the_one_the_workers_count_poison_messages_by():
    # batch.process counts a failure on the last receive as a poison message: that receive is the queues' own.
    queues = monitoring.work_queues(stack.template())
    assert set(queues.values()) == {"deploy", "events"}
    for queue_id in queues:
        redrive = stack.template()["Resources"][queue_id]["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == settings.max_receive_count()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_functions_log_json_emit_metrics_and_are_traced(packaged):
    sam = json.loads((packaged / "sam.json").read_text())
    functions = {k: r for k, r in sam["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    assert "WebsocketMessage" in functions
    for logical_id, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        # The idle agents' pings are not traced: at fleet scale their traces would be most of X-Ray's bill.
        traced = logical_id != "WebsocketMessage"
        assert (variables["LOG_FORMAT"], variables["TRACING"]) == ("json", "on" if traced else "off"), logical_id
        assert variables["METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
        assert variables["SERVICE_NAME"] == {"Ref": "Prefix"}  # the metrics' `service` dimension
        assert function["Properties"]["Tracing"] == ("Active" if traced else "PassThrough"), logical_id
    assert sam["Parameters"]["MetricsNamespace"]["Default"] == "dyrector"
    # The REST API is named after the stack (the API alarm's ApiName) and traced too.
    assert sam["Resources"]["RestAPI"]["Properties"]["Name"] == {"Ref": "Prefix"}
    assert sam["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


def _alarms(sam: dict) -> dict[str, dict]:
    return {
        r["Properties"]["AlarmName"]["Fn::Sub"].removeprefix("${Prefix}-"): r["Properties"]
        for r in sam["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }


def _metric_names(alarm: dict) -> set[tuple[str, str]]:
    stats = [m["MetricStat"]["Metric"] for m in alarm.get("Metrics", []) if "MetricStat" in m]
    named = [(json.dumps(m["Namespace"]), m["MetricName"]) for m in stats]
    if "MetricName" in alarm:
        named.append((json.dumps(alarm["Namespace"]), alarm["MetricName"]))
    return set(named)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_alarms_watch_the_dead_letter_queues_api_5xx_deploy_worker_and_failed_deployments(packaged):
    sam = json.loads((packaged / "sam.json").read_text())
    alarms = _alarms(sam)
    assert set(alarms) == {
        "deploy-dlq-not-empty",
        "events-dlq-not-empty",
        "api-5xx-rate",
        "deploy-worker-errors",
        "failed-deployments",
    }
    ours = json.dumps({"Ref": "MetricsNamespace"})
    # Each dead-letter queue: any message in it.
    for short, queue in (("deploy", "DeployDeadLetterQueue"), ("events", "EventsDeadLetterQueue")):
        dlq = alarms[f"{short}-dlq-not-empty"]
        assert dlq["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
        assert (dlq["MetricName"], dlq["Threshold"], dlq["ComparisonOperator"]) == (
            "ApproximateNumberOfMessagesVisible",
            0,
            "GreaterThanThreshold",
        )
    # The API's 5xx share, from API Gateway's own counts of the stack's API.
    assert _metric_names(alarms["api-5xx-rate"]) == {('"AWS/ApiGateway"', "Count"), ('"AWS/ApiGateway"', "5XXError")}
    api_dimensions = alarms["api-5xx-rate"]["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert api_dimensions == [{"Name": "ApiName", "Value": {"Ref": "Prefix"}}, {"Name": "Stage", "Value": "api"}]
    # The deploy worker: its Lambda errors plus the deploy messages it handed back.
    assert _metric_names(alarms["deploy-worker-errors"]) == {('"AWS/Lambda"', "Errors"), (ours, "MessageFailures")}
    crashes = alarms["deploy-worker-errors"]["Metrics"][0]["MetricStat"]["Metric"]["Dimensions"]
    assert crashes == [{"Name": "FunctionName", "Value": {"Ref": "OnDeploy"}}]
    assert sam["Resources"]["OnDeploy"]["Properties"]["Handler"] == "app.on_deploy"
    # The failed share of the deployments that ended.
    assert _metric_names(alarms["failed-deployments"]) == {
        (ours, observability.DEPLOYMENTS_SUCCESSFUL),
        (ours, observability.DEPLOYMENTS_FAILED),
    }
    # Each notifies the SNS topic given as a parameter (and nobody when it is empty).
    condition = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for name, alarm in alarms.items():
        assert alarm["AlarmActions"] == alarm["OKActions"] == condition, name
        assert "docs/operations.md" in alarm["AlarmDescription"], name
    assert sam["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert "HasAlarmTopic" in sam["Conditions"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_dashboard_graphs_every_platform_metric_and_resolves_every_name(packaged):
    import re

    sam = json.loads((packaged / "sam.json").read_text())
    body = sam["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    metrics = {value for name, value in vars(observability).items() if name.isupper() and isinstance(value, str)}
    metrics -= {observability.COUNT, observability.SECONDS, observability.MILLISECONDS}
    assert {"DeploymentsStarted", "CommandDeliveryLatency", "Api5xx"} <= metrics
    assert [m for m in sorted(metrics) if not re.search(rf"\b{m}\b", body)] == []
    # Every ${...} the body names is a parameter, a resource (or its attribute) or a pseudo parameter.
    known = set(sam["Parameters"]) | set(sam["Resources"])
    names = set(re.findall(r"\$\{([^}]+)\}", body))
    assert {n.split(".")[0] for n in names if not n.startswith("AWS::")} <= known
    assert {"Alarms", "Deployments", "API errors by route", "Dead-letter queues (messages)"} <= {
        w["properties"]["title"] for w in widgets
    }
    # No two widgets overlap on the grid.
    cells = [(w["x"], w["y"]) for w in widgets]
    assert len(cells) == len(set(cells))


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_packaged_console_shares_one_origin_with_the_api(packaged):
    # GIVEN the packaged template's web console resources
    sam = json.loads((packaged / "sam.json").read_text())
    resources = sam["Resources"]
    config = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}

    # THEN the console's files come from the private bucket through an origin access control
    assert all(resources["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"].values())
    assert origins["console"]["DomainName"] == {"Fn::GetAtt": ["WebBucket", "RegionalDomainName"]}
    assert origins["console"]["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccessControl", "Id"]}
    (grant,) = resources["WebBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert grant["Principal"] == {"Service": "cloudfront.amazonaws.com"} and grant["Action"] == "s3:GetObject"
    assert "${WebDistribution}" in grant["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == "console" and default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["FunctionAssociations"][0]["EventType"] == "viewer-request"

    # AND /api/* goes to the REST API's stage, uncached, with every method and header but Host
    (api,) = config["CacheBehaviors"]
    assert api["PathPattern"] == "/api/*" and api["TargetOriginId"] == "api"
    assert origins["api"]["DomainName"]["Fn::Sub"].startswith("${RestAPI}.execute-api.")
    assert origins["api"]["OriginPath"] == "/api"  # Chalice's stage: /api/teams is /api/api/teams there
    assert api["CachePolicyId"] == web_hosting.CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == web_hosting.ALL_VIEWER_EXCEPT_HOST_HEADER
    assert {"GET", "POST", "PUT", "PATCH", "DELETE"} <= set(api["AllowedMethods"])

    # AND the page may talk to this origin and the WebSocket API only; nothing may frame it
    headers = resources["WebResponseHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    policy = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' wss://${WebsocketAPI}.execute-api." in policy
    assert sam["Outputs"]["ConsoleUrl"]["Value"] == {"Fn::Sub": "https://${WebDistribution.DomainName}"}

    # AND the functions get no access to the console's bucket
    (role_policy,) = resources["DefaultRole"]["Properties"]["Policies"]
    assert "WebBucket" not in json.dumps(role_policy)
