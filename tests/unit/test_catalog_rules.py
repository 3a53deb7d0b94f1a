"""Version rules (dyrector §3), image references and label pre-fill, container config validation."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from chalicelib.domain import images, versions
from chalicelib.domain.deployments import merge_patch
from chalicelib.models.containers import ImageConfig, InstanceConfig


@pytest.mark.parametrize(
    "kind,child,statuses,mutable",
    [
        ("rolling", False, ["successful", "in-progress"], True),
        ("incremental", False, [], True),
        ("incremental", False, ["preparing", "failed"], True),
        ("incremental", False, ["successful"], False),
        ("incremental", False, ["obsolete"], False),
        ("incremental", True, [], False),
    ],
)
def test_mutability_by_type_child_and_deployments(kind, child, statuses, mutable):
    assert versions.is_mutable(kind, child, statuses) is mutable


def test_only_childless_incremental_versions_are_increasable():
    assert versions.is_increasable("incremental", False)
    assert not versions.is_increasable("incremental", True)
    assert not versions.is_increasable("rolling", False)


@pytest.mark.parametrize(
    "kind,project,child,statuses,deletable",
    [
        ("rolling", "versioned", False, [], True),
        ("rolling", "versionless", False, [], False),
        ("rolling", "versioned", False, ["successful"], False),
        ("incremental", "versioned", False, ["failed", "preparing"], True),
        ("incremental", "versioned", True, [], False),
        ("incremental", "versioned", False, ["successful"], False),
    ],
)
def test_deletion_rules(kind, project, child, statuses, deletable):
    assert (versions.deletion_blocker(kind, project, child, statuses) is None) is deletable


def test_a_project_with_a_deployment_in_progress_is_not_deletable():
    assert versions.project_deletable(0)
    assert not versions.project_deletable(1)


def test_image_reference_split_and_validation():
    assert images.split_reference("library/nginx:1.25") == ("library/nginx", "1.25")
    assert images.split_reference("redis") == ("redis", None)
    assert images.reference_error("library/nginx", "1.25") is None
    assert images.reference_error("Nginx", None)
    assert images.reference_error("a//b", None)
    assert images.reference_error("nginx", "bad tag")


def test_container_names_are_valid_and_unique_within_a_version():
    taken = {"web"}
    assert images.container_name("acme/web", taken) == "web-2"
    assert images.container_name("library/x", set()) == "x-container"


def test_env_labels_prefill_environment_and_secret_keys():
    config = images.config_from_labels(
        {
            "org.dyrectorio.env.PORT": "int,default:8080",
            "org.dyrectorio.env.MODE": "string,required",
            "org.dyrectorio.env.DB_PASSWORD": "string,required,secret",
            "org.dyrectorio.env.OPTIONAL": "string",
            "maintainer": "someone",
        }
    )
    assert [(e["key"], e["value"]) for e in config["environment"]] == [("MODE", ""), ("PORT", "8080")]
    assert [(s["key"], s["required"]) for s in config["secrets"]] == [("DB_PASSWORD", True)]


def test_config_rejects_unknown_enum_duplicate_keys_and_bad_ports():
    for body in (
        {"restartPolicy": "sometimes"},
        {"expose": "public"},
        {"logConfig": {"driver": "fancy"}},
        {"volumes": [{"name": "a", "path": "/a", "type": "big"}]},
        {"environment": [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]},
        {"ports": [{"internal": 70000}]},
        {"user": -2},
        {"environment": [{"key": "has space"}]},
        {"portRanges": [{"internal": {"from": 10, "to": 5}, "external": {"from": 1, "to": 2}}]},
        {"unknownField": 1},
    ):
        with pytest.raises(ValidationError):
            ImageConfig.model_validate_json(json.dumps(body), strict=True)


def test_list_items_get_ids_that_are_kept_in_the_stored_config():
    stored = ImageConfig.model_validate_json('{"environment":[{"key":"A","value":"1"}]}', strict=True).stored()
    assert stored["environment"][0]["id"] and stored == {"environment": [stored["environment"][0]]}


def test_encrypted_instance_secret_needs_its_public_key():
    with pytest.raises(ValidationError):
        InstanceConfig.model_validate({"secrets": [{"key": "K", "value": "ciphertext", "encrypted": True}]})


def test_patch_replaces_given_fields_clears_nulls_and_merges_label_sub_maps():
    stored = {"name": "web", "tty": True, "labels": {"service": [{"id": "1", "key": "a", "value": "b"}]}}
    patched = merge_patch(stored, {"tty": None, "user": 5, "labels": {"ingress": []}})
    assert patched == {
        "name": "web",
        "user": 5,
        "labels": {"service": [{"id": "1", "key": "a", "value": "b"}], "ingress": []},
    }
