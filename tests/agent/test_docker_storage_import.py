"""Storage import on Docker with a real rclone and a real S3 endpoint (dyrector §6 item 9): before the
container starts, the bucket's files are synced into the volume its config names; a failed import
fails the deployment with rclone's own words and leaves no import container behind."""

from __future__ import annotations

import uuid

import pytest

from agent.runtime.docker import DockerRuntime
from agent.settings import DockerSettings
from chalicelib.contracts.agent import StorageSource
from tests.agent.test_docker_deploy import command, log_lines, workload
from tests.fixtures.node_tools import new_bucket

pytestmark = pytest.mark.agent

ACCESS, SECRET = "AKIASTORAGE", "storage-secret-key"
# Reads the imported file at start: without it the container exits and the deployment fails.
READER = "cat /srv/site/index.html /srv/site/css/app.css && trap 'exit 0' TERM; sleep 600 & wait"


def opened(sealed: str) -> str:
    """The test's stand-in for the agent's key: `sealed:<value>` opens to `<value>`."""
    assert sealed.startswith("sealed:"), sealed
    return sealed.removeprefix("sealed:")


@pytest.fixture()
def site_bucket(bridge_s3):
    name = f"site-{uuid.uuid4().hex[:8]}"
    client = new_bucket(bridge_s3, name, ACCESS, SECRET)
    client.put_object(Bucket=name, Key="www/index.html", Body=b"<h1>from the bucket</h1>\n")
    client.put_object(Bucket=name, Key="www/css/app.css", Body=b"body{}\n")
    client.put_object(Bucket=name, Key="other/skip.txt", Body=b"not under www\n")
    return client, name


@pytest.fixture()
def volumes_of(docker_client, prefix):
    """Removes the prefix's containers and then its volumes afterwards."""
    yield
    labelled = {"label": f"org.dyrectorio.container.prefix={prefix}"}
    for container in docker_client.containers.list(all=True, filters=labelled):
        container.remove(force=True)
    for volume in docker_client.volumes.list(filters={"label": f"org.dyrectorio.container.prefix={prefix}"}):
        volume.remove(force=True)


def reader(image: str, bucket: str, endpoint: str, keys: bool = True):
    # A node on the LAN of its storage: the import runs on the default bridge and reaches the
    # endpoint (on the engine's host here) by the name containers have for it.
    port = endpoint.rsplit(":", 1)[1]
    site = workload(
        image,
        "web",
        ["sh", "-c", READER],
        volumes=[{"name": "site", "path": "/srv/site", "type": "rwo"}],
        storage={"storageId": "st-1", "bucket": bucket, "path": "site"},
    )
    site.storage = StorageSource(
        url=f"http://host.docker.internal:{port}",
        sealed_access_key=f"sealed:{ACCESS}" if keys else None,
        sealed_secret_key=f"sealed:{SECRET}" if keys else None,
    )
    return site


def deploy(docker_client, request, rclone_image):
    events: list = []
    ok = DockerRuntime(docker_client, DockerSettings(rclone_image=rclone_image)).deploy(request, events.extend, opened)
    return ok, events


@pytest.mark.timeout(180)
def test_the_buckets_files_are_in_the_volume_before_the_container_starts_and_a_redeploy_syncs_again(
    docker_client, busybox_image, rclone_image, bridge_s3, site_bucket, prefix, volumes_of
):
    client, bucket = site_bucket
    # WHEN a container whose config imports <bucket>/www into its volume `site` is deployed
    ok, events = deploy(docker_client, command(prefix, reader(busybox_image, f"{bucket}/www", bridge_s3)), rclone_image)
    # THEN it started with the files there (it reads them at start) and the importer is gone
    assert ok, log_lines(events)
    container = docker_client.containers.get(f"{prefix}-web")
    assert container.logs().decode() == "<h1>from the bucket</h1>\nbody{}\n"
    assert docker_client.containers.list(all=True, filters={"name": f"{prefix}-web-import"}) == []
    assert "web-import: importing s3:" in log_lines(events)
    assert SECRET not in str(events) and ACCESS not in str(events)

    # WHEN the bucket changes and the container is redeployed THEN the volume holds exactly the bucket again
    client.put_object(Bucket=bucket, Key="www/index.html", Body=b"<h1>changed</h1>\n")
    client.put_object(Bucket=bucket, Key="www/css/app.css", Body=b"p{}\n")
    ok, events = deploy(docker_client, command(prefix, reader(busybox_image, f"{bucket}/www", bridge_s3)), rclone_image)
    assert ok, log_lines(events)
    assert docker_client.containers.get(f"{prefix}-web").logs().decode() == "<h1>changed</h1>\np{}\n"
    listing = docker_client.containers.get(f"{prefix}-web").exec_run(["ls", "/srv/site"]).output.decode().split()
    assert listing == ["css", "index.html"]  # `other/` was never imported: only the bucket's sub-folder


@pytest.mark.timeout(180)
def test_a_failed_import_fails_the_deployment_with_rclones_output_and_starts_nothing(
    docker_client, busybox_image, rclone_image, bridge_s3, prefix, volumes_of
):
    missing = f"no-such-bucket-{uuid.uuid4().hex[:6]}"
    ok, events = deploy(docker_client, command(prefix, reader(busybox_image, missing, bridge_s3)), rclone_image)
    assert not ok
    lines = log_lines(events)
    assert "web: the storage import exited with" in lines
    assert "web-import:" in lines and ("directory not found" in lines or "NoSuchBucket" in lines), lines
    assert SECRET not in str(events)
    assert docker_client.containers.list(all=True, filters={"name": f"{prefix}-web"}) == []


def test_a_storage_path_that_is_no_volume_of_the_container_fails_the_deployment(
    docker_client, busybox_image, rclone_image, prefix
):
    site = workload(busybox_image, "web", ["sh", "-c", READER], storage={"storageId": "s", "bucket": "b", "path": "x"})
    site.storage = StorageSource(url="s3.example.com")
    ok, events = deploy(docker_client, command(prefix, site), rclone_image)
    assert not ok and "web: storage.path 'x' names no persistent volume of the container" in log_lines(events)
