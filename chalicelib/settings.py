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

# Team slugs that would collide with a route: the literal segments under /api (`/api/teams`…), and
# `api` itself, since the web console's team screens live at `/<slug>/…` beside `/api`.
RESERVED_SLUGS = frozenset(
    {"teams", "tokens", "users", "templates", "health", "auth", "agent", "docs", "openapi.json", "socket", "api"}
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


def outbound_allowed_networks() -> str:
    """Comma-separated CIDRs that requests to user-given URLs may reach although they are not public
    (`none`: only public addresses). Link-local addresses stay refused whatever it says."""
    return _env("OUTBOUND_ALLOWED_NETWORKS", "none")


def session_hours() -> int:
    return int(_env("SESSION_HOURS", "12"))


def email_verification() -> bool:
    """Whether a sign-up must prove its e-mail address by a mailed link before the account can log in
    (on by default; `EMAIL_VERIFICATION=off` only for throwaway local runs and scripted demos)."""
    return _env("EMAIL_VERIFICATION", "on").strip().lower() not in {"off", "0", "false", "no"}


def mail_link_minutes() -> int:
    """How long a mailed verification or password-reset link works (single use)."""
    return int(_env("MAIL_LINK_MINUTES", "60"))


def log_mail() -> bool:
    """Set by the local stack only (`make run`): each mail sent is also written to the log, one line."""
    return _env("LOCAL_MAIL_LOG", "") == "1"


def login_failures_per_source() -> int:
    """Failed logins one source address may make (across accounts) before it is throttled."""
    return int(_env("LOGIN_FAILURES_PER_SOURCE", "30"))


def invitations_per_day() -> int:
    """How many invitation mails one team may send per (UTC) day."""
    return int(_env("INVITATIONS_PER_DAY", "50"))


def reinvite_cooldown_minutes() -> int:
    """How long after an invitation mail the same person can be sent another."""
    return int(_env("REINVITE_COOLDOWN_MINUTES", "10"))


def users_per_team() -> int:
    """How many users one team may hold, members and invitations together (what team details lists):
    an invitation beyond it is a 409 until one is removed."""
    return int(_env("USERS_PER_TEAM", "100"))


def teams_per_user() -> int:
    """How many teams one user may be a member of: creating or joining one more is a 409."""
    return int(_env("TEAMS_PER_USER", "100"))


def open_invitations_per_user() -> int:
    """How many invitations one user may hold that they have not answered (pending or expired; a declined
    one no longer counts): inviting them to one more team is a 409 for the inviter."""
    return int(_env("OPEN_INVITATIONS_PER_USER", "100"))


def versions_per_project() -> int:
    """How many versions one project may hold: creating or increasing one more is a 409."""
    return int(_env("VERSIONS_PER_PROJECT", "100"))


def version_details_deployments() -> int:
    """How many of a version's deployments its details show, newest first (the paged deployment list
    has them all)."""
    return int(_env("VERSION_DETAILS_DEPLOYMENTS", "100"))


def invitation_days() -> int:
    return int(_env("INVITATION_DAYS", "7"))


def node_timeout_seconds() -> int:
    """Silence after which the health sweep marks a node unreachable: a safety net for a lost
    `$disconnect`, so it waits out three last-seen intervals (about 48 minutes by default)."""
    return int(_env("NODE_TIMEOUT_SECONDS", str(3 * ping_seconds() * seen_every_pings())))


def health_sweep_max_nodes() -> int:
    """How many silent nodes one health-sweep run marks unreachable; the rest stay in the index for the
    next run (a minute later), so a mass drop never outlasts the function's timeout."""
    return int(_env("HEALTH_SWEEP_MAX_NODES", "1000"))


def health_sweep_max_deployments() -> int:
    """How many stuck deployments one health-sweep run fails; the rest wait for the next run."""
    return int(_env("HEALTH_SWEEP_MAX_DEPLOYMENTS", "500"))


def event_retention_days() -> int:
    """How long a deployment's log and a node's audit events are kept (DynamoDB TTL) before they expire."""
    return int(_env("EVENT_RETENTION_DAYS", "90"))


def socket_url() -> str:
    """The WebSocket API agents and consoles connect to (wss://… on AWS, the local gateway locally)."""
    return _env("SOCKET_URL", "")


def socket_management_url() -> str:
    """That API's `@connections` management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage})."""
    return _env("SOCKET_MANAGEMENT_URL", "")


def ping_seconds() -> int:
    """How often a connected agent pings: inside API Gateway's 10-minute idle timeout."""
    return int(_env("AGENT_PING_SECONDS", "480"))


def reconnect_seconds() -> int:
    """After how long an agent replaces its connection (API Gateway closes one at 2 hours)."""
    return int(_env("AGENT_RECONNECT_SECONDS", "6600"))


def seen_every_pings() -> int:
    """Every how many pings an agent asks for a last-seen write (the only table write of an idle agent)."""
    return int(_env("AGENT_SEEN_EVERY_PINGS", "2"))


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


def audit_retention_days() -> int:
    """How many whole UTC days a team's audit entries are kept after the day they were written: they
    (and their day counts) carry a DynamoDB TTL, and the audit log never shows older ones."""
    return int(_env("AUDIT_RETENTION_DAYS", "90"))


def audit_filter_max_scan() -> int:
    """How many of the newest entries in the asked range an audit-log `filter=` search reads, at most:
    matches among older ones are neither returned nor counted in `total`."""
    return int(_env("AUDIT_FILTER_MAX_SCAN", "1000"))


# --- Operations (docs/operations.md): logs, metrics, traces ---------------------------------------


def service_name() -> str:
    """Names this deployment in every log line, metric and trace (the stack's Prefix on AWS)."""
    return _env("SERVICE_NAME", "dyrector")


def log_format() -> str:
    """`json` (default; what AWS gets: one JSON object per line) or `console` (readable; `make run`)."""
    return "console" if _env("LOG_FORMAT", "json").strip().lower() == "console" else "json"


def log_level() -> str:
    return _env("LOG_LEVEL", "INFO").strip().upper()


def metrics_namespace() -> str:
    """The CloudWatch namespace of the platform's metrics (the template's `MetricsNamespace`)."""
    return _env("METRICS_NAMESPACE", "dyrector")


def tracing() -> bool:
    """X-Ray tracing of every function (on in the AWS template; off locally unless `TRACING=on`)."""
    return _env("TRACING", "off").strip().lower() in {"on", "1", "true", "yes"}


def on_lambda() -> bool:
    """Running in AWS Lambda (not under `make run` or a test client)."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def max_receive_count() -> int:
    """Receives after which SQS moves a failing message to its dead-letter queue: the `maxReceiveCount`
    of the queues in infra/resources.json (tests/infra/test_template.py holds them equal)."""
    return int(_env("MAX_RECEIVE_COUNT", "5"))
