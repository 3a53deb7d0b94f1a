"""A container's log and inspection end to end (issue 17): `make run`'s stack, an agent installed by its
install command, a real deployment with a sealed secret on the real Docker engine, and the node's
container routes reading what that container wrote and how it runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.fixtures.local_stack import agent_log, v2_registry, wait_connected
from tests.fixtures.waiting import wait_for
from tests.integration.test_deployments_e2e import final_status, kv, set_secret_with_cli

SCRIPT = (
    # (pauses around the stderr line: the engine times each stream as it reads it)
    'echo "starting in $MODE"; echo "password is $DB_PASSWORD"; sleep 0.3; echo "to stderr" >&2; sleep 0.3; '
    'i=0; while [ $i -lt 30 ]; do echo "line $i"; i=$((i+1)); done; exec sleep 600'
)


@pytest.fixture()
def talker(installed_node, local_registry, docker_client):
    """A deployed container `talker` that writes its secret and 33 lines, and the secret's value."""
    api, slug, node, pid, data_dir = installed_node
    wait_connected(api, slug, node, data_dir)
    registry = v2_registry(api, slug, local_registry)
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "chatty"}, expect=201).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    [image] = api.call(
        "POST", images, [{"registryId": registry["id"], "images": ["acme/worker:latest"]}], expect=201
    ).json()
    config = {
        "name": "talker",
        "environment": [kv("MODE", "prod")],
        "secrets": [{"key": "DB_PASSWORD", "required": True}],
        "volumes": [{"name": "data", "path": "/data", "type": "rwo"}],
        "commands": [{"key": "sh"}, {"key": "-c"}],
        "args": [{"key": SCRIPT}],
    }
    api.call("PATCH", f"{images}/{image['id']}", {"config": config}, expect=204)
    prefix = f"r{uuid.uuid4().hex[:8]}"
    created = api.call(
        "POST",
        f"/api/{slug}/deployments",
        {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix},
        expect=201,
    ).json()
    path = f"/api/{slug}/deployments/{created['id']}"
    [instance] = api.call("GET", path).json()["instances"]
    secret = f"pw-{uuid.uuid4().hex}"
    set_secret_with_cli(api, slug, created["id"], instance["id"], secret)
    api.call("POST", f"{path}/start", expect=204)
    try:
        assert final_status(api, path, data_dir) == "successful", api.call("GET", f"{path}/log?take=100").text
        yield api, f"/api/{slug}/nodes/{node['id']}", prefix, secret, data_dir
    finally:
        for container in docker_client.containers.list(
            all=True, filters={"label": f"org.dyrectorio.container.prefix={prefix}"}
        ):
            container.remove(force=True)


@pytest.mark.timeout(300)
def test_a_deployed_containers_log_and_inspection_are_read_through_the_agent(talker):
    api, node, prefix, secret, data_dir = talker
    base = f"{node}/{prefix}/containers/talker"
    # WHEN the log is read THEN it holds what the container wrote, timed, each line's stream told, the secret masked
    log = wait_for(
        lambda: (
            (reply := api.call("GET", f"{base}/log?tail=1000", expect=200)).json()["lines"][-1:]
            and reply.json()["lines"][-1]["text"] == "line 29"
            and reply
        ),
        30,
        "the container's lines never showed; agent log:\n" + agent_log(data_dir),
    )
    lines = log.json()["lines"]
    assert secret not in log.text and log.json()["truncated"] is False
    assert [line["text"] for line in lines[:2]] == ["starting in prod", "password is ******"]
    assert {"stream": "stderr", "text": "to stderr"} in [{k: line[k] for k in ("stream", "text")} for line in lines]
    assert len(lines) == 33 and all(line["time"] for line in lines)
    # tail: the newest lines only; since: none written after it
    tail = api.call("GET", f"{base}/log?tail=5", expect=200).json()["lines"]
    assert [line["text"] for line in tail] == [f"line {i}" for i in range(25, 30)]
    later = quote((datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    assert api.call("GET", f"{base}/log?since={later}", expect=200).json()["lines"] == []
    first = quote(lines[0]["time"])
    assert len(api.call("GET", f"{base}/log?since={first}", expect=200).json()["lines"]) == 33
    assert api.call("GET", f"{base}/log?tail=1001").status_code == 400

    # WHEN it is inspected THEN its state, image, mounts and environment show, the secret masked
    inspected = api.call("GET", f"{base}/inspect", expect=200)
    found = inspected.json()
    assert secret not in inspected.text
    assert (found["id"], found["state"], found["status"], found["restartCount"], found["health"]) == (
        {"prefix": prefix, "name": "talker"},
        "running",
        "running",
        0,
        None,
    )
    assert found["image"].endswith("/acme/worker:latest") and found["imageId"].startswith("sha256:")
    assert found["createdAt"] and found["startedAt"] and found["exitCode"] is None
    env = {v["key"]: (v["value"], v["secret"]) for v in found["environment"]}
    assert env["DB_PASSWORD"] == ("******", True) and env["MODE"] == ("prod", False)
    assert found["labels"]["org.dyrectorio.container.prefix"] == prefix
    assert [(m["type"], m["destination"]) for m in found["mounts"]] == [("volume", "/data")]

    # An unknown container is a 404 naming it
    missing = api.call("GET", f"{node}/{prefix}/containers/nope/log")
    assert missing.status_code == 404
    assert missing.json() == {"message": "Container not found.", "property": "name", "value": "nope"}
    assert api.call("GET", f"{node}/{prefix}/containers/nope/inspect").status_code == 404
    # AND the secret is in nothing the agent logged
    assert secret not in agent_log(data_dir)


@pytest.mark.timeout(200)
def test_a_container_without_a_prefix_is_read_by_the_routes_without_one(installed_node, docker_client, busybox_image):
    api, slug, node, pid, data_dir = installed_node
    wait_connected(api, slug, node, data_dir)
    name = f"solo{uuid.uuid4().hex[:8]}"
    docker_client.containers.run(
        busybox_image, ["sh", "-c", "echo solo says hi; exec sleep 600"], name=name, detach=True
    )
    try:
        base = f"/api/{slug}/nodes/{node['id']}/containers/{name}"
        lines = wait_for(
            lambda: api.call("GET", f"{base}/log", expect=200).json()["lines"],
            30,
            "no log line; agent log:\n" + agent_log(data_dir),
        )
        assert [(line["stream"], line["text"]) for line in lines] == [("stdout", "solo says hi")]
        found = api.call("GET", f"{base}/inspect", expect=200).json()
        assert (found["id"], found["state"], found["image"]) == ({"prefix": "", "name": name}, "running", busybox_image)
    finally:
        docker_client.containers.get(name).remove(force=True)
