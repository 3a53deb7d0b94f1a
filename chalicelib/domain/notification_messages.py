"""What a notification says (one short sentence per event) and each chat service's payload (dyrector §9)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chalicelib.contracts import events

TITLE = "dyrector.io"
COLOR = "1555130"
# Which subscriptions receive an event type.
SUBSCRIBERS = {
    "deployment-status": {"deployment-created", "deployment-status"},
    "version-created": {"version-created"},
    "node-added": {"node-added"},
    "node-status": {"node-added"},  # no event of its own in the API: node news goes where node-added goes
    "user-invited": {"user-invited"},
}


def text(event: Any) -> str:
    if isinstance(event, events.DeploymentStatusChanged):
        outcome = "was successful" if event.status == "successful" else f"{event.status}"
        return (
            f"{event.actor_name}'s deployment of {event.project_name} {event.version_name} to node "
            f"{event.node_name} (prefix {event.prefix}) {outcome}."
        )
    if isinstance(event, events.VersionCreated):
        return f"{event.actor_name} created version {event.version_name} of project {event.project_name}."
    if isinstance(event, events.NodeAdded):
        return f"{event.actor_name} added the node {event.node_name}."
    if isinstance(event, events.NodeStatusChanged):
        return f"The node {event.node_name or event.node_id} is {event.status}."
    if isinstance(event, events.UserInvited):
        return f"{event.inviter_name} invited {event.email} to the team {event.team_name}."
    raise ValueError(f"no message for {type(event).__name__}")


def payload(kind: str, message: str, event_type: str, team_id: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    stamp = now.isoformat().replace("+00:00", "Z")
    if kind == "discord":
        return {"embeds": [{"title": TITLE, "description": message, "color": COLOR, "timestamp": stamp}]}
    if kind == "slack":
        return {
            "blocks": [
                {"type": "context", "elements": [{"type": "plain_text", "text": message}]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": now.strftime("%c UTC")}]},
            ]
        }
    if kind == "teams":
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "type": "AdaptiveCard",
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "version": "1.3",
                        "body": [
                            {"type": "TextBlock", "text": TITLE, "size": "large", "weight": "bolder"},
                            {"type": "TextBlock", "text": message, "size": "medium", "wrap": True},
                            {"type": "TextBlock", "text": now.strftime("%c UTC"), "size": "small", "isSubtle": True},
                        ],
                    },
                }
            ],
        }
    if kind in ("rocket", "mattermost"):
        return {"attachments": [{"title": TITLE, "color": COLOR, "text": message, "title_link": "https://dyrector.io"}]}
    return {"event": event_type, "message": message, "teamId": team_id, "createdAt": stamp}
