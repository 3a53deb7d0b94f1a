"""A full container config as Kubernetes objects: checked field by field, and validated by
round-tripping each through the official client's models (a misspelled or misplaced field
would be dropped and the round trip would differ)."""

from __future__ import annotations

import base64
import json

import pytest
from kubernetes.client import ApiClient

from agent.runtime import k8s_objects
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
