"""Every container config field has a merge rule, and each runtime uses it or says why not.

A field the API accepts but the merge has no rule for would be dropped at deploy time; one a
runtime silently ignores is a setting that does nothing. Adding a field is one line in
`chalicelib/contracts/containers.py` (with its rule) plus the runtime code that uses it, or an
entry in the runtime's `NOT_APPLICABLE` saying why it does not apply there. "Uses" is checked
by its effect: the runtime's output for SAMPLE changes when the field is taken away.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.runtime import docker_deploy, docker_spec, k8s_objects
from agent.settings import DockerSettings
from chalicelib.contracts.agent import RegistryAuth, StorageSource, Workload
from chalicelib.contracts.containers import ContainerConfig, ImageConfig, Merge, merge_rule
from chalicelib.domain import merge

NOT_APPLICABLE = {"docker": docker_spec.NOT_APPLICABLE, "kubernetes": k8s_objects.NOT_APPLICABLE}
FIELDS = set(ContainerConfig.model_fields)


def kv(key: str, value: str) -> dict:
    return {"id": key, "key": key, "value": value}


# Every field set, each to a value that differs from the runtime's default.
SAMPLE = ContainerConfig.model_validate(
    {
        "name": "web",
        "environment": [kv("MODE", "prod")],
        "secrets": [{"id": "s", "key": "TOKEN", "value": "sealed", "encrypted": True, "publicKey": "k"}],
        "routing": {"domain": "shop.example.com", "path": "/api", "port": 8080},
        "expose": "exposeWithTls",
        "user": 1000,
        "workingDirectory": "/srv",
        "tty": True,
        "configContainer": {"image": "acme/config:1", "volume": "data", "path": "/config"},
        "ports": [{"internal": 8080, "external": 80}],
        "portRanges": [{"internal": {"from": 7000, "to": 7001}, "external": {"from": 17000, "to": 17001}}],
        "volumes": [{"name": "data", "path": "/data", "type": "rwo"}],
        "commands": [{"key": "serve"}],
        "args": [{"key": "--port=8080"}],
        "initContainers": [{"name": "migrate", "image": "acme/migrate:1", "volumes": [{"name": "data", "path": "/d"}]}],
        "capabilities": [kv("NET_ADMIN", "1")],
        "storage": {"storageId": "s1", "bucket": "assets", "path": "data"},
        "logConfig": {"driver": "json-file", "options": [kv("max-size", "10m")]},
        "restartPolicy": "always",
        "networkMode": "host",
        "networks": [{"key": "back"}],
        "dockerLabels": [kv("team", "shop")],
        "expectedState": {"state": "running", "timeout": 30},
        "deploymentStrategy": "recreate",
        "customHeaders": [{"key": "X-Trace"}],
        "proxyHeaders": True,
        "useLoadBalancer": True,
        "extraLBAnnotations": [kv("lb/type", "nlb")],
        "healthCheckConfig": {"port": 8080, "livenessProbe": "/live", "readinessProbe": "/ready"},
        "resourceConfig": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m"}},
        "labels": {"deployment": [kv("tier", "web")], "service": [kv("svc", "web")], "ingress": [kv("ing", "web")]},
        "annotations": {"deployment": [kv("note", "d")]},
        "metrics": {"enabled": True, "path": "/stats"},
    }
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
AUTH = RegistryAuth(server="registry.example", user="ci", sealed_password="sealed-pw")
DOCKER = DockerSettings(root_domain="apps.example")  # the node's ROOT_DOMAIN, as the Kubernetes runtime gets it
STORAGE = StorageSource(url="https://s3.example", sealed_access_key="sealed-ak", sealed_secret_key="sealed-sk")


def output(runtime: str, config: ContainerConfig) -> object:
    """What the runtime makes of a workload with `config`: the Docker spec or the Kubernetes objects
    (or the error it refuses the config with)."""
    workload = Workload(
        instance_id="i1",
        name="web",
        image="registry.example/web:1",
        registry_auth=AUTH,
        storage=STORAGE,
        config=config,
    )
    try:
        if runtime == "docker":  # the container (with its routing labels) and its storage import
            return docker_deploy.planned("shop", workload, lambda sealed: f"opened:{sealed}", DOCKER)
        return k8s_objects.workload_objects("shop", workload, lambda sealed: f"opened:{sealed}", "apps.example", NOW)
    except (ValueError, docker_spec.DeployError) as error:
        return f"refused: {error}"


def without(field: str) -> ContainerConfig:
    return SAMPLE.model_copy(update={field: None})


def test_every_field_declares_one_merge_rule_and_the_merge_knows_every_rule():
    for model in (ImageConfig, ContainerConfig):
        for name, field in model.model_fields.items():
            assert merge_rule(name, field) in merge.RULES, f"{model.__name__}.{name} has no merge rule"
    assert set(merge.RULES) == set(Merge)


def test_the_sample_sets_every_field():
    unset = {name for name in FIELDS if getattr(SAMPLE, name) is None}
    assert not unset, f"give {sorted(unset)} a value in SAMPLE (one the runtimes do not default to)"


@pytest.mark.parametrize("runtime", ["docker", "kubernetes"])
def test_declarations_name_real_fields(runtime):
    declared = set(NOT_APPLICABLE[runtime])
    assert declared <= FIELDS, sorted(declared - FIELDS)


@pytest.mark.parametrize("runtime", ["docker", "kubernetes"])
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_each_runtime_uses_a_field_or_declares_it_not_applicable(runtime, field):
    used = output(runtime, without(field)) != output(runtime, SAMPLE)
    if field in NOT_APPLICABLE[runtime]:
        assert not used, f"{runtime} uses {field}: take it out of its NOT_APPLICABLE"
    else:
        assert used, f"{runtime} ignores {field}: use it, or say why not in the runtime's NOT_APPLICABLE"
