"""Runtime configuration, read from the environment on every call.

Nothing here is cached at import: tests, the local stack and Lambda each set the
environment before the first request, and an emulator switch needs no reimport.
Resource names default to the names `infra/resources.json` gives them, so a
process that only knows the stack prefix still finds everything.
"""

from __future__ import annotations

import os

VERSION = "0.1.0"
# Bumped whenever the item layout in chalicelib/db changes incompatibly.
SCHEMA_VERSION = "2026-11-22.1"

RESERVED_SLUGS = frozenset(
    {"teams", "tokens", "users", "templates", "health", "auth", "agent", "docs", "openapi.json"}
)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value else default


def region() -> str:
    return _env("AWS_DEFAULT_REGION", _env("AWS_REGION", "us-east-1"))


def endpoint_url() -> str | None:
    """The AWS endpoint override (moto or LocalStack); None means real AWS."""
    return os.environ.get("AWS_ENDPOINT_URL") or None


def table_name() -> str:
    return _env("TABLE_NAME", "dyrector")


def deploy_queue_name() -> str:
    return _env("DEPLOY_QUEUE_NAME", "dyrector-deploy")


def events_queue_name() -> str:
    return _env("EVENTS_QUEUE_NAME", "dyrector-events")


def bucket_name() -> str:
    return _env("BUCKET_NAME", "dyrector-artifacts")


def kms_key_id() -> str:
    return _env("KMS_KEY_ID", "alias/dyrector")


def jwt_secret_id() -> str:
    return _env("JWT_SECRET_ID", "dyrector/jwt-signing-key")


def mail_sender() -> str:
    return _env("MAIL_SENDER", "no-reply@dyrector.local")


def public_url() -> str:
    """Base URL users and agents reach the API at (used in links and install scripts)."""
    return _env("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")


def session_hours() -> int:
    return int(_env("SESSION_HOURS", "12"))


def invitation_days() -> int:
    return int(_env("INVITATION_DAYS", "7"))
