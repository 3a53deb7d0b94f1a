"""Deploy queue consumer: one message = one try of one deployment (see services.dispatch).

A malformed message raises, so SQS retries it and finally moves it to the dead-letter queue;
every other message is idempotent.
"""

from __future__ import annotations

import json
import logging

from chalicelib.services import dispatch

log = logging.getLogger(__name__)


def handle(body: str) -> None:
    message = json.loads(body)
    outcome = dispatch.dispatch(str(message["teamId"]), str(message["deploymentId"]), int(message["attempt"]),
                                message.get("instances"))
    log.info("deployment %s try %s: %s", message["deploymentId"], message["attempt"], outcome)
