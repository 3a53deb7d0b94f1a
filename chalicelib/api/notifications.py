"""Chat notifications (`/api/{teamSlug}/notifications`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.notifications import NotificationListItem, NotificationRequest, NotificationResponse
from chalicelib.models.paging import PageQuery
from chalicelib.services import notifications

if TYPE_CHECKING:
    from chalicelib.db.items import NotificationItem

route = Router("Notifications")
BASE = "/api/{teamSlug}/notifications"


def _item(item: NotificationItem) -> dict[str, Any]:
    return {
        "type": item.kind,
        "id": item.id,
        "name": item.name,
        "url": item.url,
        "active": bool(item.active),
        "creator_name": item.creator_name,
    }


def _details(item: NotificationItem) -> dict[str, Any]:
    return {**_item(item), "enabled_events": list(item.enabled_events or [])}


@route.get(BASE, summary="List the team's notifications", query=PageQuery, response=list[NotificationListItem])
def list_notifications(ctx: RequestContext, team_slug: str, query: PageQuery):
    return notifications.list_notifications(ctx.team, query).map(_item)


@route.post(
    BASE,
    summary="Create a notification",
    body=NotificationRequest,
    response=NotificationResponse,
    status=201,
    errors=(409,),
)
def create_notification(ctx: RequestContext, team_slug: str, body: NotificationRequest):
    return _details(notifications.create_notification(ctx.team, ctx.user, body))


@route.get(BASE + "/{notificationId}", summary="A notification's details", response=NotificationResponse)
def get_notification(ctx: RequestContext, team_slug: str, notification_id: str):
    return _details(notifications.get_notification(ctx.team, notification_id))


@route.put(
    BASE + "/{notificationId}",
    summary="Change a notification",
    body=NotificationRequest,
    response=NotificationResponse,
    errors=(409,),
)
def update_notification(ctx: RequestContext, team_slug: str, notification_id: str, body: NotificationRequest):
    return _details(notifications.update_notification(ctx.team, notification_id, body))


@route.delete(BASE + "/{notificationId}", summary="Delete a notification", status=204)
def delete_notification(ctx: RequestContext, team_slug: str, notification_id: str) -> None:
    notifications.delete_notification(ctx.team, notification_id)


@route.post(
    BASE + "/{notificationId}/test",
    summary="Send a test message to the notification's webhook",
    status=204,
    errors=(400,),
)
def test_notification(ctx: RequestContext, team_slug: str, notification_id: str) -> None:
    notifications.send_test(ctx.team, ctx.user, notification_id)
