"""Every §4.6 merge rule: instance > deployment > image, field by field, on the typed config."""

from __future__ import annotations

import copy

from chalicelib.contracts.containers import ContainerConfig, ImageConfig
from chalicelib.domain import merge as merging


def kv(key, value, id_=None):
    return {"id": id_ or f"{key}-{value}", "key": key, "value": value}


def merge(image, deployment=None, instance=None) -> dict:
    """The merged config of stored (API-shaped) levels, in the shape the agent receives."""
    merged = merging.merge(
        ImageConfig.model_validate(image or {}),
        ContainerConfig.model_validate(deployment or {}),
        ContainerConfig.model_validate(instance or {}),
    )
    assert isinstance(merged, ContainerConfig)
    return merged.model_dump(mode="json", by_alias=True, exclude_none=True)


def merge_secrets(image, deployment, instance) -> list[dict]:
    return merge(image, deployment, instance)["secrets"]


def test_whole_values_come_from_the_strongest_level_that_sets_them():
    image = {
        "name": "web",
        "restartPolicy": "always",
        "routing": {"domain": "a.example", "path": "/a"},
        "logConfig": {"driver": "json-file"},
        "networkMode": "bridge",
        "expose": "none",
    }
    deployment = {"restartPolicy": "no", "routing": {"domain": "b.example"}}
    instance = {"name": "api", "logConfig": None}
    merged = merge(image, deployment, instance)
    assert merged["name"] == "api"
    assert merged["restartPolicy"] == "no"
    assert merged["routing"] == {"domain": "b.example"}  # whole object, not field by field
    assert merged["logConfig"] == {"driver": "json-file"}  # null means inherit
    assert (merged["networkMode"], merged["expose"]) == ("bridge", "none")


def test_typed_values_take_the_first_real_number_or_boolean():
    merged = merge({"user": 1000, "tty": True, "proxyHeaders": False}, {"user": None, "tty": False}, {"user": 0})
    assert (merged["user"], merged["tty"], merged["proxyHeaders"]) == (0, False, False)
    assert "useLoadBalancer" not in merged


def test_environment_is_a_union_by_key_where_a_weaker_value_fills_an_empty_stronger_one():
    image = {"environment": [kv("A", "image"), kv("B", "image"), kv("C", "image")]}
    deployment = {"environment": [kv("B", "deployment"), kv("D", "deployment")]}
    instance = {"environment": [kv("A", ""), kv("C", "instance")]}
    env = {e["key"]: e["value"] for e in merge(image, deployment, instance)["environment"]}
    assert env == {"A": "image", "B": "deployment", "C": "instance", "D": "deployment"}


def test_docker_labels_and_lb_annotations_merge_like_environment():
    merged = merge(
        {"dockerLabels": [kv("x", "1")], "extraLBAnnotations": [kv("y", "")]},
        None,
        {"dockerLabels": [kv("x", "2")], "extraLBAnnotations": [kv("y", "3")]},
    )
    assert [e["value"] for e in merged["dockerLabels"]] == ["2"]
    assert [e["value"] for e in merged["extraLBAnnotations"]] == ["3"]


def test_commands_args_networks_headers_are_unions_by_key_stronger_first():
    merged = merge(
        {"commands": [{"id": "1", "key": "a"}, {"id": "2", "key": "b"}], "networks": [{"id": "n", "key": "x"}]},
        {"commands": [{"id": "3", "key": "b"}]},
        {"commands": [{"id": "4", "key": "c"}]},
    )
    assert [(c["id"], c["key"]) for c in merged["commands"]] == [("4", "c"), ("3", "b"), ("1", "a")]
    assert [n["key"] for n in merged["networks"]] == ["x"]
    assert merged["args"] == [] and merged["customHeaders"] == []


def test_ports_are_keyed_by_internal_port():
    merged = merge(
        {"ports": [{"id": "a", "internal": 80, "external": 8080}, {"id": "b", "internal": 443}]},
        {"ports": [{"id": "c", "internal": 80, "external": 9090}]},
    )
    assert sorted((p["internal"], p.get("external")) for p in merged["ports"]) == [(80, 9090), (443, None)]


def test_weaker_port_ranges_overlapping_a_stronger_one_on_either_side_are_dropped():
    def rng(i, e):
        return {"id": f"{i}{e}", "internal": {"from": i[0], "to": i[1]}, "external": {"from": e[0], "to": e[1]}}

    image = {
        "portRanges": [rng((100, 110), (1100, 1110)), rng((200, 210), (5005, 5006)), rng((300, 310), (3300, 3310))]
    }
    instance = {"portRanges": [rng((105, 120), (9000, 9010)), rng((400, 410), (5000, 5010))]}
    kept = [(r["internal"]["from"], r["external"]["from"]) for r in merge(image, None, instance)["portRanges"]]
    assert kept == [(105, 9000), (400, 5000), (300, 3300)]


def test_weaker_volumes_with_the_same_path_or_name_are_dropped():
    image = {
        "volumes": [
            {"id": "1", "name": "data", "path": "/data"},
            {"id": "2", "name": "logs", "path": "/var/log"},
            {"id": "3", "name": "cache", "path": "/cache"},
        ]
    }
    deployment = {
        "volumes": [{"id": "4", "name": "data2", "path": "/data"}, {"id": "5", "name": "logs", "path": "/logs"}]
    }
    assert [v["id"] for v in merge(image, deployment)["volumes"]] == ["4", "5", "3"]


def test_labels_and_annotations_merge_per_object_kind():
    image = {"labels": {"deployment": [kv("a", "1")], "service": [kv("b", "1")]}}
    instance = {"labels": {"service": [kv("c", "2")], "ingress": None}}
    merged = merge(image, None, instance)
    assert merged["labels"] == {"deployment": [kv("a", "1")], "service": [kv("c", "2")]}  # ingress: not set


def test_capabilities_are_never_passed_on():
    assert merge({"capabilities": [kv("NET_ADMIN", "1")]}, {"capabilities": [kv("SYS", "1")]})["capabilities"] == []


def test_storage_comes_whole_from_the_strongest_level_that_sets_it():
    merged = merge({"storage": {"storageId": "s1", "bucket": "a"}}, {"storage": {"storageId": "s2", "path": "data"}})
    assert merged["storage"] == {"storageId": "s2", "path": "data"}


def test_without_concrete_secrets_every_declared_key_is_taken_empty():
    image = {"secrets": [{"id": "1", "key": "DB_PASSWORD", "required": True}, {"id": "2", "key": "API_KEY"}]}
    secrets = merge_secrets(image, None, None)
    assert [(s["id"], s["key"], s["value"], s["required"], s["encrypted"]) for s in secrets] == [
        ("1", "DB_PASSWORD", "", True, False),
        ("2", "API_KEY", "", False, False),
    ]


def test_concrete_secrets_merge_by_key_and_missing_required_keys_are_added():
    image = {
        "secrets": [
            {"id": "1", "key": "DB_PASSWORD", "required": True},
            {"id": "2", "key": "OPTIONAL"},
            {"id": "3", "key": "TOKEN", "required": True},
        ]
    }
    deployment = {"secrets": [{"id": "d", "key": "TOKEN", "value": "dep", "encrypted": True, "publicKey": "k"}]}
    instance = {
        "secrets": [
            {"id": "i", "key": "TOKEN", "value": "inst", "encrypted": True, "publicKey": "k"},
            {"id": "j", "key": "EXTRA", "value": "x", "encrypted": True, "publicKey": "k"},
        ]
    }
    secrets = {s["key"]: s["value"] for s in merge_secrets(image, deployment, instance)}
    assert secrets == {"TOKEN": "inst", "EXTRA": "x", "DB_PASSWORD": ""}  # OPTIONAL dropped, required added


def test_merge_leaves_its_inputs_unchanged():
    image = {"environment": [kv("A", "")], "ports": [{"id": "p", "internal": 1}]}
    instance = {"environment": [kv("A", "")]}
    before = copy.deepcopy((image, instance))
    merge(image, None, instance)
    assert (image, instance) == before
