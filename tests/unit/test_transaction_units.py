"""Units written together share a transaction only when no item appears twice (DynamoDB refuses that)."""

from __future__ import annotations

from chalicelib.db import keys
from chalicelib.db.items import GuardItem, TeamItem
from chalicelib.db.transactions import Transaction, _chunks


def test_units_that_count_on_the_same_item_go_in_separate_transactions():
    def build(tx: Transaction, unit: tuple[str, str]) -> None:
        team_id, name = unit
        tx.create(GuardItem(keys.team(team_id), keys.node_name(name), ref=name))
        tx.update(TeamItem(keys.team(team_id), keys.TEAM), [TeamItem.node_count.add(1)])

    units = [("a", "1"), ("b", "1"), ("a", "2"), ("c", "1"), ("c", "2")]
    assert _chunks(units, build) == [[("a", "1"), ("b", "1")], [("a", "2"), ("c", "1")], [("c", "2")]]


def test_units_fill_a_transaction_up_to_its_operation_limit():
    def build(tx: Transaction, unit: int) -> None:
        for i in range(30):
            tx.create(GuardItem(keys.team(str(unit)), keys.node_name(str(i)), ref="x"))

    assert [len(chunk) for chunk in _chunks(list(range(7)), build)] == [3, 3, 1]
