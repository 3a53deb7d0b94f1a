"""Audit retention by whole UTC days, and how a time range splits into whole days and partial ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain import audit_days, deployments


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_entry_is_kept_whole_days_after_its_day_and_expires_with_it():
    written = at("2026-03-10T17:45:00")
    expires = audit_days.expires_at(written, 90)
    assert datetime.fromtimestamp(expires, UTC) == at("2026-06-09T00:00:00")  # 10 March + 91 days
    # The last instant it is shown, it is still at or after the first kept instant; at expiry it is not.
    assert audit_days.kept_since(at("2026-06-08T23:59:59"), 90) <= written
    assert audit_days.kept_since(at("2026-06-09T00:00:00"), 90) > written


def test_a_naive_time_is_taken_as_utc():
    assert audit_days.midnight(datetime(2026, 1, 2, 3, 4)) == at("2026-01-02T00:00:00")


@pytest.mark.parametrize(
    "low,high,first,last,spans",
    [
        # from a midnight, open-ended: whole days only (the dashboard and an unbounded page)
        ("2026-01-01T00:00:00", None, date(2026, 1, 1), None, []),
        # from within a day, open-ended: the rest of that day entry by entry
        ("2026-01-01T06:00:00", None, date(2026, 1, 2), None, [("2026-01-01T06:00:00", "2026-01-02T00:00:00")]),
        # within one day: that part only
        ("2026-01-01T06:00:00", "2026-01-01T09:00:00", None, None, [("2026-01-01T06:00:00", "2026-01-01T09:00:00")]),
        # across the next midnight only: two partial days, no whole one
        (
            "2026-01-01T06:00:00",
            "2026-01-02T09:00:00",
            None,
            None,
            [("2026-01-01T06:00:00", "2026-01-02T00:00:00"), ("2026-01-02T00:00:00", "2026-01-02T09:00:00")],
        ),
        # several days: the two ends partial, the days between whole
        (
            "2026-01-01T06:00:00",
            "2026-01-05T09:00:00",
            date(2026, 1, 2),
            date(2026, 1, 4),
            [("2026-01-01T06:00:00", "2026-01-02T00:00:00"), ("2026-01-05T00:00:00", "2026-01-05T09:00:00")],
        ),
        # midnight to midnight: whole days only
        ("2026-01-01T00:00:00", "2026-01-03T00:00:00", date(2026, 1, 1), date(2026, 1, 2), []),
        # empty
        ("2026-01-01T06:00:00", "2026-01-01T06:00:00", None, None, []),
    ],
)
def test_a_range_splits_into_whole_days_and_partial_ends(low, high, first, last, spans):
    split = audit_days.split(at(low), at(high) if high else None)
    assert (split.first_day, split.last_day) == (first, last)
    assert split.spans == [(at(a), at(b)) for a, b in spans]


def test_the_parts_of_a_split_cover_the_range_exactly():
    low, high = at("2026-01-01T06:30:00"), at("2026-01-09T01:00:00")
    split = audit_days.split(low, high)
    whole = (at(f"{split.first_day}T00:00:00"), at(f"{split.last_day}T00:00:00") + timedelta(days=1))
    pieces = sorted([*split.spans, whole])
    assert pieces[0][0] == low and pieces[-1][1] == high
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))


@pytest.mark.parametrize(
    "before,after,delta",
    [
        (None, "preparing", 0),
        ("in-progress", "failed", 1),
        ("failed", "in-progress", -1),
        ("failed", "obsolete", -1),
        ("failed", None, -1),
        ("successful", "obsolete", 0),
        ("failed", "failed", 0),
    ],
)
def test_the_failed_count_follows_every_move_into_and_out_of_failed(before, after, delta):
    assert deployments.failed_delta(before, after) == delta
