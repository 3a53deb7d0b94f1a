"""Deploy queue consumer: one message = one try of one deployment (see services.dispatch).

A malformed message (not a `DeployRequested`) raises, so SQS retries it and finally moves it
to the dead-letter queue; every other message is idempotent.
"""

from __future__ import annotations

import logging

from chalicelib.adapters import observability
from chalicelib.contracts.deploy import DeployRequested
from chalicelib.services import dispatch

log = logging.getLogger(__name__)


def handle(body: str) -> None:
    message = DeployRequested.model_validate_json(body)
    observability.bind(team_id=message.team_id, deployment_id=message.deployment_id, attempt=message.attempt)
    outcome = dispatch.dispatch(message.team_id, message.deployment_id, message.attempt, message.instances)
    log.info("deployment %s try %s: %s", message.deployment_id, message.attempt, outcome)
