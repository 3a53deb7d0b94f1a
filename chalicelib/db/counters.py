"""Windowed counters in the table (failed logins per account and per source address, invitations
per team and day): one atomic ADD per event, a TTL that ends the window."""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.items import CounterItem


def get(kind: str, key: str) -> CounterItem | None:
    try:
        return CounterItem.get(keys.counter(kind, key), keys.COUNTER)
    except CounterItem.DoesNotExist:
        return None


def add(kind: str, key: str, expires: int) -> CounterItem:
    """Adds one (creating the counter) and pushes its expiry to `expires` (epoch seconds)."""
    item = CounterItem(keys.counter(kind, key), keys.COUNTER)
    item.update(actions=[CounterItem.count.add(1), CounterItem.ttl.set(expires), CounterItem.type.set(CounterItem)])
    return item


def block(item: CounterItem, until: int) -> None:
    item.update(actions=[CounterItem.blocked_until.set(until)])


def clear(kind: str, key: str) -> None:
    CounterItem(keys.counter(kind, key), keys.COUNTER).delete()
