"""Operable on AWS (issue 19), end to end: one real deployment through `make run`'s stack logging as on
AWS (LOG_FORMAT=json), an agent installed by its command, the Docker engine and a registry. Every line
the stack writes is one JSON object; the deployment can be followed by its id from `start` through the
deploy worker and the agent's acknowledgement to its report; its metrics are EMF objects with the
right names, namespace and dimensions."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from tests.fixtures.docker_engine import prefixed_containers
from tests.fixtures.local_stack import agent_log, install_agent, stop_agent, v2_registry, wait_connected
from tests.fixtures.waiting import wait_for
from tests.integration.conftest import JSON_STACK_ENV

BANNER = "  "  # the start banner's lines (where the console, the API and the emulator are), printed for people
START = "POST /api/{teamSlug}/deployments/{deploymentId}/start"
ACK = "POST /api/agent/commands/{command}/ack"
REPORT = "POST /api/agent/deployments/{deployment}/events"
DETAILS = "GET /api/{teamSlug}/deployments/{deploymentId}"


@dataclass
class Traced:
    log: str
    slug: str
    node_id: str
    deployment_id: str
    status: str
    registry_password: str

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.splitlines() if line.startswith("{")]

    def records(self) -> list[dict]:
        """The log records (not the metrics)."""
        return [line for line in self.lines() if "_aws" not in line]

    def metrics(self, name: str) -> list[dict]:
        return [line for line in self.lines() if "_aws" in line and name in line]


def _ended(stack, deployment_id: str):
    """The stack's log once the deployment's final status and its metrics are written, else None."""
    log = stack.log()
    done = f"deployment {deployment_id} try 1: successful" in log or f"deployment {deployment_id} try 1: failed" in log
    return log if done and "DeploymentDuration" in log else None


def _with(stack, text: str):
    """The stack's log once it holds `text`, else None."""
    log = stack.log()
    return log if text in log else None


@pytest.fixture(scope="module")
def traced(json_stack_process, local_registry, docker_client, tmp_path_factory) -> Traced:
    """A one-container deployment through a real agent, then a request answered 400, on the JSON stack."""
    data_dir = tmp_path_factory.mktemp("observability") / "agent"
    api, slug, node, pid = install_agent(json_stack_process.url, data_dir)
    prefix = f"o{uuid.uuid4().hex[:8]}"
    try:
        wait_connected(api, slug, node, data_dir)
        registry = v2_registry(api, slug, local_registry)
        project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "obs"}, expect=201).json()
        version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
        images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
        (image,) = api.call(
            "POST", images, [{"registryId": registry["id"], "images": ["acme/web:1.0"]}], expect=201
        ).json()
        config = {
            "name": "web",
            "secrets": [],  # the image's labels ask for one; this deployment needs none
            "commands": [{"key": "sh"}, {"key": "-c"}],
            "args": [{"key": "sleep 600"}],
        }
        api.call("PATCH", f"{images}/{image['id']}", {"config": config}, expect=204)
        deployment = api.call(
            "POST", f"/api/{slug}/deployments", {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix}
        ).json()
        # WHEN it is started and the agent deploys it
        api.call("POST", f"/api/{slug}/deployments/{deployment['id']}/start", expect=204)
        log = wait_for(
            lambda: _ended(json_stack_process, deployment["id"]), 90, "no final status; " + agent_log(data_dir)
        )
        status = api.call("GET", f"/api/{slug}/deployments/{deployment['id']}").json()["status"]
        # AND a client gets a 400 (a malformed deployment id)
        api.call("GET", f"/api/{slug}/deployments/not-a-uuid", expect=400)
        log = wait_for(lambda: _with(json_stack_process, '"Api4xx"'), 10, "no Api4xx in the log")
    finally:
        stop_agent(pid)
        for container in prefixed_containers(docker_client, prefix):
            container.remove(force=True)
    return Traced(log, slug, node["id"], deployment["id"], status, local_registry.password)


@pytest.mark.timeout(300)
def test_the_deployment_succeeds(traced):
    assert traced.status == "successful"


@pytest.mark.timeout(300)
def test_every_line_the_stack_writes_is_one_json_object(traced):
    lines = [line for line in traced.log.splitlines() if line.strip() and not line.startswith(BANNER)]
    not_json = []
    for line in lines:
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            not_json.append(line)
    assert not_json == []
    assert len(lines) > 30
    # AND every record written inside a handler names its function, its request and its route
    handled = [r for r in traced.records() if "function_name" in r]
    assert len(handled) > 20
    assert all(r.get("function_request_id") and r.get("request_id") and r.get("route") for r in handled)


@pytest.mark.timeout(300)
def test_one_deployment_is_followed_by_its_id_from_start_to_the_agents_report(traced):
    # GIVEN every log record about the deployment (one filter, as a Logs Insights query would do)
    mine = [r for r in traced.records() if r.get("deployment_id") == traced.deployment_id]
    routes = {r["route"] for r in mine}
    # THEN it shows the start request, the deploy worker, the agent's acknowledgement and its report
    assert {START, "sqs dyrector-deploy", ACK, REPORT} <= routes, routes
    (started,) = [r for r in mine if r["route"] == START and r.get("status") == 204]
    assert started["team"] == traced.slug and started["team_id"] and started["user_id"] and started["request_id"]
    # AND the deploy worker names the message, the node and the command it wrote
    (dispatched,) = [r for r in mine if "command_id" in r and r["route"] == "sqs dyrector-deploy"]
    assert dispatched["node_id"] == traced.node_id and dispatched["message_id"]
    command_id = dispatched["command_id"]
    # AND the agent's acknowledgement of that command and its reports carry the node (and the command)
    acks = [r for r in mine if r["route"] == ACK]
    assert acks and all(r["command_id"] == command_id and r["node_id"] == traced.node_id for r in acks)
    reports = [r for r in mine if r["route"] == REPORT]
    assert reports and all(r["node_id"] == traced.node_id for r in reports)
    # AND the end: the final status, said once
    ends = [r["message"] for r in mine if r["message"].startswith(f"deployment {traced.deployment_id} try 1: s")]
    assert ends == [f"deployment {traced.deployment_id} try 1: successful"]


def _directive(emf: dict) -> dict:
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    return directive


@pytest.mark.timeout(300)
def test_the_deployments_metrics_are_emitted_with_their_names_and_dimensions(traced):
    namespace = JSON_STACK_ENV["METRICS_NAMESPACE"]
    expected = {
        "DeploymentsStarted": "Count",
        "DeploymentsSuccessful": "Count",
        "DeploymentDuration": "Seconds",
    }
    for name, unit in expected.items():
        (emf,) = [m for m in traced.metrics(name) if m.get("deployment_id") == traced.deployment_id]
        directive = _directive(emf)
        assert directive["Namespace"] == namespace
        assert directive["Metrics"] == [{"Name": name, "Unit": unit}]
        assert directive["Dimensions"] == [["service"]] and emf["service"] == "dyrector"
        assert emf["node_id"] == traced.node_id and emf["team_id"]
    (duration,) = [m for m in traced.metrics("DeploymentDuration") if m["deployment_id"] == traced.deployment_id]
    assert 0 < duration["DeploymentDuration"][0] < 90
    # AND the command: pushed to the agent's connection, and how long it took to be acknowledged
    (dispatched,) = [
        r
        for r in traced.records()
        if r.get("deployment_id") == traced.deployment_id and "command_id" in r and r["route"] == "sqs dyrector-deploy"
    ]
    command_id = dispatched["command_id"]
    (pushed,) = [m for m in traced.metrics("CommandsPushed") if m.get("command_id") == command_id]
    (latency,) = [m for m in traced.metrics("CommandDeliveryLatency") if m.get("command_id") == command_id]
    assert _directive(latency)["Metrics"] == [{"Name": "CommandDeliveryLatency", "Unit": "Milliseconds"}]
    assert 0 <= latency["CommandDeliveryLatency"][0] < 30_000 and latency["deployment_id"] == traced.deployment_id
    assert _directive(pushed)["Namespace"] == namespace
    # AND the agent's connection
    assert [m for m in traced.metrics("AgentConnections") if m.get("node_id") == traced.node_id]


@pytest.mark.timeout(300)
def test_a_client_error_is_counted_by_route(traced):
    (emf,) = [m for m in traced.metrics("Api4xx") if m.get("team") == traced.slug]
    assert _directive(emf)["Dimensions"] == [["service"], ["service", "Route"]]
    assert emf["Route"] == DETAILS and emf["deployment_id"] == "not-a-uuid"


@pytest.mark.timeout(300)
def test_the_registry_password_is_in_no_line(traced):
    assert traced.registry_password not in traced.log
