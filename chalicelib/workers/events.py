"""Delivers platform events from the events queue: invitation e-mails and chat notifications.

A domain event fans out into per-notification deliveries (see services.notifications); a
delivery that fails raises, so SQS redelivers just that message and, after the queue's
maxReceiveCount, moves it to the dead-letter queue.
"""

from __future__ import annotations

from chalicelib.adapters import mail, observability
from chalicelib.contracts import events
from chalicelib.domain.mail_text import plain
from chalicelib.services import notifications


def invitation_subject(event: events.UserInvited) -> str:
    return f"Invitation to the team {plain(event.team_name)}"


def invitation_text(event: events.UserInvited) -> str:
    """A fixed template: the names are the only free text, and they are plain."""
    return (
        "Hello,\n\n"
        f"{plain(event.inviter_name)} invited you to the team {plain(event.team_name)} on dyrector.\n\n"
        f"To accept, log in with this e-mail address and open:\n{event.accept_url}\n"
        f"(no account yet? sign up with this address at {event.signup_url} and verify it first).\n\n"
        f"The invitation expires in {event.expires_in_days} days. If you do not know the sender, ignore this mail.\n"
        "This platform never asks for your password by mail.\n"
    )


def handle(body: str) -> None:
    event = events.EVENT.validate_json(body)
    observability.bind(
        event=event.type,
        team_id=getattr(event, "team_id", None),
        deployment_id=getattr(event, "deployment_id", None),
        node_id=getattr(event, "node_id", None),
        notification_id=getattr(event, "notification_id", None),
    )
    if isinstance(event, events.NotificationDelivery):
        notifications.deliver(event)
        return
    if isinstance(event, events.UserInvited):
        mail.send(event.email, invitation_subject(event), invitation_text(event))
    notifications.fan_out(event)
