from tests.fixtures.docker_engine import busybox_image, docker_client, prefix  # noqa: F401
