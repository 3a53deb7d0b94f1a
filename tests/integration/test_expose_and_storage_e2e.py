"""Issue 17 end to end, real parts only: `make run`'s stack, an agent installed by its install command
with the node settings an operator would give it (ROOT_DOMAIN, RCLONE_IMAGE), a real Traefik on the
host, rclone, and the stack's own S3. A storage's files reach the container's volume before it starts,
and the container is reachable through Traefik by its host name and path, also after a redeploy."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.local_stack import agent_log, install_agent, stop_agent, wait_connected
from tests.fixtures.node_tools import http_get, new_bucket
from tests.fixtures.waiting import wait_for

ROOT_DOMAIN = "nodes.test"
ACCESS, SECRET = "AKIAE2ESTORAGE", "e2e-storage-secret"
SERVE = "exec httpd -f -p 8080 -h /srv/site"


def kv(key, value):
    return {"key": key, "value": value}


@pytest.fixture()
def storage_node(local_stack, rclone_image, tmp_path, monkeypatch):
    """A node whose agent has ROOT_DOMAIN and RCLONE_IMAGE set. The stack's S3 listens on the host's
    loopback, so the imports run on the host network (RCLONE_NETWORK=host); a node would normally
    reach its storage over its own network, as the bridge case in tests/agent shows."""
    monkeypatch.setenv("ROOT_DOMAIN", ROOT_DOMAIN)
    monkeypatch.setenv("RCLONE_IMAGE", rclone_image)
    monkeypatch.setenv("RCLONE_NETWORK", "host")
    data_dir = tmp_path / "agent"
    api, slug, node, pid = install_agent(local_stack, data_dir)
    try:
        wait_connected(api, slug, node, data_dir)
        yield api, slug, node, data_dir
    finally:
        stop_agent(pid)


def final_status(api, path, data_dir, timeout=120):
    return wait_for(
        lambda: (s := api.call("GET", path).json()["status"]) in ("successful", "failed") and s,
        timeout,
        "deployment never finished; agent log:\n" + agent_log(data_dir),
    )


@pytest.mark.timeout(400)
def test_a_storage_is_imported_into_the_volume_and_the_container_is_routed_through_traefik(
    storage_node, local_stack_process, busybox_image, docker_client, host_traefik
):
    api, slug, node, data_dir = storage_node
    # GIVEN a bucket in the stack's S3 and a private storage pointing at it
    bucket = f"site-{uuid.uuid4().hex[:8]}"
    s3 = new_bucket(local_stack_process.aws_endpoint, bucket, ACCESS, SECRET)
    s3.put_object(Bucket=bucket, Key="public/index.html", Body=b"from the bucket\n")
    storage = api.call(
        "POST",
        f"/api/{slug}/storages",
        {"name": "site files", "url": local_stack_process.aws_endpoint, "accessKey": ACCESS, "secretKey": SECRET},
        expect=201,
    ).json()
    # and an image whose config imports <bucket>/public into its volume and is exposed under /shop
    # (the image is the engine's local busybox: an unchecked local registry deploys it without a pull)
    registry = api.call(
        "POST",
        f"/api/{slug}/registries",
        {"type": "unchecked", "name": "local", "details": {"local": True}},
        expect=201,
    ).json()
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versionless", "name": "site"}, expect=201).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    [web] = api.call("POST", images, [{"registryId": registry["id"], "images": [busybox_image]}], expect=201).json()
    config = {
        "name": "web",
        "ports": [{"internal": 8080}],
        "volumes": [{"name": "site", "path": "/srv/site", "type": "rwo"}],
        "storage": {"storageId": storage["id"], "bucket": f"{bucket}/public", "path": "site"},
        "expose": "expose",
        "routing": {"path": "/shop", "stripPath": True},
        "commands": [{"key": "sh"}, {"key": "-c"}],
        "args": [{"key": SERVE}],
    }
    api.call("PATCH", f"{images}/{web['id']}", {"config": config}, expect=204)
    assert api.call("GET", f"/api/{slug}/storages/{storage['id']}").json()["inUse"] is True
    prefix = f"x{uuid.uuid4().hex[:8]}"
    created = api.call(
        "POST", f"/api/{slug}/deployments", {"versionId": version["id"], "nodeId": node["id"], "prefix": prefix}
    ).json()
    path = f"/api/{slug}/deployments/{created['id']}"
    host = f"web.{prefix}.{ROOT_DOMAIN}"
    try:
        # WHEN it is deployed THEN it succeeds and Traefik routes the host and path to the imported file
        api.call("POST", f"{path}/start", expect=204)
        assert final_status(api, path, data_dir) == "successful", api.call("GET", f"{path}/log?take=100").text
        reply = (200, "from the bucket\n")
        wait_for(lambda: http_get(f"http://127.0.0.1:{host_traefik}/shop/", host=host) == reply, 30, "not routed")
        log = api.call("GET", f"{path}/log?skip=0&take=100").text
        assert "web-import: importing s3:" in log and SECRET not in log and ACCESS not in log

        # WHEN the bucket changes and the deployment runs again THEN the new files are served the same way
        s3.put_object(Bucket=bucket, Key="public/index.html", Body=b"updated\n")
        api.call("POST", f"{path}/start", expect=204)
        wait_for(lambda: api.call("GET", path).json()["lastTry"] == 2, 30, "the redeploy did not start")
        assert final_status(api, path, data_dir) == "successful", api.call("GET", f"{path}/log?take=100").text
        reply = (200, "updated\n")
        wait_for(lambda: http_get(f"http://127.0.0.1:{host_traefik}/shop/", host=host) == reply, 30, "not rerouted")
        # and the storage stays protected while configs name it
        assert api.call("DELETE", f"/api/{slug}/storages/{storage['id']}").status_code == 412
    finally:
        labelled = {"label": f"org.dyrectorio.container.prefix={prefix}"}
        for container in docker_client.containers.list(all=True, filters=labelled):
            container.remove(force=True)
        for volume in docker_client.volumes.list(filters=labelled):
            volume.remove(force=True)
