"""Deployments at the API: placement rules, mutability, secrets, start/dispatch/finish, timeouts."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from nacl.public import PrivateKey

from chalicelib.contracts.agent import AGENT_VERSION
from tests.fixtures.agents import AgentSocket, agent_headers, install_token

SUMMARY_KEYS = {"status", "note", "audit", "project", "version", "node", "id", "prefix"}


@pytest.fixture()
def world(api, registry_item, agent_package):
    """A team with a connected node (its agent driven over HTTP here), and a versioned project."""
    owner = api.signup()
    team = api.create_team(owner)
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    script = api.post(f"/api/{slug}/nodes/{node['id']}/script", owner, {"type": "docker", "scriptType": "shell"}).json
    key = PrivateKey.generate()
    public = base64.b64encode(bytes(key.public_key)).decode()
    token = api.post(
        "/api/agent/register",
        headers=agent_headers(install_token(script["script"])),
        body={"version": AGENT_VERSION, "type": "docker", "publicKey": public},
    ).json["token"]
    socket = AgentSocket(token)  # the agent's push channel: the node is connected while it is open
    project = api.create_project(owner, slug, "versioned")
    registry = registry_item(team)

    def version(kind="rolling", images=("acme/web:1", "acme/worker:1")):
        created = api.create_version(owner, slug, project["id"], kind=kind)
        if images:
            api.post(
                f"/api/{slug}/projects/{project['id']}/versions/{created['id']}/images",
                owner,
                [{"registryId": registry, "images": list(images)}],
            )
        return created

    yield {
        "owner": owner,
        "team": team,
        "slug": slug,
        "node": node,
        "token": token,
        "public": public,
        "version": version,
        "project": project,
        "socket": socket,
    }
    socket.close()


def create(api, w, version, prefix="web", node=None):
    return api.post(
        f"/api/{w['slug']}/deployments",
        w["owner"],
        {"versionId": version["id"], "nodeId": node or w["node"]["id"], "prefix": prefix, "note": "n"},
    )


def test_create_lists_details_and_one_instance_per_image(api, world):
    version = world["version"]()
    created = create(api, world, version)
    assert created.status_code == 201
    assert set(created.json) == SUMMARY_KEYS and created.json["status"] == "preparing"
    assert created.json["node"] == {"type": "docker", "id": world["node"]["id"], "name": "edge"}
    details = api.get(f"/api/{world['slug']}/deployments/{created.json['id']}", world["owner"]).json
    assert set(details) == SUMMARY_KEYS | {"environment", "publicKey", "instances", "lastTry", "token"}
    assert [i["image"]["name"] for i in details["instances"]] == ["acme/web", "acme/worker"]
    assert (details["publicKey"], details["lastTry"], details["token"], details["environment"]) == (
        world["public"],
        0,
        None,
        [],
    )
    assert [d["id"] for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json] == [created.json["id"]]


def test_placement_rules_per_version_type(api, world):
    rolling = world["version"]("rolling")
    first = create(api, world, rolling).json
    taken = create(api, world, rolling)
    assert taken.status_code == 409 and taken.json["value"] == first["id"]
    assert create(api, world, rolling, prefix="other").status_code == 201
    incremental = world["version"]("incremental")
    # It came with preparing copies of the default version's deployments ("web", "other").
    assert create(api, world, incremental).status_code == 409
    assert create(api, world, incremental, prefix="inc").status_code == 201
    assert create(api, world, incremental, prefix="inc").status_code == 409  # one preparing per version+node+prefix
    bare = api.create_project(world["owner"], world["slug"], "versioned")
    empty = api.create_version(world["owner"], world["slug"], bare["id"], kind="rolling")
    assert create(api, world, empty).status_code == 412
    assert create(api, world, rolling, prefix="Bad_Prefix").status_code == 400
    assert create(api, world, rolling, prefix="p2", node="5b0c2d3e-0000-4000-8000-000000000000").status_code == 404


def test_patch_note_prefix_environment_and_prefix_conflicts(api, world):
    version = world["version"]()
    a, _ = create(api, world, version, "a").json, create(api, world, version, "b").json
    path = f"/api/{world['slug']}/deployments/{a['id']}"
    env = [{"key": "MODE", "value": "prod"}]
    assert api.patch(path, world["owner"], {"note": "hello", "environment": env}).status_code == 204
    got = api.get(path, world["owner"]).json
    assert got["note"] == "hello" and [(e["key"], e["value"]) for e in got["environment"]] == [("MODE", "prod")]
    assert api.patch(path, world["owner"], {"prefix": "b"}).status_code == 409
    assert api.patch(path, world["owner"], {"prefix": "c"}).status_code == 204
    assert create(api, world, version, "a").status_code == 201  # the old prefix is free again


def test_instance_secrets_are_accepted_only_sealed_for_the_node(api, world):
    version = world["version"]()
    deployment = create(api, world, version).json
    base = f"/api/{world['slug']}/deployments/{deployment['id']}"
    instance = api.get(base, world["owner"]).json["instances"][0]
    path = f"{base}/instances/{instance['id']}"
    plain = {"config": {"secrets": [{"key": "DB_PASSWORD", "value": "hunter2"}]}}
    refused = api.patch(path, world["owner"], plain)
    assert refused.status_code == 400 and "hunter2" not in refused.body
    sealed = {
        "config": {
            "secrets": [{"key": "DB_PASSWORD", "value": "c2VhbGVk", "encrypted": True, "publicKey": world["public"]}],
            "user": 1000,
        }
    }
    assert api.patch(path, world["owner"], sealed).status_code == 204
    got = api.get(path, world["owner"]).json
    assert set(got) == {"id", "updatedAt", "image", "config"} and got["config"]["user"] == 1000


def start(api, w, deployment_id, **kw):
    return api.post(f"/api/{w['slug']}/deployments/{deployment_id}/start", w["owner"], **kw)


def deploy_messages(client, queue):
    return [b for b in queue() if "deploymentId" in json.loads(b)]


def test_start_dispatches_once_and_the_agent_result_finishes_it(api, world, client, deploy_queue):
    version = world["version"]()
    deployment = create(api, world, version).json
    path = f"/api/{world['slug']}/deployments/{deployment['id']}"
    deploy_queue()
    assert start(api, world, deployment["id"]).status_code == 204
    assert api.get(path, world["owner"]).json["status"] == "in-progress"
    # A second start while in flight is refused; so are changes and deletion.
    assert start(api, world, deployment["id"]).status_code in (409, 412)
    assert api.patch(path, world["owner"], {"note": "x"}).status_code == 412
    assert api.delete(path, world["owner"]).status_code == 412
    [message] = deploy_queue()
    # WHEN SQS delivers the message twice THEN the agent gets one deploy command
    event = client.events.generate_sqs_event(message_bodies=[message, message], queue_name="dyrector-deploy")
    assert client.lambda_.invoke("on_deploy", event).payload == {"batchItemFailures": []}
    commands = api.get("/api/agent/commands", headers=agent_headers(world["token"])).json
    [deploy] = [c for c in commands if c["kind"] == "deploy"]
    assert deploy["deploymentId"] == deployment["id"] and deploy["attempt"] == 1 and deploy["prefix"] == "web"
    assert [w["name"] for w in deploy["workloads"]] == ["web", "worker"]
    # The agent reports; the final status is written once.
    report = {
        "attempt": 1,
        "events": [
            *({"type": "log", "log": [f"line {i}"]} for i in range(30)),
            {"type": "container-state", "instanceId": deploy["workloads"][0]["instanceId"], "state": "running"},
            {"type": "deployment-status", "status": "successful"},
        ],
    }
    url = f"/api/agent/deployments/{deployment['id']}/events"
    assert api.post(url, headers=agent_headers(world["token"]), body=report).status_code == 204
    assert api.get(path, world["owner"]).json["status"] == "successful"
    late = {"attempt": 1, "events": [{"type": "deployment-status", "status": "failed"}]}
    api.post(url, headers=agent_headers(world["token"]), body=late)
    assert api.get(path, world["owner"]).json["status"] == "successful"
    log = api.get(f"{path}/log?skip=0&take=50", world["owner"]).json
    assert log["total"] >= 33
    reported = [i["log"][0] for i in log["items"] if i["type"] == "log" and i["log"][0].startswith("line ")]
    assert reported == [f"line {i}" for i in range(30)]  # one batch write keeps their order
    assert [i["deploymentStatus"] for i in log["items"] if i["type"] == "deployment-status"] == [
        "in-progress",
        "successful",
    ]
    # A rolling deployment stays deployable after success.
    assert start(api, world, deployment["id"]).status_code == 204
    assert api.get(path, world["owner"]).json["lastTry"] == 2


def test_a_report_resent_after_its_reply_was_lost_is_stored_once(api, world, deploy_queue):
    # GIVEN a deployment in progress whose agent reports its events with their positions in the try
    deployment = create(api, world, world["version"]()).json
    deploy_queue()
    start(api, world, deployment["id"])
    url = f"/api/agent/deployments/{deployment['id']}/events"
    path = f"/api/{world['slug']}/deployments/{deployment['id']}"

    def send(attempt, seq, lines):
        body = {"attempt": attempt, "seq": seq, "events": [{"type": "log", "log": [line]} for line in lines]}
        assert api.post(url, headers=agent_headers(world["token"]), body=body).status_code == 204

    def stored():
        items = api.get(f"{path}/log?skip=0&take=100", world["owner"]).json["items"]
        return [line for i in items if i["type"] == "log" for line in i["log"] if line.startswith("l")]

    # WHEN a report is stored but its reply is lost, so the agent resends it, later with more events appended
    first = [f"l{i}" for i in range(95)]  # more than one transaction's worth
    send(1, 0, first)
    send(1, 0, first)
    send(1, 0, [*first, "l95", "l96"])
    send(1, 97, ["l97"])
    send(1, 95, ["l95", "l96"])  # a stale copy arriving late
    # THEN every event is stored once, in order
    assert stored() == [f"l{i}" for i in range(98)]
    # AND the next try counts its positions afresh
    api.post(
        url,
        headers=agent_headers(world["token"]),
        body={"attempt": 1, "seq": 98, "events": [{"type": "deployment-status", "status": "failed"}]},
    )
    assert start(api, world, deployment["id"]).status_code == 204
    send(2, 0, ["l-second-try"])
    send(2, 0, ["l-second-try"])
    assert stored().count("l-second-try") == 1


@pytest.mark.parametrize("crash_at", ["dispatch.before-command", "dispatch.after-command"])
def test_a_worker_crash_around_the_command_write_still_delivers_exactly_one_command(
    api, world, client, deploy_queue, monkeypatch, crash_at
):
    from chalicelib import faults

    # GIVEN a started deployment and a deploy worker that dies at `crash_at` on its first run
    version = world["version"]()
    deployment = create(api, world, version).json
    deploy_queue()
    assert start(api, world, deployment["id"]).status_code == 204
    [message] = deploy_queue()
    faults.reset()
    monkeypatch.setenv("DYRECTOR_FAULTS", f"{crash_at}:1")
    event = client.events.generate_sqs_event(message_bodies=[message], queue_name="dyrector-deploy")
    # WHEN SQS delivers the message, the worker crashes (the message is not deleted), and SQS redelivers it
    [failed] = client.lambda_.invoke("on_deploy", event).payload["batchItemFailures"]
    assert failed["itemIdentifier"] == event["Records"][0]["messageId"]
    assert client.lambda_.invoke("on_deploy", event).payload == {"batchItemFailures": []}
    assert client.lambda_.invoke("on_deploy", event).payload == {"batchItemFailures": []}
    # THEN the agent gets exactly one deploy command, and the log says so once
    commands = api.get("/api/agent/commands", headers=agent_headers(world["token"])).json
    assert [c["deploymentId"] for c in commands if c["kind"] == "deploy"] == [deployment["id"]]
    log = api.get(f"/api/{world['slug']}/deployments/{deployment['id']}/log?skip=0&take=50", world["owner"]).json
    assert sum("Deploying 2 container(s)" in " ".join(i["log"] or []) for i in log["items"]) == 1


def test_a_later_success_makes_the_older_deployment_obsolete(api, world, client, deploy_queue):
    version = world["version"]("incremental")
    first = create(api, world, version).json
    deploy_queue()
    for deployment in (first, None):
        if deployment is None:
            deployment = api.post(
                f"/api/{world['slug']}/deployments/{first['id']}/copy",
                world["owner"],
                {"nodeId": world["node"]["id"], "prefix": "web"},
            ).json
            second = deployment
        start(api, world, deployment["id"])
        api.post(
            f"/api/agent/deployments/{deployment['id']}/events",
            headers=agent_headers(world["token"]),
            body={"attempt": 1, "events": [{"type": "deployment-status", "status": "successful"}]},
        )
    statuses = {d["id"]: d["status"] for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json}
    assert statuses == {first["id"]: "obsolete", second["id"]: "successful"}


def test_a_deployment_stuck_in_progress_is_failed_by_the_schedule(api, world, deploy_queue):
    from chalicelib import ids
    from chalicelib.services import deployment_lifecycle

    version = world["version"]()
    deployment = create(api, world, version).json
    deploy_queue()
    start(api, world, deployment["id"])
    assert deployment["id"] not in deployment_lifecycle.fail_stuck()  # not yet past the timeout
    assert deployment["id"] in deployment_lifecycle.fail_stuck(ids.utcnow() + timedelta(hours=2))
    path = f"/api/{world['slug']}/deployments/{deployment['id']}"
    assert api.get(path, world["owner"]).json["status"] == "failed"
    lines = [line for i in api.get(f"{path}/log", world["owner"]).json["items"] for line in i["log"] or []]
    assert any("No result from the node" in line for line in lines)
    assert start(api, world, deployment["id"]).status_code == 204  # failed deployments can be retried


def test_stuck_deployments_are_failed_in_batches_up_to_the_cap(api, world, deploy_queue, monkeypatch):
    from chalicelib import ids
    from chalicelib.services import deployment_lifecycle
    from tests.fixtures.aws_calls import recording

    later = ids.utcnow() + timedelta(hours=2)
    deployment_lifecycle.fail_stuck(later)  # what other tests left in progress
    # GIVEN five deployments in progress whose agent never reported, and a cap of 3 a run
    version = world["version"]()
    started = []
    for prefix in ("a", "b", "c", "d", "e"):
        deployment = create(api, world, version, prefix=prefix).json
        assert start(api, world, deployment["id"]).status_code == 204
        started.append(deployment["id"])
    deploy_queue()
    monkeypatch.setenv("HEALTH_SWEEP_MAX_DEPLOYMENTS", "3")
    # WHEN the schedule runs
    with recording() as calls:
        first = deployment_lifecycle.fail_stuck(later)
    second = deployment_lifecycle.fail_stuck(later)
    # THEN three fail in the first run, the other two in the next
    assert (len(first), len(second)) == (3, 2) and sorted(first + second) == sorted(started)
    statuses = {d["id"]: d["status"] for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json}
    assert {statuses[i] for i in started} == {"failed"}
    log = api.get(f"/api/{world['slug']}/deployments/{started[0]}/log", world["owner"]).json["items"]
    assert any("No result from the node" in line for item in log for line in item["log"] or [])
    # AND the first run made one Query, one transaction, two batched reads and one batch of events
    made = calls.by_operation()
    assert made["dynamodb:Query"] == 1 and made["dynamodb:TransactWriteItems"] == 1
    assert made["dynamodb:BatchGetItem"] == 2 and made["sqs:SendMessageBatch"] == 1
    assert calls.total <= 6, calls.summary()
    # AND the freed prefix can be deployed again
    assert start(api, world, started[0]).status_code == 204
    # AND its events expire after the retention (90 days)
    from chalicelib.db import keys
    from chalicelib.db.items import DeploymentEventItem

    ttls = [e.ttl for e in DeploymentEventItem.query(keys.deployment_events(started[0]))]
    assert ttls and all(abs(ttl - (ids.utcnow() + timedelta(days=90)).timestamp()) < 120 for ttl in ttls)


def test_a_ci_job_following_a_stuck_deployment_hears_it_fail(api, world, deploy_queue):
    from chalicelib import ids
    from chalicelib.services import deployment_lifecycle
    from tests.api.test_sockets import Follower

    # GIVEN a deployment in progress that a CI job follows, and whose agent never reports
    deployment = create(api, world, world["version"]()).json
    assert start(api, world, deployment["id"]).status_code == 204
    deploy_queue()
    follower = Follower(world["owner"].token)
    subscribe = {"action": "subscribe", "teamSlug": world["slug"], "deploymentId": deployment["id"]}
    assert follower.ask(subscribe)["status"] == "in-progress"
    # WHEN the schedule times it out
    assert deployment["id"] in deployment_lifecycle.fail_stuck(ids.utcnow() + timedelta(hours=2))
    # THEN the follower gets the timeout's log lines and the final status
    events, status = follower.next(), follower.next()
    assert events["type"] == "deployment-events" and "No result from the node" in json.dumps(events)
    assert status == {"type": "deployment-status", "deploymentId": deployment["id"], "status": "failed"}
    follower.close()


def test_a_malformed_deploy_message_is_reported_failed_for_the_dead_letter_queue(client):
    event = client.events.generate_sqs_event(message_bodies=["{not json"], queue_name="dyrector-deploy")
    assert len(client.lambda_.invoke("on_deploy", event).payload["batchItemFailures"]) == 1


def test_start_needs_a_connected_node(api, world):
    version = world["version"]()
    other = api.post(f"/api/{world['slug']}/nodes", world["owner"], {"name": "offline"}).json
    deployment = create(api, world, version, node=other["id"]).json
    refused = start(api, world, deployment["id"])
    assert refused.status_code == 412 and refused.json["property"] == "nodeId"


def test_copy_keeps_sealed_secrets_only_on_the_same_node(api, world):
    version = world["version"]()
    source = create(api, world, version).json
    base = f"/api/{world['slug']}/deployments"
    instance = api.get(f"{base}/{source['id']}", world["owner"]).json["instances"][0]
    api.patch(
        f"{base}/{source['id']}/instances/{instance['id']}",
        world["owner"],
        {"config": {"secrets": [{"key": "K", "value": "c2VhbGVk", "encrypted": True, "publicKey": world["public"]}]}},
    )
    other_node = api.post(f"/api/{world['slug']}/nodes", world["owner"], {"name": "other"}).json
    same = api.post(f"{base}/{source['id']}/copy", world["owner"], {"nodeId": world["node"]["id"], "prefix": "copy"})
    moved = api.post(f"{base}/{source['id']}/copy", world["owner"], {"nodeId": other_node["id"], "prefix": "web"})
    assert (same.status_code, moved.status_code) == (201, 201)

    def secret_value(deployment_id):
        details = api.get(f"{base}/{deployment_id}", world["owner"]).json
        return next(i for i in details["instances"] if i["image"]["name"] == "acme/web")["config"]["secrets"][0][
            "value"
        ]

    assert (secret_value(same.json["id"]), secret_value(moved.json["id"])) == ("c2VhbGVk", "")
    assert (
        api.post(
            f"{base}/{source['id']}/copy", world["owner"], {"nodeId": world["node"]["id"], "prefix": "copy"}
        ).status_code
        == 409
    )


def test_deployment_tokens_are_for_rolling_versions_and_unique(api, world):
    rolling = create(api, world, world["version"]("rolling")).json
    incremental = create(api, world, world["version"]("incremental"), prefix="inc").json
    base = f"/api/{world['slug']}/deployments"
    assert api.put(f"{base}/{incremental['id']}/token", world["owner"], {"name": "ci-token"}).status_code == 412
    issued = api.put(f"{base}/{rolling['id']}/token", world["owner"], {"name": "ci-token", "expirationInDays": 3})
    assert issued.status_code == 201 and issued.json["curl"].startswith("curl -X POST")
    assert api.put(f"{base}/{rolling['id']}/token", world["owner"], {"name": "ci-other"}).status_code == 409
    other = create(api, world, world["version"]("rolling"), prefix="other").json
    assert api.put(f"{base}/{other['id']}/token", world["owner"], {"name": "CI-TOKEN"}).status_code == 409
    # The token starts only its own deployment (another one: 403, before the deployment is looked up).
    headers = {"Authorization": f"Bearer {issued.json['token']}"}
    assert api.post(f"{base}/{other['id']}/start", headers=headers).status_code == 403
    assert api.get(f"{base}", headers=headers).status_code == 401
    assert api.delete(f"{base}/{rolling['id']}/token", world["owner"]).status_code == 204
    assert api.post(f"{base}/{rolling['id']}/start", headers=headers).status_code == 401


def test_new_versions_bring_the_default_versions_deployments_as_preparing(api, world):
    first = world["version"]("incremental")  # the project's first version: the default
    deployment = create(api, world, first).json
    base = f"/api/{world['slug']}/deployments"
    instance = api.get(f"{base}/{deployment['id']}", world["owner"]).json["instances"][0]
    api.patch(f"{base}/{deployment['id']}/instances/{instance['id']}", world["owner"], {"config": {"user": 42}})
    second = world["version"]("rolling", images=())
    copies = [d for d in api.get(base, world["owner"]).json if d["version"]["id"] == second["id"]]
    assert [(d["status"], d["prefix"], d["node"]["id"], d["note"]) for d in copies] == [
        ("preparing", "web", world["node"]["id"], "n")
    ]
    details = api.get(f"{base}/{copies[0]['id']}", world["owner"]).json
    assert sorted(i["config"].get("user") or 0 for i in details["instances"]) == [0, 42]
    images = api.get(
        f"/api/{world['slug']}/projects/{world['project']['id']}/versions/{second['id']}/images", world["owner"]
    ).json
    assert {i["image"]["id"] for i in details["instances"]} == {i["id"] for i in images}


def test_increase_copies_deployments_when_auto_copy_is_on(api, world, deploy_queue):
    parent = world["version"]("incremental")
    kept = create(api, world, parent, "kept").json
    running = create(api, world, parent, "running").json
    deploy_queue()
    start(api, world, running["id"])  # in progress: not copied
    path = f"/api/{world['slug']}/projects/{world['project']['id']}/versions/{parent['id']}/increase"
    child = api.post(path, world["owner"], {"name": "next"}).json
    copies = [
        d
        for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json
        if d["version"]["id"] == child["id"]
    ]
    assert [(d["prefix"], d["status"]) for d in copies] == [("kept", "preparing")]
    assert kept["id"] != copies[0]["id"]


def test_a_project_with_a_deployment_in_progress_is_not_deleted(api, world, deploy_queue):
    version = world["version"]()
    deployment = create(api, world, version).json
    deploy_queue()
    start(api, world, deployment["id"])
    path = f"/api/{world['slug']}/projects/{world['project']['id']}"
    assert api.get(path, world["owner"]).json["deletable"] is False
    assert api.delete(path, world["owner"]).status_code == 412


def test_deleting_a_version_or_project_removes_its_idle_deployments(api, world):
    doomed = world["version"]("rolling")
    create(api, world, doomed, "gone")
    base = f"/api/{world['slug']}/projects/{world['project']['id']}"
    assert api.delete(f"{base}/versions/{doomed['id']}", world["owner"]).status_code == 204
    assert [
        d
        for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json
        if d["version"]["id"] == doomed["id"]
    ] == []
    create(api, world, world["version"]("rolling"), "web")
    assert api.delete(base, world["owner"]).status_code == 204
    assert api.get(f"/api/{world['slug']}/deployments", world["owner"]).json == []
    assert api.get(f"/api/{world['slug']}/dashboard", world["owner"]).json["deployments"] == 0


def test_a_deployment_result_is_announced_to_subscribed_notifications(
    api, world, client, deploy_queue, events_queue, receiver
):
    api.post(
        f"/api/{world['slug']}/notifications",
        world["owner"],
        {
            "type": "webhook",
            "name": "ci",
            "url": receiver.url + "/deploys",
            "active": True,
            "enabledEvents": ["deployment-created"],
        },
    )
    deployment = create(api, world, world["version"]()).json
    deploy_queue()
    events_queue()
    start(api, world, deployment["id"])
    api.post(
        f"/api/agent/deployments/{deployment['id']}/events",
        headers=agent_headers(world["token"]),
        body={"attempt": 1, "events": [{"type": "deployment-status", "status": "failed"}]},
    )
    [announced] = [b for b in events_queue() if json.loads(b)["type"] == "deployment-status"]
    assert json.loads(announced)["status"] == "failed" and json.loads(announced)["prefix"] == "web"
    # The events worker fans it out and delivers it.
    for bodies in ([announced], None):
        bodies = bodies or events_queue()
        event = client.events.generate_sqs_event(message_bodies=bodies, queue_name="dyrector-events")
        assert client.lambda_.invoke("on_event", event).payload == {"batchItemFailures": []}
    [body] = receiver.bodies("/deploys")
    assert body["event"] == "deployment-status" and "failed" in body["message"] and "edge" in body["message"]
    assert body["message"].startswith("Ada Lovelace's deployment of")


def counts(api, w) -> tuple[int, int, bool, bool]:
    """(deployments, failed deployments) on the dashboard, the node's `inUse`, the project's `deletable`."""
    board = api.get(f"/api/{w['slug']}/dashboard", w["owner"]).json
    node = api.get(f"/api/{w['slug']}/nodes/{w['node']['id']}", w["owner"]).json
    project = api.get(f"/api/{w['slug']}/projects/{w['project']['id']}", w["owner"]).json
    return board["deployments"], board["failedDeployments"], node["inUse"], project["deletable"]


def report(api, w, deployment_id, attempt, status):
    body = {"attempt": attempt, "events": [{"type": "deployment-status", "status": status}]}
    return api.post(f"/api/agent/deployments/{deployment_id}/events", headers=agent_headers(w["token"]), body=body)


def test_counts_follow_every_status_move_into_and_out_of_failed(api, world, deploy_queue):
    from chalicelib import ids
    from chalicelib.services import deployment_lifecycle

    assert counts(api, world) == (0, 0, False, True)
    deployment = create(api, world, world["version"]()).json
    assert counts(api, world) == (1, 0, True, True)
    start(api, world, deployment["id"])
    assert counts(api, world) == (1, 0, True, False)  # in progress: the project stays
    deployment_lifecycle.fail_stuck(ids.utcnow() + timedelta(hours=2))
    assert counts(api, world) == (1, 1, True, True)
    assert start(api, world, deployment["id"]).status_code == 204  # out of failed again
    assert counts(api, world) == (1, 0, True, False)
    report(api, world, deployment["id"], 2, "failed")
    report(api, world, deployment["id"], 2, "failed")  # a repeated report counts nothing
    assert counts(api, world) == (1, 1, True, True)
    assert api.delete(f"/api/{world['slug']}/deployments/{deployment['id']}", world["owner"]).status_code == 204
    assert counts(api, world) == (0, 0, False, True)
    deploy_queue()


def test_a_failed_deployment_made_obsolete_leaves_the_failed_count(api, world, deploy_queue):
    version = world["version"]("incremental")
    first = create(api, world, version).json
    start(api, world, first["id"])
    report(api, world, first["id"], 1, "failed")
    assert counts(api, world)[:2] == (1, 1)
    again = api.post(
        f"/api/{world['slug']}/deployments/{first['id']}/copy",
        world["owner"],
        {"nodeId": world["node"]["id"], "prefix": "web"},
    ).json
    start(api, world, again["id"])
    report(api, world, again["id"], 1, "successful")
    statuses = {d["id"]: d["status"] for d in api.get(f"/api/{world['slug']}/deployments", world["owner"]).json}
    assert statuses == {first["id"]: "obsolete", again["id"]: "successful"}
    assert counts(api, world) == (2, 0, True, True)
    deploy_queue()


def test_a_node_with_deployments_is_not_deleted_even_when_one_is_created_meanwhile(api, world):
    from chalicelib.db import nodes as node_repo
    from chalicelib.errors import PreconditionFailedError

    node = node_repo.get(world["team"]["id"], world["node"]["id"])  # GIVEN the node as read before a deletion
    assert node.deployment_count == 0
    create(api, world, world["version"]())  # WHEN a deployment lands before the deletion's write
    # THEN the deletion is refused by the write itself (not only by the check before it)
    with pytest.raises(PreconditionFailedError):
        node_repo.delete(world["team"]["id"], node)
    assert api.get(f"/api/{world['slug']}/nodes/{world['node']['id']}", world["owner"]).json["inUse"] is True
