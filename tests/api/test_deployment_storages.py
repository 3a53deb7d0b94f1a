"""Storages and deployments: a storage named by an instance or deployment config counts as in use (it
cannot be deleted under a deployment that would then fail), and the deploy command carries the
storage's URL and keys sealed to the node's agent."""

from __future__ import annotations

import base64

import pytest
from nacl.public import PrivateKey, SealedBox

from chalicelib.contracts.agent import AGENT_VERSION
from chalicelib.db import deployments as deployment_repo
from tests.api.test_storages import ACCESS, SECRET, body
from tests.fixtures.agents import AgentSocket, agent_headers, install_token


@pytest.fixture()
def agent_version():
    return AGENT_VERSION


@pytest.fixture()
def node_type():
    return "docker"


@pytest.fixture()
def world(api, registry_item, agent_package, agent_version, node_type):
    """A team with a connected node whose agent key the test holds, and a versioned project."""
    owner = api.signup()
    team = api.create_team(owner)
    slug = team["slug"]
    node = api.post(f"/api/{slug}/nodes", owner, {"name": "edge"}).json
    script = api.post(f"/api/{slug}/nodes/{node['id']}/script", owner, {"type": node_type, "scriptType": "shell"}).json
    key = PrivateKey.generate()
    token = api.post(
        "/api/agent/register",
        headers=agent_headers(install_token(script["script"])),
        body={
            "version": agent_version,
            "type": node_type,
            "publicKey": base64.b64encode(bytes(key.public_key)).decode(),
        },
    ).json["token"]
    socket = AgentSocket(token)  # the node is connected while its push channel is open
    project = api.create_project(owner, slug, "versioned")
    registry = registry_item(team)

    def version():
        created = api.create_version(owner, slug, project["id"], kind="rolling")
        images = f"/api/{slug}/projects/{project['id']}/versions/{created['id']}/images"
        api.post(images, owner, [{"registryId": registry, "images": ["acme/web:1", "acme/worker:1"]}])
        return created

    yield {"owner": owner, "team": team, "slug": slug, "node": node, "token": token, "key": key, "version": version}
    socket.close()


def create(api, w, version, prefix="web"):
    body_ = {"versionId": version["id"], "nodeId": w["node"]["id"], "prefix": prefix}
    return api.post(f"/api/{w['slug']}/deployments", w["owner"], body_)


def start(api, w, deployment_id):
    return api.post(f"/api/{w['slug']}/deployments/{deployment_id}/start", w["owner"])


def open_for_agent(world, sealed: str) -> str:
    return SealedBox(world["key"]).decrypt(base64.b64decode(sealed)).decode()


def storage_of(api, world, **extra):
    return api.post(f"/api/{world['slug']}/storages", world["owner"], body(**extra)).json


def instance_path(api, world, deployment):
    base = f"/api/{world['slug']}/deployments/{deployment['id']}"
    instance = api.get(base, world["owner"]).json["instances"][0]
    return f"{base}/instances/{instance['id']}"


def test_a_storage_named_only_by_an_instance_config_is_in_use_until_the_config_lets_it_go(api, world):
    # GIVEN a storage no image config names, and a deployment whose instance config names it
    storage = storage_of(api, world)
    path = f"/api/{world['slug']}/storages/{storage['id']}"
    deployment = create(api, world, world["version"]()).json
    instance = instance_path(api, world, deployment)
    patch = {"config": {"storage": {"storageId": storage["id"], "bucket": "assets", "path": "data"}}}
    assert api.patch(instance, world["owner"], patch).status_code == 204
    # THEN it is in use and cannot be deleted
    assert api.get(path, world["owner"]).json["inUse"] is True
    refused = api.delete(path, world["owner"])
    assert refused.status_code == 412 and refused.json["property"] == "storageId"
    # WHEN the instance config stops naming it THEN it is free again
    assert api.patch(instance, world["owner"], {"config": {"storage": None}}).status_code == 204
    assert api.get(path, world["owner"]).json["inUse"] is False
    assert api.delete(path, world["owner"]).status_code == 204


def test_deleting_the_deployment_frees_the_storages_its_configs_named(api, world):
    storage = storage_of(api, world)
    path = f"/api/{world['slug']}/storages/{storage['id']}"
    deployment = create(api, world, world["version"]()).json
    api.patch(
        instance_path(api, world, deployment), world["owner"], {"config": {"storage": {"storageId": storage["id"]}}}
    )
    assert api.get(path, world["owner"]).json["inUse"] is True
    # a copy's instances name it too
    copy = api.post(
        f"/api/{world['slug']}/deployments/{deployment['id']}/copy",
        world["owner"],
        {"nodeId": world["node"]["id"], "prefix": "copy"},
    ).json
    assert api.delete(f"/api/{world['slug']}/deployments/{deployment['id']}", world["owner"]).status_code == 204
    assert api.get(path, world["owner"]).json["inUse"] is True
    assert api.delete(f"/api/{world['slug']}/deployments/{copy['id']}", world["owner"]).status_code == 204
    assert api.get(path, world["owner"]).json["inUse"] is False


def test_a_storage_named_by_a_deployment_config_is_in_use_through_its_copies_until_they_are_gone(api, world):
    from chalicelib import ids

    # GIVEN a deployment whose deployment-level config names the storage (no route sets that field
    # today: the repository writes it, as a later config editor would)
    storage = storage_of(api, world)
    path = f"/api/{world['slug']}/storages/{storage['id']}"
    version = world["version"]()
    deployment = create(api, world, version).json
    item = deployment_repo.get(world["team"]["id"], deployment["id"])
    config = {"storage": {"storageId": storage["id"], "bucket": "b", "path": "data"}}
    deployment_repo.update(
        world["team"]["id"],
        item,
        "rolling",
        prefix=item.prefix,
        note=item.note,
        config=config,
        by="test",
        now=ids.utcnow(),
        mutable_statuses=("preparing",),
    )
    assert api.get(path, world["owner"]).json["inUse"] is True
    # its copy (same version, another prefix) carries the config and the reference
    copy = api.post(
        f"/api/{world['slug']}/deployments/{deployment['id']}/copy",
        world["owner"],
        {"nodeId": world["node"]["id"], "prefix": "second"},
    ).json
    assert api.delete(f"/api/{world['slug']}/deployments/{deployment['id']}", world["owner"]).status_code == 204
    assert api.delete(path, world["owner"]).status_code == 412
    assert api.delete(f"/api/{world['slug']}/deployments/{copy['id']}", world["owner"]).status_code == 204
    assert api.delete(path, world["owner"]).status_code == 204


def deploy_command(api, world, client, deploy_queue, deployment, attempt=1):
    deploy_queue()
    assert start(api, world, deployment["id"]).status_code == 204
    [message] = [m for m in deploy_queue() if "deploymentId" in m]
    event = client.events.generate_sqs_event(message_bodies=[message], queue_name="dyrector-deploy")
    client.lambda_.invoke("on_deploy", event)
    commands = api.get("/api/agent/commands", headers=agent_headers(world["token"])).json
    mine = [c for c in commands if c["kind"] == "deploy" and c["deploymentId"] == deployment["id"]]
    return [c for c in mine if c["attempt"] == attempt]


def test_the_deploy_command_carries_the_storage_url_and_its_keys_sealed_to_the_agent(api, world, client, deploy_queue):
    storage = storage_of(api, world, url="http://minio.lan:9000")
    deployment = create(api, world, world["version"]()).json
    instance = instance_path(api, world, deployment)
    storage_config = {"storageId": storage["id"], "bucket": "assets/{{versionName}}", "path": "data"}
    api.patch(instance, world["owner"], {"config": {"storage": storage_config}})
    [command] = deploy_command(api, world, client, deploy_queue, deployment)
    web, worker = command["workloads"]
    source = web["storage"]
    assert source["url"] == "http://minio.lan:9000"
    assert open_for_agent(world, source["sealedAccessKey"]) == ACCESS
    assert open_for_agent(world, source["sealedSecretKey"]) == SECRET
    assert SECRET not in str(command) and ACCESS not in str(command)
    assert web["config"]["storage"]["path"] == "data" and worker.get("storage") is None


def test_a_public_storage_sends_no_keys_and_a_vanished_one_fails_the_try_with_a_reason(
    api, world, client, deploy_queue
):
    from chalicelib.db import storages as storage_repo

    public = storage_of(api, world, public=True, accessKey=None, secretKey=None)
    deployment = create(api, world, world["version"]()).json
    path = f"/api/{world['slug']}/deployments/{deployment['id']}"
    instance = instance_path(api, world, deployment)
    api.patch(instance, world["owner"], {"config": {"storage": {"storageId": public["id"], "bucket": "b"}}})
    [command] = deploy_command(api, world, client, deploy_queue, deployment)
    assert command["workloads"][0]["storage"] == {
        "url": "https://s3.example.com",
        "sealedAccessKey": None,
        "sealedSecretKey": None,
    }
    # GIVEN the storage removed behind the API's back (the in-use check is what normally prevents it)
    report = {"attempt": 1, "events": [{"type": "deployment-status", "status": "successful"}]}
    api.post(f"/api/agent/deployments/{deployment['id']}/events", headers=agent_headers(world["token"]), body=report)
    storage_repo.delete(world["team"]["id"], storage_repo.get(world["team"]["id"], public["id"]))
    # WHEN the deployment starts again THEN its try fails with a reason, and no command reaches the node
    assert deploy_command(api, world, client, deploy_queue, deployment, attempt=2) == []
    assert api.get(path, world["owner"]).json["status"] == "failed"
    log = api.get(f"{path}/log?skip=0&take=20", world["owner"]).json["items"]
    assert any("names a storage that no longer exists" in line for item in log for line in item.get("log") or [])


@pytest.mark.parametrize("node_type", ["docker", "k8s"])
@pytest.mark.parametrize("agent_version", ["0.2.0"])
def test_a_0_2_agent_gets_no_command_it_would_run_without_its_storage_import_but_still_gets_the_others(
    api, world, client, deploy_queue
):
    storage = storage_of(api, world)
    plain = create(api, world, world["version"](), prefix="plain").json
    path = f"/api/{world['slug']}/deployments/{plain['id']}"
    # a deployment without storage or expose deploys on the old agent as before
    assert len(deploy_command(api, world, client, deploy_queue, plain)) == 1
    # one whose config imports a storage fails its try with the reason, and no command is sent
    importing = create(api, world, world["version"](), prefix="files").json
    patched = api.patch(
        instance_path(api, world, importing), world["owner"], {"config": {"storage": {"storageId": storage["id"]}}}
    )
    assert patched.status_code == 204, patched.body
    assert deploy_command(api, world, client, deploy_queue, importing) == []
    path = f"/api/{world['slug']}/deployments/{importing['id']}"
    assert api.get(path, world["owner"]).json["status"] == "failed"
    log = api.get(f"{path}/log?skip=0&take=20", world["owner"]).json["items"]
    lines = [line for item in log for line in item.get("log") or []]
    assert any("agent (0.2.0) does not support storage imports: update it" in line for line in lines), lines


@pytest.mark.parametrize("node_type", ["k8s"])
def test_a_kubernetes_agent_gets_the_storage_and_the_config_container_it_turns_into_init_containers(
    api, world, client, deploy_queue
):
    # GIVEN a Kubernetes node on the current agent, and an instance config with a storage and a config container
    storage = storage_of(api, world)
    deployment = create(api, world, world["version"]()).json
    config = {
        "storage": {"storageId": storage["id"], "bucket": "assets", "path": "data"},
        "configContainer": {"image": "acme/config:1", "volume": "conf", "path": "/config/", "keepFiles": True},
    }
    assert api.patch(instance_path(api, world, deployment), world["owner"], {"config": config}).status_code == 204
    # WHEN it starts THEN the agent gets both, the storage's keys sealed to it
    [command] = deploy_command(api, world, client, deploy_queue, deployment)
    web = command["workloads"][0]
    assert web["config"]["configContainer"] == config["configContainer"]
    assert web["config"]["storage"]["storageId"] == storage["id"]
    assert open_for_agent(world, web["storage"]["sealedSecretKey"]) == SECRET
