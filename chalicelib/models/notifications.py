"""Chat notifications (`/api/{teamSlug}/notifications`): which events go to which webhook."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.models.base import Name, RequestModel, ResponseModel

Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=1000, pattern=r"^https?://[^\s/$.?#@][^\s@]*$")
]


class NotificationType(StrEnum):
    discord = "discord"
    slack = "slack"
    teams = "teams"
    rocket = "rocket"
    mattermost = "mattermost"
    webhook = "webhook"  # ours: a generic JSON webhook


class NotificationEvent(StrEnum):
    deployment_created = "deployment-created"  # the documented name; fires on deployment results
    deployment_status = "deployment-status"
    version_created = "version-created"
    node_added = "node-added"
    user_invited = "user-invited"
    image_pushed = "image-pushed"
    image_pulled = "image-pulled"


class NotificationRequest(RequestModel):
    type: NotificationType
    enabled_events: Annotated[list[NotificationEvent], Field(max_length=20)] = Field(default_factory=list)
    name: Name
    url: Url
    active: bool = False


class NotificationListItem(ResponseModel):
    type: NotificationType
    id: str
    name: str
    url: str
    active: bool
    creator_name: str


class NotificationResponse(NotificationListItem):
    enabled_events: list[NotificationEvent]
