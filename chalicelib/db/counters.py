"""Windowed counters in the table (failed logins per account and per source address, invitations
per team and day): one atomic ADD per event, a TTL that ends the window."""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.items import CounterItem
from chalicelib.db.table import BaseItem


def key(kind: str, name: str) -> tuple[str, str]:
    """A counter's table key (to read it along with other items)."""
    return keys.counter(kind, name), keys.COUNTER


def read(wanted: list[tuple[str, str]]) -> list[BaseItem]:
    """The counters at these keys that exist, in one read."""
    return list(CounterItem.batch_get(wanted))


def pick(items: list[BaseItem], kind: str, name: str) -> CounterItem | None:
    """The counter (kind, name) among items read together, or None."""
    pk = keys.counter(kind, name)
    return next((item for item in items if isinstance(item, CounterItem) and pk == item.PK), None)


def add(kind: str, key: str, expires: int) -> CounterItem:
    """Adds one (creating the counter) and pushes its expiry to `expires` (epoch seconds)."""
    item = CounterItem(keys.counter(kind, key), keys.COUNTER)
    item.update(actions=[CounterItem.count.add(1), CounterItem.ttl.set(expires), CounterItem.type.set(CounterItem)])
    return item


def block(item: CounterItem, until: int) -> None:
    item.update(actions=[CounterItem.blocked_until.set(until)])


def clear(kind: str, key: str) -> None:
    CounterItem(keys.counter(kind, key), keys.COUNTER).delete()
