"""Images of a version: add, read, patch the full container config, order, delete."""

from __future__ import annotations

import copy

import pytest

IMAGE_KEYS = {"id", "name", "tag", "order", "config", "createdAt", "registry"}
DOCUMENTED_CONFIG_KEYS = {
    "expose",
    "restartPolicy",
    "networkMode",
    "deploymentStrategy",
    "name",
    "environment",
    "secrets",
    "routing",
    "user",
    "tty",
    "configContainer",
    "ports",
    "portRanges",
    "volumes",
    "commands",
    "args",
    "initContainers",
    "capabilities",
    "storage",
    "logConfig",
    "networks",
    "dockerLabels",
    "customHeaders",
    "proxyHeaders",
    "useLoadBalancer",
    "extraLBAnnotations",
    "healthCheckConfig",
    "resourceConfig",
    "annotations",
    "labels",
}


def kv(key, value):
    return {"id": f"id-{key}", "key": key, "value": value}


FULL_CONFIG = {
    "expose": "exposeWithTls",
    "restartPolicy": "onFailure",
    "networkMode": "bridge",
    "deploymentStrategy": "rolling",
    "name": "web-app",
    "environment": [kv("MODE", "prod"), kv("EMPTY", "")],
    "secrets": [{"id": "s1", "key": "DB_PASSWORD", "required": True}],
    "routing": {"domain": "app.example.com", "path": "/api", "stripPath": True, "uploadLimit": "16m", "port": 8080},
    "user": 1000,
    "tty": True,
    "workingDirectory": "/srv",
    "configContainer": {"image": "busybox", "volume": "cfg", "path": "/config", "keepFiles": True},
    "ports": [{"id": "p1", "internal": 8080, "external": 18080}, {"id": "p2", "internal": 9090, "external": None}],
    "portRanges": [{"id": "r1", "internal": {"from": 7000, "to": 7010}, "external": {"from": 17000, "to": 17010}}],
    "volumes": [
        {"id": "v1", "name": "data", "path": "/data", "type": "rwo", "size": "1Gi", "class": "fast"},
        {"id": "v2", "name": "cache", "path": "/cache", "type": "tmp", "size": None, "class": None},
    ],
    "commands": [{"id": "c1", "key": "/bin/sh"}],
    "args": [{"id": "a1", "key": "-c"}, {"id": "a2", "key": "run"}],
    "initContainers": [
        {
            "id": "i1",
            "name": "migrate",
            "image": "acme/migrate:1",
            "command": [{"id": "ic", "key": "m"}],
            "args": [{"id": "ia", "key": "up"}],
            "environment": [kv("STEP", "1")],
            "useParentConfig": True,
            "volumes": [{"id": "iv", "name": "data", "path": "/data"}],
        }
    ],
    "capabilities": [kv("NET_ADMIN", "true")],
    "storage": None,
    "logConfig": {"driver": "json-file", "options": [kv("max-size", "10m")]},
    "networks": [{"id": "n1", "key": "backend"}],
    "dockerLabels": [kv("team", "web")],
    "expectedState": {"state": "running", "timeout": 30, "exitCode": None},
    "customHeaders": [{"id": "h1", "key": "X-Trace"}],
    "proxyHeaders": True,
    "useLoadBalancer": True,
    "extraLBAnnotations": [kv("lb/kind", "nlb")],
    "healthCheckConfig": {"port": 8080, "livenessProbe": "/healthz", "readinessProbe": "/ready", "startupProbe": "/up"},
    "resourceConfig": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
    "annotations": {"service": [kv("a", "1")], "deployment": [kv("b", "2")], "ingress": [kv("c", "3")]},
    "labels": {"service": [kv("d", "4")], "deployment": [kv("e", "5")], "ingress": [kv("f", "6")]},
    "metrics": {"enabled": True, "path": "/metrics", "port": 9090},
}


@pytest.fixture(scope="module")
def module_registry(module_team, registry_item) -> str:
    return registry_item(module_team[1])


@pytest.fixture()
def version(api, module_team, module_registry):
    """A new project and version (what the tests change and list) in the module's team and registry."""
    owner, team = module_team
    project = api.create_project(owner, team["slug"], "versioned")
    version = api.create_version(owner, team["slug"], project["id"], name="1.0")
    base = f"/api/{team['slug']}/projects/{project['id']}/versions/{version['id']}/images"
    return owner, team, module_registry, base


def add(api, owner, base, registry_id, *refs):
    response = api.post(base, owner, [{"registryId": registry_id, "images": list(refs)}])
    assert response.status_code == 201, response.body
    return response.json


def test_added_images_have_every_field_a_container_name_and_follow_each_other(api, version):
    owner, _, registry_id, base = version
    first = add(api, owner, base, registry_id, "acme/web:1.0", "acme/web:2.0")
    assert [set(i) for i in first] == [IMAGE_KEYS, IMAGE_KEYS]
    assert [(i["name"], i["tag"], i["order"], i["config"]["name"]) for i in first] == [
        ("acme/web", "1.0", 0, "web"),
        ("acme/web", "2.0", 1, "web-2"),
    ]
    assert set(first[0]["config"]) >= DOCUMENTED_CONFIG_KEYS
    assert first[0]["registry"]["id"] == registry_id and first[0]["registry"]["type"] == "unchecked"
    later = add(api, owner, base, registry_id, "redis")
    assert (later[0]["tag"], later[0]["order"]) == (None, 2)
    assert [i["name"] for i in api.get(base, owner).json] == ["acme/web", "acme/web", "redis"]


def test_every_config_field_round_trips_through_patch(api, version):
    owner, _, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    assert api.patch(f"{base}/{image['id']}", owner, {"config": FULL_CONFIG}).status_code == 204
    config = api.get(f"{base}/{image['id']}", owner).json["config"]
    assert config == FULL_CONFIG


def test_patch_changes_only_given_fields_and_null_clears(api, version):
    owner, _, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    path = f"{base}/{image['id']}"
    api.patch(path, owner, {"config": {"user": 1, "tty": True, "environment": [kv("A", "1")]}})
    api.patch(path, owner, {"tag": "1.1", "config": {"tty": None, "restartPolicy": "always"}})
    got = api.get(path, owner).json
    assert got["tag"] == "1.1"
    config = got["config"]
    assert (config["user"], config["tty"], config["restartPolicy"], config["environment"]) == (
        1,
        None,
        "always",
        [kv("A", "1")],
    )


@pytest.mark.parametrize(
    "config",
    [
        {"restartPolicy": "sometimes"},
        {"networkMode": "overlay"},
        {"expose": "yes"},
        {"deploymentStrategy": "blue"},
        {"volumes": [{"name": "d", "path": "/d", "type": "huge"}]},
        {"logConfig": {"driver": "stdout"}},
        {"ports": [{"internal": 65536}]},
        {"environment": [kv("A", "1"), kv("A", "2")]},
        {"user": "root"},
        {"expectedState": {"state": "sleeping"}},
        {"name": "-bad"},
        {"unknown": True},
    ],
)
def test_bad_config_gets_400_and_changes_nothing(api, version, config):
    owner, _, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    path = f"{base}/{image['id']}"
    response = api.patch(path, owner, {"config": config})
    assert response.status_code == 400 and response.json["message"] and response.json.get("property")
    assert api.get(path, owner).json["config"] == image["config"]


def test_config_naming_an_unknown_storage_is_refused(api, version):
    owner, _, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    response = api.patch(
        f"{base}/{image['id']}",
        owner,
        {"config": {"storage": {"storageId": "5b0c2d3e-0000-4000-8000-000000000000", "bucket": "b"}}},
    )
    assert response.status_code == 400 and response.json["property"] == "config.storage.storageId"


def test_a_config_using_a_storage_is_indexed_under_that_storage(api, version):
    from chalicelib import ids
    from chalicelib.db import keys
    from chalicelib.db.items import BaseItem, StorageItem

    owner, team, registry_id, base = version
    now, storage_id = ids.utcnow(), ids.new_id()
    StorageItem(
        keys.team(team["id"]),
        keys.storage(storage_id),
        id=storage_id,
        name="s3",
        url="http://s3.local",
        created_at=now,
        created_by=owner.id,
        updated_at=now,
        updated_by=owner.id,
    ).save()
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    path = f"{base}/{image['id']}"
    storage = {"storageId": storage_id, "bucket": "assets", "path": "data"}
    assert api.patch(path, owner, {"config": {"storage": storage}}).status_code == 204
    users = list(BaseItem.gsi2.query(keys.storage(storage_id)))
    assert [u.id for u in users] == [image["id"]]
    api.patch(path, owner, {"config": {"storage": None}})
    assert list(BaseItem.gsi2.query(keys.storage(storage_id))) == []


def test_order_takes_every_image_exactly_once(api, version):
    owner, _, registry_id, base = version
    images = add(api, owner, base, registry_id, "acme/a", "acme/b", "acme/c")
    a, b, c = (i["id"] for i in images)
    assert api.put(f"{base}/order", owner, [c, a, b]).status_code == 204
    assert [i["name"] for i in api.get(base, owner).json] == ["acme/c", "acme/a", "acme/b"]
    assert api.put(f"{base}/order", owner, [c, a]).status_code == 400
    assert api.put(f"{base}/order", owner, [c, a, a]).status_code == 409
    assert api.put(f"{base}/order", owner, [c, a, b, "5b0c2d3e-0000-4000-8000-000000000000"]).status_code == 400
    assert api.put(f"{base}/order", owner, []).status_code == 400


def test_delete_an_image(api, version):
    owner, _, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web")
    assert api.delete(f"{base}/{image['id']}", owner).status_code == 204
    assert api.get(f"{base}/{image['id']}", owner).status_code == 404
    assert api.delete(f"{base}/{image['id']}", owner).status_code == 404
    assert api.get(base, owner).json == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        [{"registryId": "x", "images": ["a"]}],
        [{"images": ["acme/web"]}],
        [{"registryId": "5b0c2d3e-0000-4000-8000-000000000000", "images": []}],
        {"registryId": "x"},
    ],
)
def test_bad_add_bodies_get_400(api, version, body):
    owner, _, _, base = version
    assert api.post(base, owner, body).status_code == 400


@pytest.mark.parametrize("reference", ["Acme/Web", "acme//web", "acme/web:bad tag", "acme/web:"])
def test_invalid_image_references_get_400_and_nothing_is_added(api, version, reference):
    owner, _, registry_id, base = version
    response = api.post(base, owner, [{"registryId": registry_id, "images": ["acme/ok", reference]}])
    assert response.status_code == 400 and response.json["property"] == "images"
    assert api.get(base, owner).json == []


def test_registry_of_another_team_or_unknown_gets_404(api, version, registry_item):
    owner, _, _, base = version
    stranger = api.signup()
    foreign = registry_item(api.create_team(stranger))
    for registry_id in (foreign, "5b0c2d3e-0000-4000-8000-000000000000"):
        response = api.post(base, owner, [{"registryId": registry_id, "images": ["acme/web"]}])
        assert response.status_code == 404 and response.json["property"] == "registryId"


def test_unknown_image_gets_404(api, version):
    owner, _, _, base = version
    path = f"{base}/5b0c2d3e-0000-4000-8000-000000000000"
    assert api.get(path, owner).status_code == 404
    assert api.patch(path, owner, {"tag": "1"}).status_code == 404


def test_full_config_survives_a_version_copy(api, version):
    owner, team, registry_id, base = version
    [image] = add(api, owner, base, registry_id, "acme/web:1.0")
    api.patch(f"{base}/{image['id']}", owner, {"config": copy.deepcopy(FULL_CONFIG)})
    version_path = base.rsplit("/images", 1)[0]
    child = api.post(f"{version_path}/increase", owner, {"name": "1.1"}).json
    child_base = base.replace(version_path.rsplit("/", 1)[1], child["id"])
    assert api.get(child_base, owner).json[0]["config"] == FULL_CONFIG
