from tests.fixtures.docker_engine import prefix  # noqa: F401
