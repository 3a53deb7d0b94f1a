"""E-mail through SES (moto records what would have been sent)."""

from __future__ import annotations

from chalicelib import settings
from chalicelib.adapters import aws


def send(to: str, subject: str, text: str) -> str:
    response = aws.client("ses").send_email(
        Source=settings.mail_sender(),
        Destination={"ToAddresses": [to]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]
