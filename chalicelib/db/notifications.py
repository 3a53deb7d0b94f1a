"""Notifications in the team partition (`NOTIFICATION#<nid>`), name-guarded."""

from __future__ import annotations

from datetime import datetime

from chalicelib.db import keys, named
from chalicelib.db.items import NotificationItem
from chalicelib.errors import not_found, taken
from chalicelib.models.paging import Page, PageQuery


def new_item(
    team_id: str,
    notification_id: str,
    *,
    name: str,
    url: str,
    kind: str,
    active: bool,
    enabled_events: list[str],
    creator_id: str,
    creator_name: str,
    now: datetime,
) -> NotificationItem:
    return NotificationItem(
        keys.team(team_id),
        keys.notification(notification_id),
        id=notification_id,
        name=name,
        url=url,
        kind=kind,
        active=active,
        enabled_events=enabled_events,
        creator_id=creator_id,
        creator_name=creator_name,
        created_at=now,
        updated_at=now,
    )


def get(team_id: str, notification_id: str) -> NotificationItem | None:
    return named.get(NotificationItem, team_id, keys.notification(notification_id))


def list_for_team(team_id: str) -> list[NotificationItem]:
    return sorted(named.query(NotificationItem, team_id, keys.NOTIFICATION_PREFIX), key=lambda n: n.created_at)


def page_for_team(team_id: str, query: PageQuery) -> Page[NotificationItem]:
    return named.page(NotificationItem, team_id, keys.NOTIFICATION_PREFIX, query)


def create(team_id: str, item: NotificationItem) -> None:
    named.create(team_id, item, keys.notification_name(item.name), taken("notification", value=item.name))


def update(
    team_id: str,
    item: NotificationItem,
    *,
    name: str,
    url: str,
    kind: str,
    active: bool,
    enabled_events: list[str],
    now: datetime,
) -> None:
    named.update(
        team_id,
        item,
        keys.notification_name(item.name),
        keys.notification_name(name),
        [
            NotificationItem.name.set(name),
            NotificationItem.url.set(url),
            NotificationItem.kind.set(kind),
            NotificationItem.active.set(active),
            NotificationItem.enabled_events.set(enabled_events),
            NotificationItem.updated_at.set(now),
        ],
        taken("notification", value=name),
        not_found("notification"),
    )


def delete(team_id: str, item: NotificationItem) -> None:
    named.delete(team_id, item, keys.notification_name(item.name))
