"""Delivers platform events from the events queue: invitation e-mails and chat notifications.

A domain event fans out into per-notification deliveries (see services.notifications); a
delivery that fails raises, so SQS redelivers just that message and, after the queue's
maxReceiveCount, moves it to the dead-letter queue.
"""

from __future__ import annotations

from chalicelib.adapters import mail
from chalicelib.contracts import events
from chalicelib.services import notifications


def invitation_text(event: events.UserInvited) -> str:
    return (
        f"Hello {event.invitee_name},\n\n"
        f'{event.inviter_name} invited you to the team "{event.team_name}".\n\n'
        f"Accept the invitation: {event.accept_url}\n"
        f"(log in first; if you have no account yet, sign up with this e-mail address at {event.signup_url}).\n\n"
        f"The invitation expires in {event.expires_in_days} days.\n"
    )


def handle(body: str) -> None:
    event = events.EVENT.validate_json(body)
    if isinstance(event, events.NotificationDelivery):
        notifications.deliver(event)
        return
    if isinstance(event, events.UserInvited):
        mail.send(event.email, f"You are invited to {event.team_name}", invitation_text(event))
    notifications.fan_out(event)
