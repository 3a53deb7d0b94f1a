"""The WebSocket messages both sides read (chalicelib/contracts/push.py): each survives JSON both
ways, an unknown message is refused, and an older agent ignores fields it does not know."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.contracts import push

SERVER = [
    push.CommandPush(command={"id": "01J", "kind": "list-containers", "prefix": "web"}),
    push.CommandRef(id="01J"),
    push.DeploymentStatusPush(deployment_id="d1", status="successful"),
    push.DeploymentEventsPush(deployment_id="d1", events=[{"type": "log", "log": ["pulled"]}]),
    push.NodeStatusPush(node_id="n1", status="unreachable"),
    push.Subscribed(topic="deployment", status="in-progress"),
    push.Problem(message="Not found.", property="deploymentId"),
]
CLIENT = [
    push.Ping(),
    push.Ping(seen=True),
    push.Subscribe(team_slug="acme", deployment_id="d1"),
    push.Subscribe(team_slug="acme", node_id="n1"),
]


@pytest.mark.parametrize("message", SERVER, ids=lambda m: m.type)
def test_server_messages_round_trip_through_json(message):
    assert push.SERVER_MESSAGE.validate_json(message.model_dump_json(by_alias=True)) == message


@pytest.mark.parametrize("message", CLIENT, ids=lambda m: m.action)
def test_client_messages_round_trip_through_json(message):
    assert push.CLIENT_MESSAGE.validate_json(message.model_dump_json(by_alias=True)) == message


def test_wire_names_are_camel_case_as_the_rest_of_the_api():
    wire = push.Subscribe(team_slug="acme", deployment_id="d1").model_dump_json(by_alias=True)
    assert '"teamSlug":"acme"' in wire and '"deploymentId":"d1"' in wire


def test_unknown_messages_are_refused_and_unknown_fields_ignored():
    with pytest.raises(ValidationError):
        push.CLIENT_MESSAGE.validate_json('{"action": "shutdown"}')
    with pytest.raises(ValidationError):
        push.SERVER_MESSAGE.validate_json('{"type": "command"}')  # no command
    newer = push.SERVER_MESSAGE.validate_json('{"type": "command-ref", "id": "01J", "sizeBytes": 200000}')
    assert newer == push.CommandRef(id="01J")


def test_a_deploy_command_of_many_containers_still_fits_one_message():
    """The reference path is for the rare huge command; a 50-container deploy travels whole."""
    workload = {
        "instanceId": "i" * 36,
        "name": "web",
        "image": "registry.example.com/acme/web:1.0",
        "config": {"environment": [{"key": f"K{i}", "value": "v" * 20} for i in range(20)]},
    }
    command = {
        "id": "01J",
        "kind": "deploy",
        "deploymentId": "d" * 36,
        "attempt": 1,
        "prefix": "web",
        "workloads": [workload] * 50,
    }
    assert len(push.CommandPush(command=command).model_dump_json(by_alias=True)) < push.MAX_MESSAGE_BYTES
