"""A full container config as Kubernetes objects: checked field by field, and validated by
round-tripping each through the official client's models (a misspelled or misplaced field
would be dropped and the round trip would differ)."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes.client import ApiClient

from agent.runtime import k8s_objects
from chalicelib.contracts.agent import StorageSource, Workload
from chalicelib.contracts.containers import ContainerConfig
from tests.agent.fake_kubernetes import MODELS

pytestmark = pytest.mark.agent


def kv(key, value):
    return {"id": key, "key": key, "value": value}


FULL = {
    "name": "web",
    "environment": [kv("MODE", "prod"), kv("EMPTY", "")],
    "ports": [{"internal": 8080, "external": 80}, {"internal": 9090}],
    "portRanges": [{"internal": {"from": 7000, "to": 7001}, "external": {"from": 17000, "to": 17001}}],
    "volumes": [
        {"name": "data", "path": "/data", "type": "rwo", "size": "5Gi", "class": "fast"},
        {"name": "shared", "path": "/shared", "type": "rwx"},
        {"name": "conf", "path": "/conf", "type": "ro"},
        {"name": "cache", "path": "/cache", "type": "mem", "size": "64Mi"},
        {"name": "tmp", "path": "/tmp", "type": "tmp"},
    ],
    "commands": [{"key": "sh"}, {"key": "-c"}],
    "args": [{"key": "exec server --port 8080"}],
    "initContainers": [
        {
            "name": "migrate",
            "image": "acme/migrate:1",
            "command": [{"key": "migrate"}],
            "args": [{"key": "up"}],
            "environment": [kv("STEP", "1")],
            "useParentConfig": True,
            "volumes": [{"name": "data", "path": "/data"}],
        }
    ],
    "user": 1000,
    "tty": True,
    "workingDirectory": "/srv",
    "resourceConfig": {"limits": {"cpu": "0", "memory": "256Mi"}, "requests": {"cpu": "100m"}},
    "healthCheckConfig": {"port": 8080, "livenessProbe": "/live", "readinessProbe": "/ready", "startupProbe": "/start"},
    "labels": {"deployment": [kv("tier", "web")], "service": [kv("svc", "yes")], "ingress": [kv("ing", "yes")]},
    "annotations": {"deployment": [kv("note", "d")], "service": [kv("note", "s")], "ingress": [kv("note", "i")]},
    "expose": "exposeWithTls",
    "routing": {"domain": "shop.example.com", "path": "/api", "stripPath": True, "uploadLimit": "16m", "port": 8080},
    "useLoadBalancer": True,
    "extraLBAnnotations": [kv("lb/type", "nlb")],
    "customHeaders": [{"key": "X-Trace"}],
    "proxyHeaders": True,
    "deploymentStrategy": "recreate",
}


def build_objects(prefix, name, image, config: dict, *args, **kwargs):
    """The objects of an API-shaped config (read as the contract's model, as the agent gets it)."""
    return k8s_objects.build_objects(prefix, name, image, ContainerConfig.model_validate(config), *args, **kwargs)


def by_kind(objects):
    found = {}
    for obj in objects:
        found.setdefault(obj["kind"], []).append(obj)
    return found


def validated(obj):
    client = ApiClient()
    model = client.deserialize(json.dumps(obj), MODELS[obj["kind"]], "application/json")
    assert client.sanitize_for_serialization(model) == obj, obj["kind"]


def test_every_object_is_valid_for_the_kubernetes_schemas():
    objects = build_objects(
        "shop",
        "web",
        "127.0.0.1:5000/acme/web:1.0",
        FULL,
        {"DB_PASSWORD": "s3cret"},
        {"url": "127.0.0.1:5000", "user": "ci", "password": "pw"},
    )
    assert sorted(o["kind"] for o in objects) == [
        "ConfigMap",
        "Deployment",
        "Ingress",
        "Namespace",
        "PersistentVolumeClaim",
        "PersistentVolumeClaim",
        "PersistentVolumeClaim",
        "Secret",
        "Secret",
        "Service",
    ]
    for obj in objects:
        validated(obj)


def test_deployment_container_carries_the_whole_config():
    objects = by_kind(
        build_objects(
            "shop",
            "web",
            "reg/acme/web:1",
            FULL,
            {"DB_PASSWORD": "s3cret"},
            {"url": "reg", "user": "ci", "password": "pw"},
        )
    )
    [deployment] = objects["Deployment"]
    assert deployment["metadata"]["namespace"] == "shop" and deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    assert deployment["metadata"]["labels"]["tier"] == "web"
    template = deployment["spec"]["template"]
    assert (
        template["metadata"]["annotations"]["note"] == "d"
        and "crane.dyrector.io/restartedAt" in template["metadata"]["annotations"]
    )
    pod = template["spec"]
    assert pod["imagePullSecrets"] == [{"name": "web-reg"}]
    [container] = pod["containers"]
    assert container["image"] == "reg/acme/web:1"
    assert container["envFrom"] == [{"configMapRef": {"name": "web"}}, {"secretRef": {"name": "web"}}]
    assert [p["containerPort"] for p in container["ports"]] == [8080, 9090]
    assert (container["tty"], container["workingDir"], container["securityContext"]) == (
        True,
        "/srv",
        {"runAsUser": 1000},
    )
    assert (container["command"], container["args"]) == (["sh", "-c"], ["exec server --port 8080"])
    assert container["resources"] == {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}}
    assert container["startupProbe"]["httpGet"] == {"path": "/start", "port": 8080}
    assert container["livenessProbe"]["httpGet"]["path"] == "/live"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/conf"]["readOnly"] is True and mounts["/data"]["readOnly"] is False
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["web-cache"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "64Mi"}
    assert volumes["web-tmp"]["emptyDir"] == {}
    [init] = pod["initContainers"]
    assert (init["name"], init["command"], init["args"], init["envFrom"]) == (
        "migrate",
        ["migrate"],
        ["up"],
        container["envFrom"],
    )
    assert init["volumeMounts"] == [{"name": "web-data", "mountPath": "/data"}]


def test_config_secrets_volumes_service_and_ingress():
    objects = by_kind(
        build_objects(
            "shop",
            "web",
            "img",
            FULL,
            {"DB_PASSWORD": "s3cret"},
            {"url": "reg.example", "user": "ci", "password": "pw"},
        )
    )
    [config_map] = objects["ConfigMap"]
    assert config_map["data"] == {"MODE": "prod", "EMPTY": ""}
    secrets = {s["metadata"]["name"]: s for s in objects["Secret"]}
    assert base64.b64decode(secrets["web"]["data"]["DB_PASSWORD"]).decode() == "s3cret"
    auths = json.loads(base64.b64decode(secrets["web-reg"]["data"][".dockerconfigjson"]))["auths"]
    assert auths["reg.example"]["username"] == "ci" and secrets["web-reg"]["type"] == "kubernetes.io/dockerconfigjson"
    claims = {c["metadata"]["name"]: c["spec"] for c in objects["PersistentVolumeClaim"]}
    assert claims["web-data"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "fast",
    }
    assert claims["web-shared"]["accessModes"] == ["ReadWriteMany"]
    assert claims["web-conf"]["accessModes"] == ["ReadOnlyMany"]
    assert claims["web-conf"]["resources"]["requests"]["storage"] == "1Gi"
    [service] = objects["Service"]
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["externalTrafficPolicy"] == "Local"
    assert [p["port"] for p in service["spec"]["ports"]] == [8080, 9090, 7000, 7001]
    assert service["metadata"]["annotations"] == {"note": "s", "lb/type": "nlb"}
    assert service["metadata"]["labels"]["svc"] == "yes"
    [ingress] = objects["Ingress"]
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "shop.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "web", "port": {"number": 8080}}
    assert ingress["spec"]["tls"] == [{"hosts": ["shop.example.com"], "secretName": "web-tls"}]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == "16m"
    assert "X-Trace" in notes["nginx.ingress.kubernetes.io/cors-allow-headers"]
    assert notes["cert-manager.io/cluster-issuer"] == "letsencrypt-prod" and notes["note"] == "i"


def test_a_minimal_config_has_defaults_and_no_service_or_ingress():
    objects = by_kind(build_objects("p", "worker", "img:1", {}, {}))
    assert set(objects) == {"Namespace", "ConfigMap", "Deployment"}
    container = objects["Deployment"][0]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {
        "limits": {"cpu": "100m", "memory": "128Mi"},
        "requests": {"cpu": "50m", "memory": "64Mi"},
    }
    assert objects["Deployment"][0]["spec"]["strategy"] == {"type": "RollingUpdate"}
    for obj in (o for objs in objects.values() for o in objs):
        validated(obj)


@pytest.mark.parametrize(
    "prefix,name,config",
    [
        ("Bad_Prefix", "web", {}),
        ("p", "-web", {}),
        ("p", "web", {"resourceConfig": {"limits": {"cpu": "lots"}}}),
        ("p", "web", {"expose": "expose", "ports": [{"internal": 80}]}),
        ("p", "web", {"initContainers": [{"name": "i", "image": "x", "volumes": [{"name": "nope", "path": "/x"}]}]}),
        ("p", "web", {"healthCheckConfig": {"readinessProbe": "/ready"}}),  # no port to probe
    ],
)
def test_invalid_names_quantities_and_routes_are_refused(prefix, name, config):
    with pytest.raises(ValueError):
        build_objects(prefix, name, "img", config, {})


# -- init containers that fill volumes: the config loader and the storage import (dyrector §7) --------

STORAGE = {"storageId": "st-1", "bucket": "assets/site", "path": "data"}
LOADER = {"image": "acme/config:1", "volume": "shared", "path": "/config/"}


def storage_workload(config: dict, source: StorageSource | None = None) -> Workload:
    """A workload as the platform sends it: its config names a storage, the storage's keys sealed."""
    return Workload(
        instance_id="i1",
        name="web",
        image="acme/web:1",
        storage=source or StorageSource(url="s3.example.com", sealed_access_key="AKIA", sealed_secret_key="s3cr3t"),
        config=ContainerConfig.model_validate(config),
    )


def opened(sealed: str) -> str:
    """The test's stand-in for the agent's key."""
    return f"opened-{sealed}"


def workload_objects(config: dict, source: StorageSource | None = None, **kwargs):
    return k8s_objects.workload_objects("shop", storage_workload(config, source), opened, **kwargs)


def test_the_config_loader_and_the_storage_import_run_before_the_init_containers_and_the_container():
    # GIVEN a config with a config container, a storage and an init container of its own
    config = {**FULL, "configContainer": LOADER, "storage": STORAGE}
    # WHEN it becomes objects on a node whose RCLONE_IMAGE is a mirror's
    objects = workload_objects(config, rclone_image="mirror.example/rclone:1.57.0")
    for obj in objects:
        validated(obj)
    pod = by_kind(objects)["Deployment"][0]["spec"]["template"]["spec"]
    # THEN the pod runs crane's order: config loader, storage import, the config's own init containers
    loader, importer, migrate = pod["initContainers"]
    assert [loader["name"], importer["name"], migrate["name"]] == ["config-loader", "import", "migrate"]
    # the config loader copies its image's path into the volume it names (pulled every time, as crane does)
    assert loader == {
        "name": "config-loader",
        "image": "acme/config:1",
        "imagePullPolicy": "Always",
        "command": ["rsync", "-a", "--delete", "/config/", "/targetconfig"],
        "volumeMounts": [{"name": "web-shared", "mountPath": "/targetconfig"}],
    }
    # the import syncs the bucket into the volume storage.path names, with the node's rclone image
    assert importer["image"] == "mirror.example/rclone:1.57.0" and importer["imagePullPolicy"] == "IfNotPresent"
    assert importer["args"] == ["sync", "s3:assets/site", "/data/output"]
    assert importer["volumeMounts"] == [{"name": "web-data", "mountPath": "/data/output"}]
    assert {e["name"]: e["value"] for e in importer["env"]} == {
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Other",
        "RCLONE_CONFIG_S3_ENDPOINT": "https://s3.example.com",
    }
    # and the main container mounts both volumes the init containers filled, at their own paths
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert (mounts["web-data"], mounts["web-shared"]) == ("/data", "/shared")


def test_a_private_storages_keys_are_only_in_the_import_secret():
    objects = workload_objects({"volumes": [{"name": "data", "path": "/data", "type": "rwo"}], "storage": STORAGE})
    secrets = {s["metadata"]["name"]: s for s in by_kind(objects)["Secret"]}
    # THEN the keys, opened, are in the Secret <name>-import, which the import reads through envFrom
    keys = {k: base64.b64decode(v).decode() for k, v in secrets["web-import"]["data"].items()}
    assert keys == {
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": "opened-AKIA",
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": "opened-s3cr3t",
    }
    assert secrets["web-import"]["type"] == "Opaque" and secrets["web-import"]["metadata"]["namespace"] == "shop"
    [deployment] = by_kind(objects)["Deployment"]
    [importer] = deployment["spec"]["template"]["spec"]["initContainers"]
    assert importer["envFrom"] == [{"secretRef": {"name": "web-import"}}]
    # and nowhere in the pod spec: neither the env nor the args carry them
    assert "opened-" not in json.dumps(deployment) and "AKIA" not in json.dumps(deployment)
    # the container itself does not read the import's Secret
    assert deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"configMapRef": {"name": "web"}}]
    for obj in objects:
        validated(obj)


def test_a_public_storage_has_no_secret_and_keep_files_keeps_what_the_volume_holds():
    config = {
        "volumes": [{"name": "data", "path": "/data", "type": "tmp"}],  # an emptyDir is filled for the pod's life
        "storage": STORAGE,
        "configContainer": {**LOADER, "volume": "data", "keepFiles": True},
    }
    objects = by_kind(workload_objects(config, StorageSource(url="http://minio.lan:9000")))
    assert "Secret" not in objects
    loader, importer = objects["Deployment"][0]["spec"]["template"]["spec"]["initContainers"]
    assert loader["command"] == ["rsync", "-a", "/config/", "/targetconfig"]
    assert "envFrom" not in importer and {e["value"] for e in importer["env"]} >= {"http://minio.lan:9000"}


def test_without_storage_or_config_container_the_pod_is_as_before():
    # a config naming neither (what every deploy before them sent) gets no extra init container or Secret
    objects = by_kind(workload_objects(FULL))
    assert [c["name"] for c in objects["Deployment"][0]["spec"]["template"]["spec"]["initContainers"]] == ["migrate"]
    assert {s["metadata"]["name"] for s in objects.get("Secret", [])} == set()
    # a storage section without a storage selected imports nothing either
    plain = by_kind(workload_objects({"storage": {"bucket": "b", "path": "data"}}))
    assert "initContainers" not in plain["Deployment"][0]["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"storage": STORAGE}, r"storage.path 'data' names no volume of the container \(its volumes: none\)"),
        (
            {"volumes": [{"name": "data", "path": "/d", "type": "ro"}], "storage": STORAGE},
            "storage.path 'data' names a read-only volume",
        ),
        (
            {"volumes": [{"name": "data", "path": "/d"}], "storage": {**STORAGE, "bucket": None}},
            "storage.bucket",
        ),
        (
            {"volumes": [{"name": "data", "path": "/d"}], "configContainer": LOADER},
            r"configContainer.volume 'shared' names no volume of the container \(its volumes: data\)",
        ),
        (
            {
                "volumes": [{"name": "data", "path": "/d"}],
                "storage": STORAGE,
                "initContainers": [{"name": "import", "image": "acme/import:1"}],
            },
            "import is used twice",
        ),
    ],
)
def test_an_init_container_that_could_not_run_is_refused_before_anything_is_applied(config, reason):
    with pytest.raises(ValueError, match=reason):
        workload_objects(config)


def test_a_workload_naming_a_storage_the_command_does_not_carry_is_refused():
    workload = storage_workload({"volumes": [{"name": "data", "path": "/d"}], "storage": STORAGE})
    workload.storage = None
    with pytest.raises(ValueError, match="carries no storage"):
        k8s_objects.workload_objects("shop", workload, str)


@pytest.mark.parametrize(("expected", "deadline"), [(None, 120), ({"state": "running", "timeout": 30}, 30)])
def test_the_deployments_progress_deadline_is_the_expected_states_timeout(expected, deadline):
    [deployment] = by_kind(build_objects("shop", "web", "img:1", {"expectedState": expected}, {}))["Deployment"]
    assert deployment["spec"]["progressDeadlineSeconds"] == deadline


@pytest.mark.parametrize("state", ["exited", "waiting"])
def test_a_deployment_cannot_be_expected_to_reach_another_state_than_running(state):
    with pytest.raises(ValueError, match=f"expectedState {state} cannot be met on Kubernetes"):
        build_objects("shop", "web", "img:1", {"expectedState": {"state": state}}, {})
