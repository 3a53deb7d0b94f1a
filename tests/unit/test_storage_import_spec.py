"""What a storage import runs (agent/runtime/storage_sync.py, shared by both runtimes), what it asks the
Docker engine for (agent/runtime/storage_import.py) and the node's settings (agent/settings.py),
checked without an engine."""

from __future__ import annotations

import pytest

from agent.runtime.docker_spec import DeployError
from agent.runtime.storage_import import import_spec
from agent.runtime.storage_sync import endpoint, planned
from agent.settings import (
    DEFAULT_RCLONE_IMAGE,
    DEFAULT_TRAEFIK_IMAGE,
    DockerSettings,
    KubernetesSettings,
    SettingsError,
)
from chalicelib.contracts.agent import StorageSource, Workload


def opened(sealed: str) -> str:
    return sealed.removeprefix("sealed:")


def sync(storage: dict | None = None, source: StorageSource | None = None, image: str = "rclone/rclone:1.57.0"):
    """The import of a workload whose config's storage is `storage` (default: bucket assets/site into `data`)."""
    workload = Workload(
        instance_id="i1",
        name="web",
        image="acme/web:1",
        storage=source
        or StorageSource(
            url="https://s3.example.com", sealed_access_key="sealed:AKIA", sealed_secret_key="sealed:s3cr3t"
        ),
        config={"storage": storage or {"storageId": "st-1", "bucket": "assets/site", "path": "data"}},
    )
    return planned(workload, opened, image)


def spec(**storage):
    return import_spec(
        prefix="shop",
        name="web",
        container="shop-web",
        sync=sync({"storageId": "st-1", "bucket": "assets/site", "path": "data", **storage}),
        volumes={"data": "shop-web-data", "cache": "/srv/cache"},
        network_mode=None,
    )


def test_the_import_syncs_the_bucket_into_the_volume_named_by_storage_path():
    job = spec()
    assert (job.name, job.short_name, job.image) == ("shop-web-import", "web-import", "rclone/rclone:1.57.0")
    assert job.command == ["sync", "s3:assets/site", "/data/output"]
    assert job.volume == "shop-web-data"
    # it carries the prefix's labels: deleting the prefix removes one an agent left behind
    assert job.labels == {"org.dyrectorio.container.prefix": "shop", "org.dyrectorio.container.name": "web-import"}
    assert spec(path="cache").volume == "/srv/cache"


def test_rclone_reads_its_remote_and_a_private_storages_keys_from_the_environment():
    assert spec().environment == {
        "RCLONE_CONFIG_S3_TYPE": "s3",
        "RCLONE_CONFIG_S3_PROVIDER": "Other",
        "RCLONE_CONFIG_S3_ENDPOINT": "https://s3.example.com",
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": "AKIA",
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": "s3cr3t",
    }
    public = sync(source=StorageSource(url="https://s3.example.com"))
    assert public.keys == {} and not any("KEY" in name for name in public.environment)
    # the keys are kept apart from the remote: the Kubernetes runtime puts only them in a Secret
    assert set(sync().keys) == {"RCLONE_CONFIG_S3_ACCESS_KEY_ID", "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY"}
    assert not any("KEY" in name for name in sync().remote)


@pytest.mark.parametrize(
    ("url", "expected"),
    [("s3.example.com", "https://s3.example.com"), ("http://minio:9000", "http://minio:9000")],
)
def test_a_url_without_scheme_gets_https_as_dyrector_does(url, expected):
    assert endpoint(url) == expected


def test_a_config_without_a_storage_imports_nothing_and_one_without_its_source_or_bucket_is_refused():
    assert sync({"bucket": "b", "path": "data"}) is None  # no storageId: no storage set
    no_source = Workload(instance_id="i", name="web", image="i", config={"storage": {"storageId": "s", "bucket": "b"}})
    with pytest.raises(ValueError, match="carries no storage"):
        planned(no_source, opened, "rclone")
    with pytest.raises(ValueError, match="storage.bucket"):
        sync({"storageId": "st-1", "path": "data"})


def test_a_path_that_names_no_persistent_volume_fails_the_deployment():
    with pytest.raises(DeployError, match=r"storage.path 'nope' names no persistent volume.*cache, data"):
        spec(path="nope")


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


def test_a_kubernetes_node_reads_its_root_domain_and_rclone_image():
    assert KubernetesSettings.from_env({}) == KubernetesSettings(root_domain=None, rclone_image=DEFAULT_RCLONE_IMAGE)
    got = KubernetesSettings.from_env({"ROOT_DOMAIN": "apps.example.com", "RCLONE_IMAGE": "mirror/rclone:1"})
    assert (got.root_domain, got.rclone_image) == ("apps.example.com", "mirror/rclone:1")


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
        ("k8s", "0.3.0", True, True, "storage imports"),  # Kubernetes agents import storages since 0.4
        ("k8s", "0.4.0", True, True, None),
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


@pytest.mark.parametrize(
    ("node_type", "version", "refused"),
    [("k8s", "0.3.0", True), ("k8s", "0.4.0", False), ("docker", "0.2.0", False)],  # dyrector: N/A on Docker
)
def test_a_kubernetes_agent_that_would_skip_a_config_container_gets_a_reason_instead(node_type, version, refused):
    from chalicelib.domain.nodes import unsupported_features

    reason = unsupported_features(node_type, version, imports_storage=False, exposes=False, loads_config=True)
    assert (reason is not None) == refused
    assert reason is None or "does not support config containers" in reason
