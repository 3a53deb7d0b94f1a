"""The WebSocket API (in-process, through the local API Gateway stand-in): who may connect, node status
following the connection, commands too large for one message, and people following a node."""

from __future__ import annotations

import json
import os

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.fixtures.agents import AgentSocket, agent_headers, registered
from tests.fixtures.waiting import wait_for


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


def status(api, owner, team_, node) -> str:
    return api.get(f"/api/{team_['slug']}/nodes/{node['id']}", owner).json["status"]


class Follower:
    """A console's connection, authenticated as a user."""

    def __init__(self, token: str) -> None:
        self.connection = connect(
            os.environ["SOCKET_URL"],
            additional_headers={"Authorization": f"Bearer {token}"},
            compression=None,
            ping_interval=None,
            open_timeout=10,
            legacy=True,
        )

    @classmethod
    def from_browser(cls, token: str) -> Follower:
        """A browser's connection: it cannot set headers, so it offers the token as a subprotocol."""
        follower = cls.__new__(cls)
        follower.connection = connect(
            os.environ["SOCKET_URL"],
            subprotocols=["bearer", token],
            compression=None,
            ping_interval=None,
            open_timeout=10,
            legacy=True,
        )
        return follower

    def ask(self, message: dict) -> dict:
        self.connection.send(json.dumps(message))
        return self.next()

    def next(self, timeout: float = 5) -> dict:
        return json.loads(self.connection.recv(timeout=timeout))

    def close(self) -> None:
        self.connection.close()


def test_the_socket_is_announced_and_a_bad_token_is_refused_at_the_handshake(api):
    url = api.get("/api/socket").json["url"]
    assert url == os.environ["SOCKET_URL"] and url.startswith("ws")
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=headers, open_timeout=5, legacy=True)
        assert refused.value.response.status_code == 401


def test_a_browser_offers_its_token_as_a_subprotocol_and_follows_a_node(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    agent = AgentSocket(token)
    # WHEN a console connects with `Sec-WebSocket-Protocol: bearer, <token>` (no Authorization header)
    follower = Follower.from_browser(owner.token)
    # THEN the handshake selects `bearer`, as a browser requires, and never echoes the token
    assert follower.connection.subprotocol == "bearer"
    assert owner.token not in str(follower.connection.response.headers)
    answer = follower.ask({"action": "subscribe", "teamSlug": team_["slug"], "nodeId": node["id"]})
    assert answer == {"type": "subscribed", "topic": "node", "status": "connected"}
    agent.close()
    assert follower.next() == {"type": "node-status", "nodeId": node["id"], "status": "unreachable"}
    follower.close()


def test_a_subprotocol_token_is_refused_like_a_header_token(api, team):
    owner, _ = team
    url = os.environ["SOCKET_URL"]
    refusals = [
        (["bearer", "not-a-token"], {}, 401),
        (["bearer", owner.token], {"Authorization": f"Bearer {owner.token}"}, 400),  # one token, one place
        (["bearer"], {}, 400),  # `bearer` without a token
        ([owner.token, "bearer"], {}, 400),  # the token first: not the documented shape
        (["bearer", owner.token, "chat"], {}, 400),
        (["chat"], {}, 401),  # another subprotocol carries no token
    ]
    for subprotocols, headers, status in refusals:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, subprotocols=subprotocols, additional_headers=headers, open_timeout=5)
        assert refused.value.response.status_code == status, subprotocols
    # A token that stops working (log-out) is refused in the subprotocol too
    api.post("/api/auth/logout", owner)
    with pytest.raises(InvalidStatus) as ended:
        connect(url, subprotocols=["bearer", owner.token], open_timeout=5)
    assert ended.value.response.status_code == 401


def test_closing_the_connection_makes_the_node_unreachable_at_once(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    socket = AgentSocket(token)
    assert status(api, owner, team_, node) == "connected"
    socket.close()
    # ($disconnect runs as the connection closes, not on a schedule)
    wait_for(lambda: status(api, owner, team_, node) == "unreachable", 5, "still connected")
    events = [e["event"] for e in api.get(f"/api/{team_['slug']}/nodes/{node['id']}/audit", owner).json["items"]]
    assert events[:2] == ["left", "connected"]


def test_the_newest_connection_wins_and_the_old_ones_close_changes_nothing(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    first, second = AgentSocket(token), AgentSocket(token)
    first.close()  # e.g. the agent replaced its connection before API Gateway's 2-hour limit
    assert status(api, owner, team_, node) == "connected"
    assert api.post(f"/api/{team_['slug']}/nodes/{node['id']}/containers/web/start", owner).status_code == 204
    assert second.pushed()["command"]["name"] == "web"  # pushed to the connection that holds the node
    second.close()


def test_a_command_too_large_for_one_message_travels_by_reference(api, team, agent_package):
    from chalicelib.db import commands, nodes
    from chalicelib.services import push

    owner, team_ = team
    node, token = registered(api, owner, team_)
    socket = AgentSocket(token)
    item = commands.enqueue(team_["id"], node["id"], "list-containers", {"prefix": "x" * 200_000})
    assert push.command(team_["id"], nodes.get(team_["id"], node["id"]), item)
    message = socket.pushed()
    assert message == {"type": "command-ref", "id": item.id}
    fetched = api.get(f"/api/agent/commands/{item.id}", headers=agent_headers(token)).json
    assert fetched["prefix"] == "x" * 200_000 and fetched["id"] == item.id
    socket.close()


def test_a_member_follows_a_node_and_sees_it_leave(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    agent = AgentSocket(token)
    follower = Follower(owner.token)
    answer = follower.ask({"action": "subscribe", "teamSlug": team_["slug"], "nodeId": node["id"]})
    assert answer == {"type": "subscribed", "topic": "node", "status": "connected"}
    agent.close()
    assert follower.next() == {"type": "node-status", "nodeId": node["id"], "status": "unreachable"}
    follower.close()


def test_a_follower_sees_the_node_unreachable_when_its_token_is_revoked(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    agent = AgentSocket(token)
    follower = Follower.from_browser(owner.token)
    follower.ask({"action": "subscribe", "teamSlug": team_["slug"], "nodeId": node["id"]})
    # WHEN the token is revoked (the platform closes the agent's connection itself)
    assert api.delete(f"/api/{team_['slug']}/nodes/{node['id']}/token", owner).status_code == 204
    # THEN the follower hears of it, and the node reads unreachable
    assert follower.next() == {"type": "node-status", "nodeId": node["id"], "status": "unreachable"}
    assert status(api, owner, team_, node) == "unreachable"
    agent.close()
    follower.close()


def test_outsiders_cannot_follow_another_teams_node_or_deployment(api, team, agent_package):
    owner, team_ = team
    node, _ = registered(api, owner, team_)
    stranger = api.signup()
    own = api.create_team(stranger)
    follower = Follower(stranger.token)
    for request in (
        {"teamSlug": team_["slug"], "nodeId": node["id"]},  # not a member
        {"teamSlug": own["slug"], "nodeId": node["id"]},  # their team, not their node
        {"teamSlug": own["slug"], "deploymentId": node["id"]},
    ):
        answer = follower.ask({"action": "subscribe", **request})
        assert answer["type"] == "error", answer
    assert follower.ask({"action": "dance"})["type"] == "error"
    follower.close()


def test_an_agent_connection_cannot_subscribe(api, team, agent_package):
    owner, team_ = team
    node, token = registered(api, owner, team_)
    socket = AgentSocket(token)
    socket.send({"action": "subscribe", "teamSlug": team_["slug"], "nodeId": node["id"]})
    assert socket.pushed()["type"] == "error"
    socket.close()
