"""What a workload's config becomes on Docker (agent/runtime/docker_spec.py), checked without an engine."""

from __future__ import annotations

import pytest

from agent.runtime.base import NAME_LABEL, PREFIX_LABEL, split_image
from agent.runtime.docker_spec import DeployError, check_names, container_spec, init_spec
from chalicelib.contracts.agent import Workload
from chalicelib.contracts.containers import InitContainer
from chalicelib.contracts.naming import SECRET_KEYS_LABEL


def kv(key, value):
    return {"id": key, "key": key, "value": value}


def spec_of(config, name="web", prefix="shop"):
    workload = Workload(instance_id="i-1", name=name, image="registry.example/acme/web:1.0", config=config)
    return container_spec(prefix, workload, lambda sealed: f"opened:{sealed}")


def test_the_container_is_named_after_prefix_and_workload_and_answers_to_both_names():
    spec = spec_of({"networks": [{"key": "backend"}]})
    assert (spec.name, spec.image) == ("shop-web", "registry.example/acme/web:1.0")
    assert spec.aliases == ["shop-web", "web"]
    assert spec.labels == {PREFIX_LABEL: "shop", NAME_LABEL: "web"}


def test_secrets_with_a_value_are_opened_into_the_environment_and_only_their_keys_are_labelled():
    # GIVEN a plain variable, a secret overriding another plain one, and a declared secret without a value
    spec = spec_of(
        {
            "environment": [kv("MODE", "prod"), kv("TOKEN", "plain"), {"key": "BARE"}],
            "secrets": [kv("TOKEN", "sealed-1"), kv("EMPTY", "")],
        }
    )
    # THEN the secret wins, the empty one is left out, and the label names the keys but never a value
    assert spec.environment == {"MODE": "prod", "TOKEN": "opened:sealed-1", "BARE": ""}
    assert spec.labels[SECRET_KEYS_LABEL] == "TOKEN"
    assert "sealed-1" not in str(spec.labels) and "opened" not in str(spec.labels)


def test_user_docker_labels_are_added_after_ours():
    spec = spec_of({"dockerLabels": [kv("team", "storefront"), {"key": "flag"}]})
    assert spec.labels == {PREFIX_LABEL: "shop", NAME_LABEL: "web", "team": "storefront", "flag": ""}


def test_every_internal_port_is_exposed_and_only_those_with_an_external_port_are_published():
    spec = spec_of(
        {
            "ports": [{"internal": 8080, "external": 80}, {"internal": 9090}],
            "portRanges": [{"internal": {"from": 7000, "to": 7002}, "external": {"from": 17000, "to": 17001}}],
        }
    )
    assert spec.exposed == [8080, 9090, 7000, 7001, 7002]
    # the external range is shorter: its last internal port stays unpublished
    assert spec.port_bindings == {8080: 80, 7000: 17000, 7001: 17001}


@pytest.mark.parametrize(
    ("policy", "engine"),
    [
        (None, "unless-stopped"),
        ("always", "always"),
        ("unlessStopped", "unless-stopped"),
        ("no", "no"),
        ("onFailure", "on-failure"),
    ],
)
def test_restart_policy_maps_to_the_engines_names_and_defaults_to_unless_stopped(policy, engine):
    assert spec_of({"restartPolicy": policy}).restart_policy == engine


def test_volumes_become_named_volumes_host_binds_or_tmpfs():
    spec = spec_of(
        {
            "volumes": [
                {"name": "data", "path": "/data", "type": "rwo"},
                {"name": "/etc/ssl", "path": "/ssl", "type": "ro"},
                {"name": "cache", "path": "/cache", "type": "mem", "size": "64m"},
                {"name": "scratch", "path": "/tmp", "type": "tmp"},
            ]
        }
    )
    assert spec.mounts.binds == {
        "shop-web-data": {"bind": "/data", "mode": "rw"},
        "/etc/ssl": {"bind": "/ssl", "mode": "ro"},
    }
    assert spec.mounts.tmpfs == {"/cache": "size=64m", "/tmp": ""}
    assert spec.mounts.volumes == ["shop-web-data"]  # only named volumes are created on the engine


def test_networks_join_with_aliases_unless_the_network_mode_is_host_or_none():
    joined = spec_of({"networks": [{"key": "front"}, {"key": "back"}], "networkMode": "bridge"})
    assert (joined.host_network_mode, joined.attached_networks) == ("front", ["front", "back"])
    host = spec_of({"networks": [{"key": "front"}], "networkMode": "host"})
    assert (host.host_network_mode, host.attached_networks) == ("host", [])
    assert spec_of({}).host_network_mode == "bridge"


def test_the_command_line_user_tty_and_working_directory_are_passed_on():
    spec = spec_of(
        {
            "commands": [{"key": "sh"}, {"key": "-c"}],
            "args": [{"key": "serve"}],
            "user": 0,
            "tty": True,
            "workingDirectory": "/srv",
        }
    )
    assert (spec.entrypoint, spec.command, spec.user, spec.tty, spec.working_dir) == (
        ["sh", "-c"],
        ["serve"],
        "0",
        True,
        "/srv",
    )
    unset = spec_of({"user": -1})
    assert (unset.entrypoint, unset.command, unset.user, unset.tty, unset.working_dir) == (
        None,
        None,
        None,
        False,
        None,
    )


def test_a_log_driver_other_than_the_nodes_default_is_configured_with_its_options():
    spec = spec_of({"logConfig": {"driver": "json-file", "options": [kv("max-size", "10m")]}})
    assert spec.log_config == {"Type": "json-file", "Config": {"max-size": "10m"}}
    assert spec_of({"logConfig": {"driver": "nodeDefault"}}).log_config is None


def test_an_init_container_with_use_parent_config_shares_the_parents_environment_volumes_and_network():
    parent = spec_of(
        {
            "environment": [kv("MODE", "prod")],
            "secrets": [kv("DB", "s")],
            "networks": [{"key": "back"}],
            "volumes": [{"name": "data", "path": "/data"}],
        }
    )
    init = init_spec(
        parent,
        "shop",
        InitContainer.model_validate(
            {
                "name": "migrate",
                "image": "acme/migrate:1",
                "useParentConfig": True,
                "environment": [kv("MODE", "migrate")],
                "command": [{"key": "migrate"}],
                "args": [{"key": "up"}],
                "volumes": [{"name": "data", "path": "/var/data"}],
            }
        ),
    )
    assert (init.name, init.parent, init.image) == ("shop-web-migrate", "shop-web", "acme/migrate:1")
    assert init.environment == {"MODE": "migrate", "DB": "opened:s"}  # its own value wins
    assert init.binds == {"shop-web-data": {"bind": "/var/data", "mode": "rw"}}
    assert (init.network, init.entrypoint, init.command) == ("back", ["migrate"], ["up"])
    # it is labelled with the prefix, so an orphan is listed and deleted with it
    assert init.labels == {PREFIX_LABEL: "shop", NAME_LABEL: "web-migrate"}


def test_an_init_container_without_use_parent_config_gets_only_its_own_environment():
    [init] = spec_of(
        {
            "environment": [kv("MODE", "prod")],
            "networks": [{"key": "back"}],
            "initContainers": [{"name": "seed", "image": "acme/seed", "environment": [kv("STEP", "1")]}],
        }
    ).init_containers
    assert (init.environment, init.network) == ({"STEP": "1"}, None)


def test_an_init_container_mounting_a_volume_its_parent_lacks_is_refused():
    with pytest.raises(DeployError, match="no volume named 'data'"):
        spec_of(
            {"initContainers": [{"name": "seed", "image": "acme/seed", "volumes": [{"name": "data", "path": "/d"}]}]}
        )


@pytest.mark.parametrize(("prefix", "name"), [("Shop", "web"), ("shop", "web_1"), ("", "web"), ("shop", "-web")])
def test_prefix_and_name_must_be_dns_labels(prefix, name):
    with pytest.raises(DeployError, match="not a DNS-1123 label"):
        check_names(prefix, name)


def test_image_references_split_into_name_and_tag():
    assert split_image("127.0.0.1:5000/acme/web:1.0") == ("127.0.0.1:5000/acme/web", "1.0")
    assert split_image("127.0.0.1:5000/acme/web") == ("127.0.0.1:5000/acme/web", "latest")
    assert split_image("nginx@sha256:abc") == ("nginx", "latest")


def test_a_health_check_probes_the_readiness_path_on_the_health_port_else_the_first_port():
    # GIVEN probes on two paths and no health port
    spec = spec_of(
        {"ports": [{"internal": 8080}], "healthCheckConfig": {"livenessProbe": "/live", "readinessProbe": "ready"}}
    )
    # THEN Docker's single check gets the readiness path on the first container port
    kind, probe = spec.healthcheck["test"]
    assert kind == "CMD-SHELL" and "http://localhost:8080/ready" in probe and "/live" not in probe
    assert spec.healthcheck["interval"] > 0 and spec.healthcheck["retries"] > 0
    on_port = spec_of({"healthCheckConfig": {"port": 9000, "startupProbe": "/up; rm -rf /"}}).healthcheck["test"][1]
    assert "'http://localhost:9000/up; rm -rf /'" in on_port  # user text stays one quoted word
    assert spec_of({}).healthcheck is None and spec_of({"healthCheckConfig": {"port": 80}}).healthcheck is None


def test_a_health_check_without_any_port_is_refused():
    with pytest.raises(DeployError, match="the health check has no port"):
        spec_of({"healthCheckConfig": {"readinessProbe": "/ready"}})


@pytest.mark.parametrize(
    ("limits", "engine"),
    [
        ({"cpu": "1.5", "memory": "1Gi"}, (1_500_000_000, 1024**3)),
        ({"cpu": "250m", "memory": "500M"}, (250_000_000, 500_000_000)),
        ({"cpu": "0"}, (None, None)),  # as on Kubernetes, "0" removes the CPU limit
        ({}, (None, None)),
    ],
)
def test_cpu_and_memory_limits_become_nano_cpus_and_bytes(limits, engine):
    spec = spec_of({"resourceConfig": {"limits": limits, "requests": {"cpu": "2"}}})
    assert (spec.nano_cpus, spec.mem_limit) == engine


def test_a_limit_that_is_no_quantity_is_refused():
    with pytest.raises(DeployError, match="the memory limit 'lots' is not a Kubernetes quantity"):
        spec_of({"resourceConfig": {"limits": {"memory": "lots"}}})
