"""Faults injected into real parts (issue 6): `make run`'s stack with its pump and real SQS
redelivery, an agent installed by its install command, the real Docker engine and registry.

Each test states what a user notices and checks that nothing was lost or done twice: one
deploy command per try, one set of containers, the final status written once, nothing left in
the queues but what the redrive policy put in the dead-letter queues.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest

from infra import stack
from tests.fixtures.docker_engine import prefixed_containers
from tests.fixtures.local_stack import (
    LocalStack,
    agent_log,
    alive,
    free_port,
    get_text,
    install_agent,
    running_local_stack,
    stop_agent,
    v2_registry,
    wait_connected,
)
from tests.fixtures.waiting import wait_for

# The deploy worker dies once just before and once right after writing the agent's command (both
# before SQS deletes the message); SQS makes a message visible again 2 s after a failed receive.
FAULTS = {
    "DYRECTOR_FAULTS": "dispatch.before-command:1,dispatch.after-command:1",
    "LOCAL_VISIBILITY_TIMEOUT": "2",
    "DEPLOYMENT_TIMEOUT_SECONDS": "60",
}


@pytest.fixture(scope="module")
def fault_stack():
    with running_local_stack(env=FAULTS) as running:
        yield running


def aws(running: LocalStack, service: str):
    return _client(running.aws_endpoint, service)


@functools.cache
def _client(endpoint: str, service: str):
    """One client per emulator and service: the queues are polled every half second, and a new boto3
    session reloads botocore's service models each time (CPU the stack under test could use)."""
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=endpoint)


def outputs(running: LocalStack) -> dict[str, str]:
    (described,) = aws(running, "cloudformation").describe_stacks(StackName=stack.DEFAULT_STACK_NAME)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}


def deploy_commands(running: LocalStack, node_id: str) -> list[dict]:
    """Every deploy command ever written for the node, read straight from the table."""
    items = aws(running, "dynamodb").query(
        TableName=outputs(running)["TableName"],
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": f"NODECMD#{node_id}"}},
        ConsistentRead=True,
    )["Items"]
    return [item for item in items if item["kind"]["S"] == "deploy"]


def queue_depth(running: LocalStack, name: str) -> int:
    sqs = aws(running, "sqs")
    attributes = sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName=name)["QueueUrl"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def kv(key, value):
    return {"key": key, "value": value}


def final_status(api, path, data_dir, timeout=90):
    return wait_for(
        lambda: (s := api.call("GET", path).json()["status"]) in ("successful", "failed") and s,
        timeout,
        "deployment never finished; agent log:\n" + agent_log(data_dir),
    )


def log_items(api, path) -> list[dict]:
    return api.call("GET", f"{path}/log?skip=0&take=100", expect=200).json()["items"]


def containers_of(docker_client, prefix: str) -> list[str]:
    return [c.name for c in prefixed_containers(docker_client, prefix)]


class Shop:
    """A node with an installed agent and a deployment of two images (web, worker) from the real registry."""

    def __init__(self, running: LocalStack, registry, data_dir: Path) -> None:
        self.running = running
        self.data_dir = data_dir
        self.registry_host = registry.host
        self.api, self.slug, self.node, _ = install_agent(running.url, data_dir)
        wait_connected(self.api, self.slug, self.node, data_dir)
        api, slug = self.api, self.slug
        self.registry = v2_registry(api, slug, registry)
        project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "shop"}, expect=201).json()
        version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
        self.images_path = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
        self.web, self.worker = api.call(
            "POST",
            self.images_path,
            [{"registryId": self.registry["id"], "images": ["acme/web:1.0", "acme/worker:latest"]}],
            expect=201,
        ).json()
        self.port = free_port()
        self.configure(
            self.web,
            {
                "name": "web",
                "environment": [kv("GREETING", "hello"), kv("MODE", "prod")],
                "ports": [{"internal": 8080, "external": self.port}],
                "secrets": [],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                "args": [
                    {"key": 'mkdir -p /www && echo "$GREETING" > /www/index.html && exec httpd -f -p 8080 -h /www'}
                ],
            },
        )
        self.configure(
            self.worker,
            {
                "name": "worker",
                "environment": [kv("MODE", "batch")],
                "secrets": [],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                "args": [{"key": "sleep 600"}],
            },
        )
        self.prefix = f"f{uuid.uuid4().hex[:8]}"
        self.deployment = api.call(
            "POST",
            f"/api/{slug}/deployments",
            {"versionId": version["id"], "nodeId": self.node["id"], "prefix": self.prefix},
            expect=201,
        ).json()
        self.path = f"/api/{slug}/deployments/{self.deployment['id']}"

    def configure(self, image: dict, config: dict) -> None:
        self.api.call("PATCH", f"{self.images_path}/{image['id']}", {"config": config}, expect=204)

    @property
    def agent_pid(self) -> int:
        return int((self.data_dir / "agent.pid").read_text())

    def cleanup(self, docker_client) -> None:
        stop_agent(self.agent_pid)
        for container in prefixed_containers(docker_client, self.prefix):
            container.remove(force=True)


@pytest.fixture()
def shop(fault_stack, local_registry, docker_client, tmp_path):
    made = Shop(fault_stack, local_registry, tmp_path / "agent")
    try:
        yield made
    finally:
        made.cleanup(docker_client)


@pytest.mark.timeout(300)
def test_deploy_worker_crashes_around_the_command_write_deploy_exactly_once(fault_stack, shop, docker_client):
    # GIVEN a deploy worker that dies before, then right after, writing the agent's command (never deleting
    # the SQS message)
    # WHEN the deployment starts (the message is redelivered after each crash)
    shop.api.call("POST", f"{shop.path}/start", expect=204)

    # THEN the user sees one successful deployment with its two containers
    assert final_status(shop.api, shop.path, shop.data_dir) == "successful", log_items(shop.api, shop.path)
    log = fault_stack.log()
    deployment_id = shop.deployment["id"]
    crashes = re.findall(r'faults.point\("(dispatch\.[a-z-]+)"\)', log)
    assert crashes == ["dispatch.before-command", "dispatch.after-command"], log
    # The redelivered message changes nothing: the try is already dispatched (or already over).
    wait_for(
        lambda: re.search(f"deployment {deployment_id} try 1: (duplicate|stale)", fault_stack.log()),
        20,
        "the message was never redelivered",
    )
    assert f"deployment {deployment_id} try 1: dispatched" not in fault_stack.log()
    # AND exactly one command reached the node, one set of containers runs, the status was written once
    assert len(deploy_commands(fault_stack, shop.node["id"])) == 1
    assert containers_of(docker_client, shop.prefix) == [f"{shop.prefix}-web", f"{shop.prefix}-worker"]
    items = log_items(shop.api, shop.path)
    assert [i["deploymentStatus"] for i in items if i["type"] == "deployment-status"] == ["in-progress", "successful"]
    instances = {i["id"] for i in shop.api.call("GET", shop.path).json()["instances"]}
    assert sorted(
        i["containerState"]["instanceId"]
        for i in items
        if i["type"] == "container-state" and i["containerState"]["state"] == "running"
    ) == sorted(instances)
    assert sum("Deploying 2 container(s)" in " ".join(i["log"] or []) for i in items) == 1
    # AND nothing is left in the deploy queue or its dead-letter queue
    names = outputs(fault_stack)
    wait_for(lambda: queue_depth(fault_stack, names["DeployQueueName"]) == 0, 20, "deploy queue not drained")
    assert queue_depth(fault_stack, names["DeployDeadLetterQueueName"]) == 0


def restart_agent(data_dir: Path, cmdline: list[str]) -> int:
    """What a supervisor (systemd Restart=always) does: the same command line, logging to the same file."""
    with open(data_dir / "agent.log", "ab") as log_file:
        process = subprocess.Popen(
            cmdline, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
    (data_dir / "agent.pid").write_text(str(process.pid))
    return process.pid


@pytest.mark.timeout(300)
def test_an_agent_killed_mid_deployment_and_restarted_finishes_it(fault_stack, shop, docker_client):
    # GIVEN a deployment whose first container has an init container that takes a few seconds
    shop.configure(
        shop.web,
        {
            "initContainers": [
                {
                    "name": "slow",
                    "image": f"{shop.registry_host}/acme/web:1.0",
                    "command": [{"key": "sleep"}],
                    "args": [{"key": "4"}],
                }
            ]
        },
    )
    pid = shop.agent_pid
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    shop.api.call("POST", f"{shop.path}/start", expect=204)
    wait_for(
        lambda: f"{shop.prefix}-web-slow" in containers_of(docker_client, shop.prefix),
        60,
        "the init container never started; agent log:\n" + agent_log(shop.data_dir),
    )
    # WHEN the agent is killed mid-way and its supervisor restarts it
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), 10, "the agent survived SIGKILL")
    restart_agent(shop.data_dir, [part.decode() for part in cmdline])

    # THEN the restarted agent finishes the interrupted deployment: successful, long before the timeout
    started = time.monotonic()
    assert final_status(shop.api, shop.path, shop.data_dir, timeout=50) == "successful", log_items(shop.api, shop.path)
    assert time.monotonic() - started < 50
    assert "resuming command" in agent_log(shop.data_dir)
    # AND there is one set of containers (no orphaned init container), from one command, one final status
    assert containers_of(docker_client, shop.prefix) == [f"{shop.prefix}-web", f"{shop.prefix}-worker"]
    assert len(deploy_commands(fault_stack, shop.node["id"])) == 1
    statuses = [i["deploymentStatus"] for i in log_items(shop.api, shop.path) if i["type"] == "deployment-status"]
    assert statuses == ["in-progress", "successful"]
    assert wait_for(lambda: get_text(shop.port) == "hello", 20, "the web container does not answer")
    # WHEN it is killed again, idle, holding an interrupted command the platform no longer knows (expired)
    pid = shop.agent_pid
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), 10, "the agent survived SIGKILL")
    expired = {"kind": "list-containers", "id": "01JEXPIREDCOMMAND0000000000"}
    (shop.data_dir / "in-flight.json").write_text(json.dumps(expired))
    restart_agent(shop.data_dir, [part.decode() for part in cmdline])
    # (the node left when the agent died, and is back once the restarted agent connects)
    wait_connected(shop.api, shop.slug, shop.node, shop.data_dir, timeout=30)
    # THEN it drops that command and keeps working: a second try deploys normally
    shop.api.call("POST", f"{shop.path}/start", expect=204)
    wait_for(lambda: shop.api.call("GET", shop.path).json()["lastTry"] == 2, 10, "second try not started")
    assert final_status(shop.api, shop.path, shop.data_dir) == "successful"
    # The command's own result follows the deployment's final status; then nothing is left in flight.
    wait_for(lambda: not (shop.data_dir / "in-flight.json").exists(), 10, "the finished command stayed in flight")
    assert "01JEXPIREDCOMMAND0000000000 (list-containers) is no longer known" in agent_log(shop.data_dir)


@pytest.mark.timeout(300)
def test_malformed_queue_messages_end_in_the_dead_letter_queues_and_the_flow_goes_on(fault_stack, shop, receiver):
    names = outputs(fault_stack)
    sqs = aws(fault_stack, "sqs")
    dead = {queue: queue_depth(fault_stack, names[f"{queue}DeadLetterQueueName"]) for queue in ("Deploy", "Events")}
    # GIVEN a webhook notified of deployment results
    shop.api.call(
        "POST",
        f"/api/{shop.slug}/notifications",
        {
            "type": "webhook",
            "name": "ops hook",
            "url": receiver.url + "/hook",
            "active": True,
            "enabledEvents": ["deployment-status"],
        },
        expect=201,
    )
    # WHEN malformed messages land on the deploy and events queues
    poison = {
        "Deploy": [
            "not json at all",
            json.dumps({"deploymentId": "x"}),
            json.dumps({"teamId": "t", "deploymentId": "d", "attempt": "not a number"}),
        ],
        "Events": ["{truncated", json.dumps({"type": "no-such-event"})],
    }
    for queue, bodies in poison.items():
        url = sqs.get_queue_url(QueueName=names[f"{queue}QueueName"])["QueueUrl"]
        for body in bodies:
            sqs.send_message(QueueUrl=url, MessageBody=body)
    # AND a deployment is started meanwhile
    shop.api.call("POST", f"{shop.path}/start", expect=204)

    # THEN the deployment succeeds and its webhook is called, while the bad messages are retried
    assert final_status(shop.api, shop.path, shop.data_dir) == "successful"
    wait_for(
        lambda: any(
            shop.deployment["id"] in json.dumps(b) or shop.prefix in json.dumps(b) for b in receiver.bodies("/hook")
        ),
        30,
        f"webhook never called: {receiver.posts}",
    )
    # AND after maxReceiveCount tries each bad message is in its queue's dead-letter queue, and only those
    for queue, bodies in poison.items():
        dead_letters, work = names[f"{queue}DeadLetterQueueName"], names[f"{queue}QueueName"]
        expected = dead[queue] + len(bodies)
        wait_for(
            lambda dlq=dead_letters, n=expected: queue_depth(fault_stack, dlq) == n,
            60,
            f"{queue}: the bad messages never reached the dead-letter queue",
        )
        wait_for(lambda work=work: queue_depth(fault_stack, work) == 0, 20, f"{queue} queue not drained")
    # AND the stack log never quotes a message body
    log = fault_stack.log()
    for body in [b for bodies in poison.values() for b in bodies]:
        assert body not in log, log[max(0, log.find(body) - 2000) : log.find(body) + 200]
    assert "no-such-event" not in log
    assert alive(fault_stack.process.pid)


@pytest.mark.timeout(120)
def test_an_oversized_body_is_413_json_and_writes_nothing(fault_stack, shop):
    api, slug = shop.api, shop.slug
    projects = api.call("GET", f"/api/{slug}/projects", expect=200).json()
    audit_total = api.call("GET", f"/api/{slug}/audit-log?take=1", expect=200).json()["total"]
    # WHEN a client sends a 2 MB project description
    reply = api.call(
        "POST", f"/api/{slug}/projects", {"type": "versioned", "name": "huge", "description": "x" * (2 * 1024 * 1024)}
    )
    # THEN it gets 413 with a JSON body, and neither the project nor an audit entry was written
    assert reply.status_code == 413, reply.text[:300]
    assert reply.headers["Content-Type"].startswith("application/json") and "message" in reply.json()
    assert api.call("GET", f"/api/{slug}/projects", expect=200).json() == projects
    assert api.call("GET", f"/api/{slug}/audit-log?take=1", expect=200).json()["total"] == audit_total
    # AND the name stays free
    api.call("POST", f"/api/{slug}/projects", {"type": "versioned", "name": "huge"}, expect=201)
