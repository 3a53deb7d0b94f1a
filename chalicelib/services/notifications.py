"""Chat notifications: CRUD, a real test message, and delivery of platform events.

Delivery is two steps on the events queue: an event fans out into one `NotificationDelivery`
per active, subscribed notification; each delivery is then POSTed on its own, so a failing
receiver is retried (and finally dead-lettered) without repeating the others. Nothing here
ever fails the request that caused the event.
"""

from __future__ import annotations

import logging
from typing import Any

from chalicelib import ids
from chalicelib.adapters import observability, outbound, webhooks
from chalicelib.contracts.events import NotificationDelivery
from chalicelib.db import notifications as repo
from chalicelib.db.items import NotificationItem
from chalicelib.domain import notification_messages as messages
from chalicelib.errors import BadRequestError, found_or_404
from chalicelib.models.notifications import NotificationRequest
from chalicelib.models.paging import Page, PageQuery
from chalicelib.services import events
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity

log = logging.getLogger(__name__)


def get_notification(team: TeamAccess, notification_id: str) -> NotificationItem:
    return found_or_404(repo.get(team.team_id, notification_id), "notification")


def list_notifications(team: TeamAccess, query: PageQuery) -> Page[NotificationItem]:
    return repo.page_for_team(team.team_id, query).sorted(lambda n: n.created_at)


def create_notification(team: TeamAccess, identity: Identity, request: NotificationRequest) -> NotificationItem:
    _check_address(request.url)
    item = repo.new_item(
        team.team_id,
        ids.new_id(),
        name=request.name,
        url=request.url,
        kind=request.type.value,
        active=request.active,
        enabled_events=_events(request),
        creator_id=identity.user_id,
        creator_name=identity.name or identity.email,
        now=ids.utcnow(),
    )
    repo.create(team.team_id, item)
    return item


def update_notification(team: TeamAccess, notification_id: str, request: NotificationRequest) -> NotificationItem:
    item = get_notification(team, notification_id)
    _check_address(request.url)
    repo.update(
        team.team_id,
        item,
        name=request.name,
        url=request.url,
        kind=request.type.value,
        active=request.active,
        enabled_events=_events(request),
        now=ids.utcnow(),
    )
    return get_notification(team, notification_id)


def delete_notification(team: TeamAccess, notification_id: str) -> None:
    repo.delete(team.team_id, get_notification(team, notification_id))


def send_test(team: TeamAccess, identity: Identity, notification_id: str) -> None:
    item = get_notification(team, notification_id)
    text = f"Test message from {identity.name or identity.email}: this notification works."
    try:
        webhooks.post(item.url, messages.payload(item.kind, text, "test", team.team_id))
    except webhooks.DeliveryFailed as error:
        raise BadRequestError(f"The test message was not delivered: {error}.", property="url") from None


def fan_out(event: Any) -> int:
    """Queues one delivery per active notification of the team subscribed to the event."""
    wanted = messages.SUBSCRIBERS.get(event.type)
    if not wanted:
        return 0
    text = messages.text(event)
    queued = 0
    for item in repo.list_for_team(event.team_id):
        if item.active and wanted & set(item.enabled_events or []):
            events.publish(
                NotificationDelivery(
                    team_id=event.team_id, notification_id=item.id, event_type=event.type, message=text
                )
            )
            queued += 1
    return queued


def deliver(delivery: NotificationDelivery) -> None:
    """POSTs one message; raises when the receiver fails, so SQS retries it."""
    item = repo.get(delivery.team_id, delivery.notification_id)
    if item is None or not item.active:
        log.info("notification %s is gone or inactive; delivery dropped", delivery.notification_id)
        return
    by_kind = {"Kind": item.kind}
    try:
        webhooks.post(item.url, messages.payload(item.kind, delivery.message, delivery.event_type, delivery.team_id))
    except Exception:
        observability.metric(observability.NOTIFICATION_FAILURES, dimensions=by_kind)
        raise
    observability.metric(observability.NOTIFICATIONS_DELIVERED, dimensions=by_kind)


def _check_address(url: str) -> None:
    """Refuses a URL written with an address the platform may not reach (names are checked at delivery)."""
    if outbound.literal_is_refused(url):
        raise BadRequestError("The platform may not send to this address.", property="url")


def _events(request: NotificationRequest) -> list[str]:
    return list(dict.fromkeys(event.value for event in request.enabled_events))
