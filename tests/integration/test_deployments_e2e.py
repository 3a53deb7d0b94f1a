"""Deployments end to end, real parts only: `make run`'s stack, an agent installed by its install
command, the real Docker engine, and a real registry with htpasswd auth holding the images."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import requests

from tests.fixtures.docker_engine import prefixed_containers
from tests.fixtures.local_stack import agent_log, free_port, get_text, v2_registry, wait_connected
from tests.fixtures.waiting import wait_for

SCRIPT = 'mkdir -p /data/www && echo "$GREETING" > /data/www/index.html && exec httpd -f -p 8080 -h /data/www'


def kv(key, value):
    return {"key": key, "value": value}


def final_status(api, path, data_dir, timeout=90):
    return wait_for(
        lambda: (s := api.call("GET", path).json()["status"]) in ("successful", "failed") and s,
        timeout,
        "deployment never finished; agent log:\n" + agent_log(data_dir),
    )


@pytest.fixture()
def deployment(installed_node, local_registry, docker_client):
    api, slug, node, pid, data_dir = installed_node
    wait_connected(api, slug, node, data_dir)
    registry = v2_registry(api, slug, local_registry)
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "shop"}, expect=201).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
    images_path = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    web, worker = api.call(
        "POST",
        images_path,
        [{"registryId": registry["id"], "images": ["acme/web:1.0", "acme/worker:latest"]}],
        expect=201,
    ).json()
    port = free_port()
    api.call(
        "PATCH",
        f"{images_path}/{web['id']}",
        {
            "config": {
                "name": "web",
                "environment": [kv("GREETING", "hello"), kv("MODE", "prod")],
                "ports": [{"internal": 8080, "external": port}],
                "volumes": [{"name": "data", "path": "/data", "type": "rwo"}],
                "dockerLabels": [kv("team", "storefront")],
                "restartPolicy": "always",
                "secrets": [],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                "args": [{"key": SCRIPT}],
            }
        },
        expect=204,
    )
    api.call(
        "PATCH",
        f"{images_path}/{worker['id']}",
        {
            "config": {
                "name": "worker",
                "environment": [kv("MODE", "batch")],
                "secrets": [{"key": "DB_PASSWORD", "required": True}],
                "commands": [{"key": "sh"}, {"key": "-c"}],
                "args": [{"key": "sleep 600"}],
            }
        },
        expect=204,
    )
    prefix = f"e{uuid.uuid4().hex[:8]}"
    created = api.call(
        "POST",
        f"/api/{slug}/deployments",
        {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix, "note": "first"},
        expect=201,
    ).json()
    try:
        yield api, slug, node, data_dir, created, prefix, port, images_path
    finally:
        labelled = {"label": f"org.dyrectorio.container.prefix={prefix}"}
        for container in docker_client.containers.list(all=True, filters=labelled):
            container.remove(force=True)


def set_secret_with_cli(api, slug: str, deployment_id: str, instance_id: str, secret: str) -> None:
    """`python -m cli set-secret`: seals DB_PASSWORD for the node and stores it on the instance."""
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "set-secret",
            "--url",
            api.base,
            "--token",
            api.token,
            "--team",
            slug,
            "--deployment",
            deployment_id,
            "--instance",
            instance_id,
            "--key",
            "DB_PASSWORD",
            secret,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr


def assert_running_as_configured(docker_client, prefix: str, port: int, secret: str):
    """Both containers run with the image, env, sealed secret, labels, port, restart policy and volume of
    their configs; returns the web container."""
    web = docker_client.containers.get(f"{prefix}-web")
    worker_container = docker_client.containers.get(f"{prefix}-worker")
    assert (web.status, worker_container.status) == ("running", "running")
    env = dict(item.split("=", 1) for item in web.attrs["Config"]["Env"])
    assert (env["GREETING"], env["MODE"]) == ("hello", "prod")
    worker_env = dict(item.split("=", 1) for item in worker_container.attrs["Config"]["Env"])
    assert worker_env["DB_PASSWORD"] == secret and worker_env["MODE"] == "batch"
    assert web.labels["team"] == "storefront" and web.labels["org.dyrectorio.container.prefix"] == prefix
    assert worker_container.labels["org.dyrectorio.secret.keys"] == "DB_PASSWORD"
    assert web.attrs["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"] == str(port)
    assert web.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert [m["Destination"] for m in web.attrs["Mounts"]] == ["/data"]
    assert web.attrs["Config"]["Image"].endswith("/acme/web:1.0")
    return web


@pytest.mark.timeout(400)
def test_deploy_runs_exactly_the_configured_containers_and_a_redeploy_replaces_them(deployment, docker_client):
    api, slug, node, data_dir, created, prefix, port, images_path = deployment
    path = f"/api/{slug}/deployments/{created['id']}"
    details = api.call("GET", path).json()
    worker = next(i for i in details["instances"] if i["image"]["name"] == "acme/worker")

    # A required secret without a value refuses to start.
    refused = api.call("POST", f"{path}/start")
    assert refused.status_code == 412 and refused.json()["property"] == "instanceSecrets"

    # GIVEN the secret sealed for the node with the CLI (the platform never sees it in clear)
    secret = f"pw-{uuid.uuid4().hex}"
    set_secret_with_cli(api, slug, created["id"], worker["id"], secret)

    # WHEN the deployment starts THEN it ends successful with both containers running
    api.call("POST", f"{path}/start", expect=204)
    assert final_status(api, path, data_dir) == "successful", api.call("GET", f"{path}/log?take=100").text
    web = assert_running_as_configured(docker_client, prefix, port, secret)
    assert wait_for(lambda: get_text(port) == "hello", 20, "the web container does not answer")

    # The node reports which secret keys the running container holds (never their values).
    secrets = api.call("GET", f"{path}/instances/{worker['id']}/secrets", expect=200).json()
    assert secrets == {
        "container": {"prefix": prefix, "name": "worker"},
        "publicKey": details["publicKey"],
        "keys": ["DB_PASSWORD"],
    }

    # The log tells what happened and never carries the secret.
    log = api.call("GET", f"{path}/log?skip=0&take=100", expect=200)
    assert secret not in log.text and secret not in api.call("GET", path).text
    kinds = {item["type"] for item in log.json()["items"]}
    assert {"deployment-status", "log", "container-state"} <= kinds
    assert api.call("GET", path).json()["lastTry"] == 1

    # WHEN the config changes and the deployment runs again THEN the containers are replaced
    web_image = next(i for i in details["instances"] if i["image"]["name"] == "acme/web")
    api.call(
        "PATCH", f"{path}/instances/{web_image['id']}", {"config": {"environment": [kv("GREETING", "bye")]}}, expect=204
    )
    api.call("POST", f"{path}/start", expect=204)
    assert final_status(api, path, data_dir) == "successful"
    replaced = docker_client.containers.get(f"{prefix}-web")
    assert replaced.id != web.id
    assert wait_for(lambda: get_text(port) == "bye", 20, "the replaced container does not answer")

    # WHEN the prefix is deleted through the node THEN its containers are gone
    api.call("DELETE", f"/api/{slug}/nodes/{node['id']}/{prefix}/containers", expect=204)
    labelled = {"label": f"org.dyrectorio.container.prefix={prefix}"}
    assert docker_client.containers.list(all=True, filters=labelled) == []


@pytest.mark.timeout(300)
def test_unknown_image_tag_fails_with_a_readable_log_line(deployment, local_registry):
    api, slug, node, data_dir, created, prefix, port, images_path = deployment
    # An unchecked registry is not verified when images are added: the pull is where it fails.
    unchecked = api.call(
        "POST",
        f"/api/{slug}/registries",
        {"type": "unchecked", "name": "raw", "details": {"url": local_registry.host}},
        expect=201,
    ).json()
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "broken"}, expect=201).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
    api.call(
        "POST",
        f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images",
        [{"registryId": unchecked["id"], "images": ["acme/web:9.9.9"]}],
        expect=201,
    )
    broken = api.call(
        "POST",
        f"/api/{slug}/deployments",
        {"versionId": version["id"], "nodeId": node["id"], "prefix": f"{prefix}-x"},
        expect=201,
    ).json()
    path = f"/api/{slug}/deployments/{broken['id']}"
    api.call("POST", f"{path}/start", expect=204)
    assert final_status(api, path, data_dir) == "failed"
    lines = [line for item in api.call("GET", f"{path}/log?take=100").json()["items"] for line in item["log"] or []]
    assert any("acme/web:9.9.9 could not be pulled" in line for line in lines), lines


@pytest.mark.timeout(300)
def test_deployment_token_curl_starts_the_deployment_and_nothing_else(deployment):
    api, slug, node, data_dir, created, prefix, port, images_path = deployment
    path = f"/api/{slug}/deployments/{created['id']}"
    issued = api.call("PUT", f"{path}/token", {"name": f"ci-{prefix}", "expirationInDays": 1}, expect=201).json()
    assert set(issued) == {"id", "name", "createdAt", "expiresAt", "token", "curl"}
    assert api.call("GET", path).json()["token"]["name"] == f"ci-{prefix}"
    # The token can do nothing but start this deployment.
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert requests.get(f"{api.base}/api/{slug}/deployments", headers=headers, timeout=10).status_code == 401
    # Running the curl command verbatim starts it (the worker secret is missing: 412 is the platform answering).
    ran = subprocess.run(
        issued["curl"] + " -s -o /dev/null -w '%{http_code}'", shell=True, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout == "412"
    api.call("DELETE", f"{path}/token", expect=204)
    ran = subprocess.run(
        issued["curl"] + " -s -o /dev/null -w '%{http_code}'", shell=True, capture_output=True, text=True, timeout=60
    )
    assert ran.stdout == "401"


@pytest.mark.timeout(300)
def test_an_agent_killed_mid_deployment_fails_it_by_timeout_and_the_node_goes_unreachable(deployment, docker_client):
    import os
    import signal

    api, slug, node, data_dir, created, prefix, port, images_path = deployment
    pid = int((data_dir / "agent.pid").read_text())
    # GIVEN a deployment whose first container takes long to prepare (an init container that sleeps)
    version_images = api.call("GET", images_path).json()
    api.call(
        "PATCH",
        f"{images_path}/{version_images[0]['id']}",
        {
            "config": {
                "initContainers": [
                    {
                        "name": "slow",
                        "image": f"{_registry_host(api, slug)}/acme/web:1.0",
                        "command": [{"key": "sleep"}],
                        "args": [{"key": "120"}],
                    }
                ]
            }
        },
        expect=204,
    )
    worker = next(
        i
        for i in api.call("GET", f"/api/{slug}/deployments/{created['id']}").json()["instances"]
        if i["image"]["name"] == "acme/worker"
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "set-secret",
            "--url",
            api.base,
            "--token",
            api.token,
            "--team",
            slug,
            "--deployment",
            created["id"],
            "--instance",
            worker["id"],
            "--key",
            "DB_PASSWORD",
            "x",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    path = f"/api/{slug}/deployments/{created['id']}"
    api.call("POST", f"{path}/start", expect=204)
    wait_for(
        lambda: any(
            c.name.endswith("-slow") for c in prefixed_containers(docker_client, prefix, include_stopped=False)
        ),
        60,
        "the init container never started; agent log:\n" + agent_log(data_dir),
    )
    # WHEN the agent dies mid-way
    os.kill(pid, signal.SIGKILL)
    # THEN the schedule fails the deployment after the timeout and marks the node unreachable
    assert final_status(api, path, data_dir, timeout=90) == "failed"
    lines = [line for i in api.call("GET", f"{path}/log?take=100").json()["items"] for line in i["log"] or []]
    assert any("No result from the node" in line for line in lines)
    wait_for(
        lambda: api.call("GET", f"/api/{slug}/nodes/{node['id']}").json()["status"] == "unreachable",
        60,
        "the node stayed connected",
    )
    for container in prefixed_containers(docker_client, prefix):
        if container.name.endswith("-slow"):
            container.remove(force=True)


def _registry_host(api, slug) -> str:
    registries = api.call("GET", f"/api/{slug}/registries").json()
    return next(r["url"] for r in registries if r["type"] == "v2").split("://", 1)[-1]
