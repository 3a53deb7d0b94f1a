"""Pure rules: keys, ids, invitation expiry."""

from __future__ import annotations

from datetime import timedelta

from chalicelib import ids
from chalicelib.db import keys
from chalicelib.db.items import InvitationItem
from chalicelib.services.teams import invitation_status


def test_iso_timestamps_have_milliseconds_and_sort_with_time():
    now = ids.utcnow()
    assert ids.iso(now).endswith("Z") and len(ids.iso(now)) == 24
    assert ids.time_key(now) < ids.time_key(now + timedelta(milliseconds=1))
    assert ids.time_key(now) != ids.time_key(now)  # same instant, still unique


def test_guard_keys_are_case_insensitive_for_names_and_emails():
    assert keys.email(" A@B.co ") == keys.email("a@b.co")
    assert keys.team_name("Acme ") == keys.team_name("acme")
    assert keys.token_name("CI") == keys.token_name("ci")


def test_token_and_token_name_prefixes_do_not_overlap():
    assert not keys.token_name("x").startswith(keys.TOKEN_PREFIX)


def test_uuid_check():
    assert ids.is_uuid(ids.new_id())
    assert not ids.is_uuid("not-a-uuid") and not ids.is_uuid("")


def test_invitation_expires_after_seven_days(monkeypatch):
    monkeypatch.setenv("INVITATION_DAYS", "7")
    now = ids.utcnow()
    fresh = InvitationItem(status="pending", created_at=now - timedelta(days=6, hours=23))
    old = InvitationItem(status="pending", created_at=now - timedelta(days=7, minutes=1))
    declined = InvitationItem(status="declined", created_at=now - timedelta(days=30))
    assert invitation_status(fresh, now) == "pending"
    assert invitation_status(old, now) == "expired"
    assert invitation_status(declined, now) == "declined"
