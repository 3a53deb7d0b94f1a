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


def password_hash_profile() -> str:
    """Which argon2id cost `security/passwords.py` hashes new passwords with: `rfc9106` (RFC 9106's
    low-memory profile, for production) or `test` (cheapest; test suites only). Hashes carry their own
    parameters, so passwords hashed under one profile still verify under another."""
    return _env("PASSWORD_HASH_PROFILE", "rfc9106")


def session_hours() -> int:
    return int(_env("SESSION_HOURS", "12"))


def invitation_days() -> int:
    return int(_env("INVITATION_DAYS", "7"))


def heartbeat_seconds() -> int:
    """How often agents report in; a node is unreachable after `node_timeout_seconds` of silence."""
    return int(_env("AGENT_HEARTBEAT_SECONDS", "15"))


def node_timeout_seconds() -> int:
    return int(_env("NODE_TIMEOUT_SECONDS", "60"))


def poll_wait_seconds() -> int:
    """Longest a command long-poll is held open (API Gateway stops a request at 29 s)."""
    return int(_env("AGENT_POLL_WAIT_SECONDS", "20"))


def install_minutes() -> int:
    return int(_env("INSTALL_SCRIPT_MINUTES", "10"))


def agent_reply_seconds() -> float:
    """How long a container call that needs the agent's answer (list, delete) waits for it."""
    return float(_env("AGENT_REPLY_SECONDS", "10"))


def agent_package_key() -> str:
    """S3 key of the agent program (a zipapp) that install scripts and updates download."""
    from chalicelib.contracts.agent import AGENT_VERSION

    return _env("AGENT_PACKAGE_KEY", f"agent/dyrector-agent-{AGENT_VERSION}.pyz")


def deployment_timeout_seconds() -> int:
    """A deployment still in progress after this long (agent gone) is failed by the health schedule."""
    return int(_env("DEPLOYMENT_TIMEOUT_SECONDS", "900"))
