"""Platform events published on the events queue and consumed by `workers.events`."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel


class _Event(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", defer_build=True)

    team_id: str


class UserInvited(_Event):
    type: Literal["user-invited"] = "user-invited"
    team_name: str
    email: str
    invitee_name: str
    inviter_name: str
    accept_url: str
    signup_url: str
    expires_in_days: int


class VersionCreated(_Event):
    type: Literal["version-created"] = "version-created"
    project_id: str
    project_name: str
    version_id: str
    version_name: str
    actor_name: str


class NodeAdded(_Event):
    type: Literal["node-added"] = "node-added"
    node_id: str
    node_name: str
    actor_name: str


class NodeStatusChanged(_Event):
    """A node's agent connected or went unreachable."""

    type: Literal["node-status"] = "node-status"
    node_id: str
    node_name: str
    status: str


class DeploymentStatusChanged(_Event):
    """A deployment reached a final status (successful / failed)."""

    type: Literal["deployment-status"] = "deployment-status"
    deployment_id: str
    status: str
    prefix: str
    project_name: str
    version_name: str
    node_name: str
    actor_name: str


class NotificationDelivery(_Event):
    """One message for one notification: fanned out per receiver so each retries on its own."""

    type: Literal["notification-delivery"] = "notification-delivery"
    notification_id: str
    event_type: str
    message: str


Event = Annotated[
    UserInvited | VersionCreated | NodeAdded | NodeStatusChanged | DeploymentStatusChanged | NotificationDelivery,
    Field(discriminator="type"),
]
EVENT = TypeAdapter(Event, config=ConfigDict(defer_build=True))


def dump(event: _Event) -> str:
    return event.model_dump_json(by_alias=True)
