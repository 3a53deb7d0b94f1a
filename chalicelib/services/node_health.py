"""The scheduled health sweep, a safety net behind `$disconnect`: silent nodes become unreachable.

It reads only the connected nodes whose last-seen mark is older than the window (a range
Query per GSI2 shard) and flips each with a condition on that same mark, so a node that
reported in meanwhile stays connected.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.db import keys, node_events
from chalicelib.db import nodes as node_repo


def sweep(now: datetime | None = None) -> list[str]:
    """Marks silent nodes unreachable; returns their ids."""
    cutoff = (now or ids.utcnow()) - timedelta(seconds=settings.node_timeout_seconds())
    marked = []
    for shard in keys.connected_shards():
        for node in node_repo.silent_since(shard, cutoff):
            if node_repo.mark_unreachable(node, cutoff):
                node_events.record(
                    node.id,
                    "left",
                    {"reason": "silent", "lastSeen": ids.iso(node.last_seen) if node.last_seen else None},
                )
                marked.append(node.id)
    return marked
