"""Pure deployment rules (dyrector §4): statuses, effective configs, start-time checks."""

from __future__ import annotations

import pytest

from chalicelib.contracts.containers import ContainerConfig
from chalicelib.domain import deployments as rules
from chalicelib.errors import BadRequestError, PreconditionFailedError

KEY = "node-public-key"


def sealed(key: str, public_key: str = KEY, **extra) -> dict:
    return {"key": key, "value": "c2VhbGVk", "encrypted": True, "publicKey": public_key, **extra}


def container(instance_id: str, image: dict, instance: dict | None = None) -> rules.Container:
    return rules.Container(instance_id, rules.effective_config(image, None, instance, "1.0"))


def test_a_rolling_deployment_can_be_started_again_after_it_succeeded_but_a_release_cannot():
    assert "successful" in rules.deployable_statuses(rolling=True)
    assert "successful" not in rules.deployable_statuses(rolling=False)
    for rolling in (True, False):
        assert {"preparing", "failed", "obsolete"} <= set(rules.deployable_statuses(rolling))
        assert "in-progress" not in rules.deployable_statuses(rolling)


def test_only_unstarted_or_failed_deployments_change_except_successful_rolling_ones():
    assert set(rules.mutable_statuses(rolling=False)) == {"preparing", "failed"}
    assert set(rules.mutable_statuses(rolling=True)) == {"preparing", "failed", "successful"}
    assert "obsolete" not in rules.mutable_statuses(rolling=True)


def test_the_version_name_fills_the_first_placeholder_of_env_values_and_storage_paths():
    config = rules.with_version_name(
        ContainerConfig.model_validate(
            {
                "environment": [{"key": "TAG", "value": "v{{ versionName }}-{{versionName}}"}],
                "storage": {"bucket": "b-{{versionName}}", "path": None},
            }
        ),
        "1.2",
    )
    assert [(e.key, e.value) for e in config.environment] == [("TAG", "v1.2-{{versionName}}")]
    assert (config.storage.bucket, config.storage.path) == ("b-1.2", None)


def test_the_effective_config_lets_the_instance_override_the_deployment_and_the_image():
    image = {"name": "web", "user": 1, "environment": [{"key": "V", "value": "{{versionName}}"}]}
    config = rules.effective_config(image, {"user": 2}, {"name": "api"}, "2.0")
    assert (config.name, config.user) == ("api", 2)
    assert [(e.key, e.value) for e in config.environment] == [("V", "2.0")]


def test_a_stored_config_the_model_no_longer_accepts_stops_the_start_with_a_readable_reason():
    with pytest.raises(PreconditionFailedError) as raised:
        rules.effective_config({"ports": [{"internal": 65536}]}, None, None, "1.0")
    assert "image config is not valid any more (ports.0.internal:" in raised.value.message


def test_a_container_without_a_configured_name_is_named_after_its_instance():
    assert rules.container_name(ContainerConfig(name="web"), "i1") == "web"
    assert rules.container_name(ContainerConfig(), "i1") == "i1"
    unnamed = rules.containers([("i1", {}, None), ("i2", None, {})], None, "1.0")
    rules.check_startable(unnamed, KEY)  # two unnamed containers are i1 and i2, not two ''


def test_a_copy_for_another_node_keeps_secret_keys_but_drops_their_sealed_values():
    config = {"user": 5, "secrets": [sealed("DB_PASSWORD", required=True)]}
    assert rules.without_secret_values(config) == {
        "user": 5,
        "secrets": [{"key": "DB_PASSWORD", "value": "", "encrypted": False, "publicKey": None, "required": True}],
    }
    assert config["secrets"][0]["value"] == "c2VhbGVk"  # the source is left as it was


def test_a_patch_replaces_given_fields_clears_nulls_and_merges_label_sub_maps():
    stored = {"user": 1, "tty": True, "labels": {"deployment": [{"key": "a"}], "service": [{"key": "b"}]}}
    patched = rules.merge_patch(stored, {"tty": None, "user": 5, "labels": {"deployment": []}})
    assert patched == {"user": 5, "labels": {"deployment": [], "service": [{"key": "b"}]}}


def test_containers_with_sealed_secrets_and_distinct_names_can_start():
    rules.check_startable(
        [
            container(
                "i1",
                {"name": "web", "secrets": [{"key": "A", "required": True}]},
                {"secrets": [sealed("A", required=True)]},
            ),
            container("i2", {"name": "db", "ports": [{"internal": 5432}]}),
        ],
        KEY,
    )


def test_two_containers_with_one_name_cannot_start():
    with pytest.raises(BadRequestError) as raised:
        rules.check_startable([container("i1", {"name": "web"}), container("i2", {}, {"name": "web"})], KEY)
    assert (raised.value.property, raised.value.value) == ("name", "web")


def test_a_required_secret_without_a_value_blocks_the_start_and_names_the_instance():
    with pytest.raises(PreconditionFailedError) as raised:
        rules.check_startable([container("i1", {"secrets": [{"key": "TOKEN", "required": True}]})], KEY)
    assert raised.value.value == {"instanceId": "i1", "secretKeys": ["TOKEN"]}


def test_a_secret_sealed_for_another_key_of_the_node_must_be_sealed_again():
    with pytest.raises(PreconditionFailedError) as raised:
        rules.check_startable([container("i1", {}, {"secrets": [sealed("TOKEN", public_key="old-key")]})], KEY)
    assert raised.value.property == "secrets"
    assert raised.value.value == {"instanceId": "i1", "secretKeys": ["TOKEN"]}


@pytest.mark.parametrize("port", [0, 8005])
def test_a_port_outside_1_to_65535_or_inside_a_port_range_blocks_the_start(port):
    ranges = [{"internal": {"from": 8000, "to": 8010}, "external": {"from": 9000, "to": 9010}}]
    with pytest.raises(BadRequestError) as raised:
        rules.check_startable([container("i1", {"ports": [{"internal": port}], "portRanges": ranges})], KEY)
    assert (raised.value.property, raised.value.value) == ("ports", port)
