"""The team audit log records every write: who, what, when; newest first, paged by time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.conftest import unique


def test_writes_are_recorded_newest_first_with_who_and_what(api):
    owner = api.signup()
    team = api.create_team(owner)
    email = f"{unique()}@example.com"
    api.post(f"/api/teams/{team['id']}/users", owner, {"email": email, "firstName": "Audited"})
    new_slug = unique("a")[:16]
    api.put(f"/api/teams/{team['id']}", owner, {"name": "Audited " + new_slug, "slug": new_slug})
    api.get(f"/api/teams/{team['id']}", owner)  # reads are not audited

    log = api.get(f"/api/{new_slug}/audit-log", owner)
    assert log.status_code == 200
    body = log.json
    assert body["total"] == 3
    events = [(i["method"], i["event"]) for i in body["items"]]
    assert events == [
        ("put", f"/api/teams/{team['id']}"),
        ("post", f"/api/teams/{team['id']}/users"),
        ("post", "/api/teams"),
    ]
    newest = body["items"][0]
    assert newest["user"] == {"id": owner.id, "email": owner.email}
    assert newest["actorType"] == "user" and newest["context"] == "http" and newest["name"] == "Ada Lovelace"
    assert newest["data"] == {"slug": new_slug, "name": "Audited " + new_slug}
    assert body["items"][1]["data"]["email"] == email
    stamps = [i["createdAt"] for i in body["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_skip_take_and_time_range(api):
    owner = api.signup()
    team = api.create_team(owner)
    for i in range(4):
        api.post(f"/api/teams/{team['id']}/users", owner, {"email": f"{unique()}@example.com", "firstName": f"P{i}"})
    base = f"/api/{team['slug']}/audit-log"
    page = api.get(f"{base}?skip=1&take=2", owner).json
    assert page["total"] == 5 and len(page["items"]) == 2
    everything = api.get(f"{base}?skip=0&take=10", owner).json["items"]
    assert [i["createdAt"] for i in page["items"]] == [i["createdAt"] for i in everything[1:3]]

    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    none = api.get(f"{base}?skip=0&take=10&from={future}", owner).json
    assert none == {"items": [], "total": 0}
    upto = everything[2]["createdAt"]
    older = api.get(f"{base}?skip=0&take=10&to={upto}", owner).json
    assert older["total"] == 3


def test_bad_paging_parameters_are_400(api):
    owner = api.signup()
    team = api.create_team(owner)
    base = f"/api/{team['slug']}/audit-log"
    for query in (
        "skip=-1",
        "take=0",
        "take=abc",
        "from=yesterday",
        "take=5000",
        "from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
    ):
        response = api.get(f"{base}?{query}", owner)
        assert response.status_code == 400, query
        assert response.json["message"]


def test_skip_past_sys_maxsize_is_400_and_the_largest_skip_an_empty_page(api):
    # Found by tests/fuzz: a skip above sys.maxsize reached itertools.islice and answered 500.
    owner = api.signup()
    team = api.create_team(owner)
    node = api.post(f"/api/{team['slug']}/nodes", owner, {"name": "edge"}).json
    for base in (f"/api/{team['slug']}/audit-log", f"/api/{team['slug']}/nodes/{node['id']}/audit"):
        huge = api.get(f"{base}?skip={2**64}", owner)
        assert (huge.status_code, huge.json["property"]) == (400, "skip"), base
        largest = api.get(f"{base}?skip={2**31 - 1}", owner)
        assert largest.status_code == 200 and largest.json["items"] == [], base


def test_secrets_in_bodies_never_reach_the_audit_log(api):
    owner = api.signup()
    team = api.create_team(owner)
    api.post("/api/tokens", owner, {"name": "x", "expirationInDays": 1})
    log = api.get(f"/api/{team['slug']}/audit-log", owner)
    assert owner.password not in log.body and owner.token not in log.body


def write_entry(team_id: str, at: datetime, event: str = "/api/x") -> None:
    """An audit entry as the API writes one (with its day count), at a chosen time."""
    from chalicelib.db import audit as audit_repo

    audit_repo.put(
        audit_repo.new_item(
            team_id,
            at,
            actor_type="user",
            user_id=None,
            email="a@example.com",
            user_name="A",
            context="http",
            method="post",
            event=event,
            data=None,
        )
    )


def test_entries_carry_a_ttl_and_older_ones_than_the_retention_are_never_shown(api, monkeypatch):
    from chalicelib.db import keys
    from chalicelib.db.items import AuditDayItem, AuditItem

    owner = api.signup()
    team = api.create_team(owner)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    write_entry(team["id"], midnight - timedelta(days=91, hours=-1), "/api/too-old")
    write_entry(team["id"], midnight - timedelta(days=90, hours=-1), "/api/oldest-kept")
    # GIVEN the default retention of 90 days WHEN the log is read THEN the 91-day-old entry is gone
    log = api.get(f"/api/{team['slug']}/audit-log", owner).json
    assert [i["event"] for i in log["items"]] == ["/api/teams", "/api/oldest-kept"] and log["total"] == 2
    assert api.get(f"/api/{team['slug']}/dashboard", owner).json["auditLog"] == 2
    # Every entry and day count expires on its own: 91 days after its day began.
    for item in [*AuditItem.query(keys.audit(team["id"])), *AuditDayItem.query(keys.audit_days(team["id"]))]:
        day = item.created_at if isinstance(item, AuditItem) else datetime.fromisoformat(item.SK).replace(tzinfo=UTC)
        began = day.replace(hour=0, minute=0, second=0, microsecond=0)
        assert item.ttl == int((began + timedelta(days=91)).timestamp())
    # A longer retention (AUDIT_RETENTION_DAYS) shows it again, until DynamoDB's TTL removes it.
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "120")
    assert api.get(f"/api/{team['slug']}/audit-log", owner).json["total"] == 3


def test_the_total_of_a_range_counts_whole_days_and_the_partial_ends(api):
    owner = api.signup()
    team = api.create_team(owner)
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    times = [
        midnight - timedelta(days=d, hours=h) for d, h in [(6, 1), (5, 14), (5, 2), (4, 12), (3, 23), (3, 1), (2, 5)]
    ]
    for at in times:
        write_entry(team["id"], at)
    base = f"/api/{team['slug']}/audit-log"

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    for low, high in [
        (midnight - timedelta(days=5, hours=20), midnight - timedelta(days=3, hours=12)),  # partial, whole, partial
        (midnight - timedelta(days=6), midnight - timedelta(days=3)),  # midnight to midnight
        (midnight - timedelta(days=5, hours=14), midnight - timedelta(days=5, hours=2)),  # both ends on entries
        (midnight - timedelta(days=4, hours=1), None),
        (None, midnight - timedelta(days=3, hours=12)),
    ]:
        query = "&".join(
            part for part in (f"from={stamp(low)}" if low else "", f"to={stamp(high)}" if high else "") if part
        )
        page = api.get(f"{base}?take=1000&{query}", owner).json
        expected = [at for at in times if (low is None or at >= low) and (high is None or at <= high)]
        if high is None:
            expected.append("the team's creation")
        assert page["total"] == len(page["items"]) == len(expected), query


def test_a_filter_searches_at_most_the_newest_entries_it_may_read(api, monkeypatch):
    owner = api.signup()
    team = api.create_team(owner)
    now = datetime.now(UTC)
    for minutes in range(5, 0, -1):
        write_entry(team["id"], now - timedelta(minutes=minutes), f"/api/needle-{minutes}")
    base = f"/api/{team['slug']}/audit-log"
    assert api.get(f"{base}?filter=NEEDLE", owner).json["total"] == 5
    # GIVEN at most 3 entries read per search WHEN filtering THEN only matches among the newest 3 count
    monkeypatch.setenv("AUDIT_FILTER_MAX_SCAN", "3")
    found = api.get(f"{base}?filter=needle", owner).json
    assert (found["total"], [i["event"] for i in found["items"]]) == (2, ["/api/needle-1", "/api/needle-2"])
