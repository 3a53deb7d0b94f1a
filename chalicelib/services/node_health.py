"""The scheduled health sweep, a safety net behind `$disconnect`: silent nodes become unreachable.

It reads only the connected nodes whose last-seen mark is older than the window (a range Query
per GSI2 shard, longest silent first), at most `HEALTH_SWEEP_MAX_NODES` a run: the rest stay in
the index and the next run takes them. It flips them with their `left` events in shared
transactions (50 nodes a call), each on condition that the node is still as read, so a node that
reported in meanwhile stays connected; then followers and notifications hear of it, batched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.adapters import observability
from chalicelib.db import keys, node_events
from chalicelib.db import nodes as node_repo
from chalicelib.db.items import NodeItem
from chalicelib.services import push


def sweep(now: datetime | None = None) -> list[str]:
    """Marks silent nodes unreachable; returns their ids."""
    cutoff = (now or ids.utcnow()) - timedelta(seconds=settings.node_timeout_seconds())
    return mark_unreachable(find_silent(cutoff), cutoff)


def find_silent(cutoff: datetime) -> list[NodeItem]:
    """Connected nodes last seen before `cutoff`, up to the per-run cap across the shards."""
    cap, found = settings.health_sweep_max_nodes(), []
    for shard in keys.connected_shards():
        if len(found) >= cap:
            break
        found += node_repo.silent_since(shard, cutoff, cap - len(found))
    return found


def mark_unreachable(silent: list[NodeItem], cutoff: datetime) -> list[str]:
    """Flips the nodes that are still silent (a last-seen mark written since they were read wins) and
    announces them; returns their ids."""
    now, marked = ids.utcnow(), []
    for left in node_repo.mark_unreachable([(node, _left_event(node, now)) for node in silent], cutoff):
        push.nodes_left(left)
        marked += [node.id for node in left]
    if marked:
        observability.metric(observability.AGENTS_LOST, len(marked), reason="silent")
    return marked


def _left_event(node: NodeItem, now: datetime):
    last_seen = ids.iso(node.last_seen) if node.last_seen else None
    return node_events.new_item(node.id, "left", {"reason": "silent", "lastSeen": last_seen}, now)
