"""The scheduled health sweep at scale: silent nodes in batched, conditional writes, a cap per run,
and events that expire (stuck deployments: tests/api/test_deployments.py).

The table is shared with the rest of the suite, so each node test dates its nodes' last sign of life
in a year of its own, long past, and sweeps "as of" then: only its own nodes are that silent.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db import nodes as node_repo
from chalicelib.db.items import DeploymentEventItem, NodeEventItem, NodeItem
from chalicelib.services import node_health
from tests.fixtures.agents import AgentSocket, registered
from tests.fixtures.aws_calls import recording

TIMEOUT = 60


@pytest.fixture()
def team(api):
    owner = api.signup()
    return owner, api.create_team(owner)


@pytest.fixture(autouse=True)
def node_timeout(monkeypatch):
    monkeypatch.setenv("NODE_TIMEOUT_SECONDS", str(TIMEOUT))


def connected_nodes(team_id: str, count: int, seen: datetime) -> list[NodeItem]:
    """Nodes whose agents connected at `seen` and were never heard of since (a lost `$disconnect`)."""
    nodes = []
    for _ in range(count):
        node = node_repo.new_item(team_id, ids.new_id(), f"n-{ids.new_id()[:8]}", None, None, "tester", seen)
        node_repo.create(team_id, node)
        node.update(actions=node_repo.connect_actions(node, f"conn-{node.id}", seen))
        nodes.append(node)
    return nodes


def as_of(seen: datetime) -> datetime:
    """A sweep's "now" at which nodes last seen at `seen` (and only older ones) are past the window."""
    return seen + timedelta(seconds=TIMEOUT + 1)


def connection(team_id: str, node_id: str) -> str:
    node = node_repo.get(team_id, node_id)
    assert node is not None
    return node.connection


@pytest.mark.parametrize(
    ("count", "transactions", "event_batches", "seen"),
    [
        (30, 1, 3, datetime(2001, 3, 1, tzinfo=UTC)),  # 30 x (status + event) fit one transaction
        (75, 2, 5 + 3, datetime(2001, 4, 1, tzinfo=UTC)),  # 50 + 25 nodes; events sent after each
    ],
)
def test_silent_nodes_become_unreachable_in_one_sweep_of_a_few_batched_calls(
    api, team, events_queue, count, transactions, event_batches, seen
):
    # GIVEN connected nodes whose agents went silent at once
    _, team_ = team
    nodes = connected_nodes(team_["id"], count, seen)
    events_queue()
    # WHEN the sweep runs
    with recording() as calls:
        marked = node_health.sweep(as_of(seen))
    # THEN every one is unreachable, with its "left" event and a notification event
    assert sorted(marked) == sorted(n.id for n in nodes)
    assert {connection(team_["id"], n.id) for n in nodes} == {"unreachable"}
    for node in nodes[:3]:
        [event] = NodeEventItem.query(keys.node_events(node.id))
        assert (event.event, event.data["reason"]) == ("left", "silent")
    published = [json.loads(body) for body in events_queue()]
    assert sorted(b["nodeId"] for b in published if b["type"] == "node-status") == sorted(marked)
    # AND the calls are the shard Queries and a few batches, not two writes per node
    made = calls.by_operation()
    assert made["dynamodb:Query"] == keys.CONNECTED_SHARDS
    assert made["dynamodb:TransactWriteItems"] == transactions == math.ceil(count / 50)
    assert made["sqs:SendMessageBatch"] == event_batches
    assert not made["dynamodb:UpdateItem"] and not made["dynamodb:PutItem"] and not made["sqs:SendMessage"]
    # (+1: a cold process looks the queue's URL up once)
    assert calls.total <= keys.CONNECTED_SHARDS + transactions + event_batches + 1, calls.summary()


def test_a_last_seen_mark_that_lands_between_the_query_and_the_write_keeps_its_node_connected(api, team):
    # GIVEN three silent nodes, read by the sweep
    _, team_ = team
    seen = datetime(2001, 2, 1, tzinfo=UTC)
    nodes = connected_nodes(team_["id"], 3, seen)
    cutoff = as_of(seen) - timedelta(seconds=TIMEOUT)
    silent = node_health.find_silent(cutoff)
    assert sorted(n.id for n in silent) == sorted(n.id for n in nodes)
    # WHEN one agent marks itself seen before the sweep writes
    alive = nodes[1]
    assert node_repo.seen(team_["id"], alive.id, f"conn-{alive.id}", ids.utcnow())
    with recording() as calls:
        marked = node_health.mark_unreachable(silent, cutoff)
    # THEN its write is refused and it stays connected, without a "left" event; the others went
    # (the transaction is cancelled by its condition and sent again without it)
    assert calls.by_operation()["dynamodb:TransactWriteItems"] == 2
    assert sorted(marked) == sorted([nodes[0].id, nodes[2].id])
    assert connection(team_["id"], alive.id) == "connected"
    assert list(NodeEventItem.query(keys.node_events(alive.id))) == []
    assert {connection(team_["id"], nodes[i].id) for i in (0, 2)} == {"unreachable"}


def test_the_cap_leaves_the_rest_to_the_next_run(api, team, monkeypatch):
    # GIVEN 25 silent nodes and a cap of 10 nodes a run
    _, team_ = team
    seen = datetime(2001, 1, 1, tzinfo=UTC)
    nodes = connected_nodes(team_["id"], 25, seen)
    monkeypatch.setenv("HEALTH_SWEEP_MAX_NODES", "10")
    # WHEN the sweep runs again and again
    runs = [node_health.sweep(as_of(seen)) for _ in range(4)]
    # THEN each run takes at most 10, the longest silent first, and the next ones take the rest
    assert [len(run) for run in runs] == [10, 10, 5, 0]
    assert sorted(i for run in runs for i in run) == sorted(n.id for n in nodes)
    assert {connection(team_["id"], n.id) for n in nodes} == {"unreachable"}


def test_a_console_following_a_node_hears_the_sweep_mark_it_unreachable(api, team, agent_package):
    from tests.api.test_sockets import Follower

    # GIVEN a connected node that a member follows
    owner, team_ = team
    node, token = registered(api, owner, team_)
    agent = AgentSocket(token)
    follower = Follower(owner.token)
    assert follower.ask({"action": "subscribe", "teamSlug": team_["slug"], "nodeId": node["id"]})["status"] == (
        "connected"
    )
    # WHEN the sweep finds it silent (its $disconnect lost)
    item = node_repo.get(team_["id"], node["id"])
    assert item is not None
    assert node_health.mark_unreachable([item], ids.utcnow() + timedelta(seconds=1)) == [node["id"]]
    # THEN the follower is told at once
    assert follower.next() == {"type": "node-status", "nodeId": node["id"], "status": "unreachable"}
    follower.close()
    agent.close()


def test_node_and_deployment_events_expire_after_the_retention(api, team, monkeypatch):
    from chalicelib.db import deployments, node_events

    # GIVEN the default retention, then a shorter one
    now = ids.utcnow()
    node_id, deployment_id = ids.new_id(), ids.new_id()
    node_events.record(node_id, "connected")
    deployments.add_event(deployment_id, "log", {"log": ["x"]}, 1, now)
    monkeypatch.setenv("EVENT_RETENTION_DAYS", "7")
    deployments.add_events(deployment_id, [("log", {"log": ["y"]})], 1)
    # THEN each event carries a TTL that many days after it happened
    [node_event] = NodeEventItem.query(keys.node_events(node_id))
    first, second = DeploymentEventItem.query(keys.deployment_events(deployment_id))
    in_90_days = (now + timedelta(days=90)).timestamp()
    assert abs(node_event.ttl - in_90_days) < 60 and abs(first.ttl - in_90_days) < 60
    assert abs(second.ttl - (now + timedelta(days=7)).timestamp()) < 60
