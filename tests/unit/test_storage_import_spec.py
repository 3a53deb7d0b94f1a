"""What a storage import asks the engine for (agent/runtime/storage_import.py) and the node's settings
(agent/settings.py), checked without an engine."""

from __future__ import annotations

import pytest

from agent.runtime.docker_spec import DeployError
from agent.runtime.storage_import import endpoint, import_spec
from agent.settings import DEFAULT_RCLONE_IMAGE, DEFAULT_TRAEFIK_IMAGE, DockerSettings, SettingsError


def spec(**given):
    inputs = {
        "prefix": "shop",
        "name": "web",
        "container": "shop-web",
        "bucket": "assets/site",
        "volume_name": "data",
        "volumes": {"data": "shop-web-data", "cache": "/srv/cache"},
        "url": "https://s3.example.com",
        "access_key": "AKIA",
        "secret_key": "s3cr3t",
        "image": "rclone/rclone:1.57.0",
        "network_mode": None,
    }
    return import_spec(**{**inputs, **given})


def test_the_import_syncs_the_bucket_into_the_volume_named_by_storage_path():
    job = spec()
    assert (job.name, job.short_name, job.image) == ("shop-web-import", "web-import", "rclone/rclone:1.57.0")
    assert job.command == ["sync", "s3:assets/site", "/data/output"]
    assert job.volume == "shop-web-data"
    # it carries the prefix's labels: deleting the prefix removes one an agent left behind
    assert job.labels == {"org.dyrectorio.container.prefix": "shop", "org.dyrectorio.container.name": "web-import"}
    assert spec(volume_name="cache").volume == "/srv/cache"


def test_rclone_reads_its_remote_and_a_private_storages_keys_from_the_environment():
    assert spec().environment == {
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Other",
        "RCLONE_CONFIG_S3_ENDPOINT": "https://s3.example.com",
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": "AKIA",
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": "s3cr3t",
    }
    public = spec(access_key=None, secret_key=None).environment
    assert not any("KEY" in name for name in public)


@pytest.mark.parametrize(
    ("url", "expected"),
    [("s3.example.com", "https://s3.example.com"), ("http://minio:9000", "http://minio:9000")],
)
def test_a_url_without_scheme_gets_https_as_dyrector_does(url, expected):
    assert endpoint(url) == expected


def test_a_path_that_names_no_persistent_volume_or_a_missing_bucket_fails_the_deployment():
    with pytest.raises(DeployError, match=r"storage.path 'nope' names no persistent volume.*cache, data"):
        spec(volume_name="nope")
    with pytest.raises(DeployError, match="storage.bucket"):
        spec(bucket="")


def test_settings_default_to_dagents_images_and_read_the_environment():
    assert DockerSettings.from_env({}) == DockerSettings()
    assert (DockerSettings().rclone_image, DockerSettings().traefik.image) == (
        DEFAULT_RCLONE_IMAGE,
        DEFAULT_TRAEFIK_IMAGE,
    )
    assert (DEFAULT_RCLONE_IMAGE, DEFAULT_TRAEFIK_IMAGE) == ("rclone/rclone:1.57.0", "traefik:v2.8")
    got = DockerSettings.from_env(
        {
            "ROOT_DOMAIN": "apps.example.com",
            "TRAEFIK_ENABLED": "true",
            "TRAEFIK_TLS": "1",
            "TRAEFIK_ACME_EMAIL": "ops@example.com",
            "TRAEFIK_PORT": "8080",
            "RCLONE_IMAGE": "local/rclone:1",
            "RCLONE_NETWORK": "host",
            "CRASH_WINDOW_SECONDS": "0.5",
        }
    )
    assert (got.crash_window, DockerSettings.from_env({}).crash_window) == (0.5, 0.0)
    assert got.root_domain == "apps.example.com" and (got.rclone_image, got.rclone_network) == (
        "local/rclone:1",
        "host",
    )
    assert (got.traefik.enabled, got.traefik.tls, got.traefik.port, got.traefik.acme_email) == (
        True,
        True,
        8080,
        "ops@example.com",
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRAEFIK_ENABLED": "maybe"}, "TRAEFIK_ENABLED"),
        ({"TRAEFIK_PORT": "http"}, "TRAEFIK_PORT"),
        ({"TRAEFIK_TLS_PORT": "70000"}, "TRAEFIK_TLS_PORT"),
        ({"TRAEFIK_ENABLED": "true", "TRAEFIK_TLS": "true"}, "TRAEFIK_ACME_MAIL"),
        ({"CRASH_WINDOW_SECONDS": "soon"}, "CRASH_WINDOW_SECONDS"),
        ({"CRASH_WINDOW_SECONDS": "-1"}, "CRASH_WINDOW_SECONDS"),
    ],
)
def test_a_bad_setting_names_its_variable(env, named):
    with pytest.raises(SettingsError, match=named):
        DockerSettings.from_env(env)


@pytest.mark.parametrize(
    ("node_type", "version", "storage", "exposes", "refused"),
    [
        ("docker", "0.2.0", True, False, "storage imports"),
        ("docker", "0.2.3", False, True, "routing exposed containers"),
        ("docker", "0.2.0", True, True, "storage imports or routing exposed containers"),
        ("k8s", "0.2.0", False, True, None),  # Kubernetes agents made Ingresses before 0.3
        ("k8s", "0.2.0", True, False, "storage imports"),
        ("docker", "0.2.0", False, False, None),  # everything else still deploys on a 0.2 agent
        ("docker", "0.3.0", True, True, None),
        ("docker", "1.0.0-abc (2026-01-01)", True, True, None),
    ],
)
def test_an_agent_that_would_skip_a_storage_import_or_a_route_gets_a_reason_instead(
    node_type, version, storage, exposes, refused
):
    from chalicelib.domain.nodes import unsupported_features

    reason = unsupported_features(node_type, version, imports_storage=storage, exposes=exposes)
    if refused is None:
        assert reason is None
    else:
        assert f"The node's agent ({version}) does not support {refused}: update it" in reason
