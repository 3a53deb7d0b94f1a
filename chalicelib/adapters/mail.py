"""E-mail through SES (moto records what would have been sent; the local stack also logs it)."""

from __future__ import annotations

import logging
import re

from chalicelib import settings
from chalicelib.adapters import aws

log = logging.getLogger(__name__)
_LINK = re.compile(r"https?://\S+|\"token\": \"[\w-]+\"")


def send(to: str, subject: str, text: str) -> str:
    response = aws.client("ses").send_email(
        Source=settings.mail_sender(),
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
        },
    )
    if settings.log_mail():  # the local stack only (`make run`): there is no mailbox to read
        log.info("mail to %s: %s %s", to, subject, " ".join(_LINK.findall(text)))
    return response["MessageId"]
