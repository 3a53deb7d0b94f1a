"""Notifications: CRUD, real test messages in each service's format, event delivery via SQS."""

from __future__ import annotations

import json
import logging

import pytest

from tests.conftest import unique

KEYS = {"type", "enabledEvents", "id", "name", "url", "active", "creatorName"}


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def create(
    api, owner, team, receiver, kind="discord", path="/hook", events=("deployment-created",), active=True, name=None
):
    response = api.post(
        f"/api/{team['slug']}/notifications",
        owner,
        {
            "type": kind,
            "enabledEvents": list(events),
            "name": name or unique("Ops "),
            "url": receiver.url + path,
            "active": active,
        },
    )
    assert response.status_code == 201, response.body
    return response.json


def test_crud_with_every_documented_field(api, team, receiver):
    owner, team_ = team
    slug = team_["slug"]
    created = create(api, owner, team_, receiver, events=("deployment-created", "version-created"), name="Alerts")
    assert set(created) == KEYS and created["creatorName"] == "Ada Lovelace"
    assert created["enabledEvents"] == ["deployment-created", "version-created"]
    listed = api.get(f"/api/{slug}/notifications", owner).json
    assert [set(n) for n in listed] == [KEYS - {"enabledEvents"}]
    path = f"/api/{slug}/notifications/{created['id']}"
    updated = api.put(
        path,
        owner,
        {
            "type": "slack",
            "enabledEvents": ["node-added"],
            "name": "Alerts 2",
            "url": receiver.url + "/slack",
            "active": False,
        },
    )
    assert updated.status_code == 200
    assert (updated.json["type"], updated.json["enabledEvents"], updated.json["active"]) == (
        "slack",
        ["node-added"],
        False,
    )
    assert api.get(path, owner).json == updated.json
    assert api.delete(path, owner).status_code == 204
    assert api.get(path, owner).status_code == 404


def test_names_are_unique_per_team(api, team, receiver):
    owner, team_ = team
    create(api, owner, team_, receiver, name="Chat")
    again = api.post(
        f"/api/{team_['slug']}/notifications",
        owner,
        {"type": "slack", "name": "chat", "url": receiver.url, "enabledEvents": []},
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"type": "pager", "name": "x", "url": "https://h.example/x"},
        {"type": "slack", "name": "x", "url": "not-a-url"},
        {"type": "slack", "name": "x", "url": "https://h.example/x", "enabledEvents": ["everything"]},
        {"type": "slack", "url": "https://h.example/x"},
    ],
)
def test_bad_bodies_get_400(api, module_team, body):
    owner, team_ = module_team
    assert api.post(f"/api/{team_['slug']}/notifications", owner, body).status_code == 400


@pytest.mark.parametrize(
    "kind,check",
    [
        (
            "discord",
            lambda b: "Test message" in b["embeds"][0]["description"] and b["embeds"][0]["title"] == "dyrector.io",
        ),
        ("slack", lambda b: "Test message" in b["blocks"][0]["elements"][0]["text"]),
        (
            "teams",
            lambda b: (
                b["attachments"][0]["content"]["type"] == "AdaptiveCard"
                and "Test message" in b["attachments"][0]["content"]["body"][1]["text"]
            ),
        ),
        ("rocket", lambda b: "Test message" in b["attachments"][0]["text"]),
        ("mattermost", lambda b: "Test message" in b["attachments"][0]["text"]),
        ("webhook", lambda b: b["event"] == "test" and "Test message" in b["message"] and b["teamId"]),
    ],
)
def test_test_really_posts_in_the_services_format(api, team, receiver, kind, check):
    owner, team_ = team
    item = create(api, owner, team_, receiver, kind=kind, path=f"/{kind}")
    assert api.post(f"/api/{team_['slug']}/notifications/{item['id']}/test", owner).status_code == 204
    [body] = receiver.bodies(f"/{kind}")
    assert check(body), body


def test_a_failing_or_unreachable_webhook_makes_the_test_a_400(api, team, receiver):
    owner, team_ = team
    item = create(api, owner, team_, receiver, path="/broken")
    receiver.status["/broken"] = 500
    response = api.post(f"/api/{team_['slug']}/notifications/{item['id']}/test", owner)
    assert response.status_code == 400 and response.json["property"] == "url"
    assert "/broken" not in response.json["message"] and "500" not in response.json["message"]
    gone = api.put(
        f"/api/{team_['slug']}/notifications/{item['id']}",
        owner,
        {"type": "discord", "name": item["name"], "url": "http://127.0.0.1:9/hook", "active": True},
    )
    assert gone.status_code == 200
    closed = api.post(f"/api/{team_['slug']}/notifications/{item['id']}/test", owner)
    # THEN a closed port and a 500 read the same: the message is no probe of what answers where
    assert closed.status_code == 400 and closed.json["message"] == response.json["message"]


def run_worker(client, bodies):
    event = client.events.generate_sqs_event(message_bodies=bodies, queue_name="dyrector-events")
    return client.lambda_.invoke("on_event", event).payload


def test_events_fan_out_to_active_subscribed_notifications_and_deliver_each(api, team, receiver, client, events_queue):
    owner, team_ = team
    slug = team_["slug"]
    events_queue()  # start from an empty queue
    create(api, owner, team_, receiver, kind="slack", path="/versions", events=("version-created",))
    create(api, owner, team_, receiver, kind="discord", path="/nodes", events=("node-added",))
    create(api, owner, team_, receiver, kind="teams", path="/off", events=("version-created",), active=False)
    project = api.create_project(owner, slug, "versioned", "Shop")
    api.create_version(owner, slug, project["id"], name="2.0")
    [created_event] = [b for b in events_queue() if json.loads(b)["type"] == "version-created"]

    # WHEN the events worker (as Lambda calls it) handles the domain event THEN one delivery is queued
    assert run_worker(client, [created_event]) == {"batchItemFailures": []}
    deliveries = events_queue()
    assert [json.loads(d)["type"] for d in deliveries] == ["notification-delivery"]
    # AND delivering it posts the message to the subscribed receiver only
    assert run_worker(client, deliveries) == {"batchItemFailures": []}
    [body] = receiver.bodies("/versions")
    assert body["blocks"][0]["elements"][0]["text"] == "Ada Lovelace created version 2.0 of project Shop."
    assert receiver.bodies("/nodes") == [] and receiver.bodies("/off") == []


def test_a_failing_delivery_is_reported_for_retry_without_repeating_the_others(
    api, team, receiver, client, events_queue, caplog
):
    owner, team_ = team
    events_queue()
    create(api, owner, team_, receiver, path="/ok", events=("node-added",))
    create(api, owner, team_, receiver, path="/down", events=("node-added",))
    receiver.status["/down"] = 503
    api.post(f"/api/{team_['slug']}/nodes", owner, {"name": "edge"})
    [added] = [b for b in events_queue() if json.loads(b)["type"] == "node-added"]
    run_worker(client, [added])
    deliveries = events_queue()
    assert len(deliveries) == 2
    with caplog.at_level(logging.INFO, logger="chalicelib.metrics"):
        result = run_worker(client, deliveries)
    # Exactly the failed delivery goes back to SQS (→ retries, then the dead-letter queue).
    assert len(result["batchItemFailures"]) == 1
    assert len(receiver.bodies("/ok")) == 1 and len(receiver.bodies("/down")) == 1
    assert "added the node edge" in receiver.bodies("/ok")[0]["embeds"][0]["description"]
    # AND the operator's metrics count one delivery, one failed delivery and one failed events message
    counted = sorted(
        (name, record.emf.get("Kind") or record.emf.get("Queue"))
        for record in caplog.records
        if hasattr(record, "emf")
        for name in ("NotificationsDelivered", "NotificationFailures", "MessageFailures")
        if name in record.emf
    )
    assert counted == [
        ("MessageFailures", "events"),
        ("NotificationFailures", "discord"),
        ("NotificationsDelivered", "discord"),
    ]


def test_notifications_of_another_team_are_not_found(api, team, receiver):
    owner, team_ = team
    stranger = api.signup()
    other = api.create_team(stranger)
    foreign = create(api, stranger, other, receiver)
    assert api.get(f"/api/{team_['slug']}/notifications/{foreign['id']}", owner).status_code == 404
    assert api.post(f"/api/{team_['slug']}/notifications/{foreign['id']}/test", owner).status_code == 404
