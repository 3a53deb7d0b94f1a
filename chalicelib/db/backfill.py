"""Recomputes the counters kept in items (`db/stats.py`) and the audit log's day counts and expiry from
the items themselves: how a table written before they existed is upgraded (`python -m infra.backfill`).

Idempotent: every value is SET from a fresh recount, never added to, so running it again changes
nothing (or repairs what a write racing the previous run left). It reads each team's partitions once,
and each user's memberships and invitations once; finding the teams and the users are the code base's
only Scans, for this maintenance run only, never on a request path. It also brings the keys that keep
embedded lists bounded up to date: a declined invitation leaves its invitee's index, and each version's
deployments are keyed by status class (which a version's first read would do too).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from chalicelib import ids, settings
from chalicelib.db import deployments, keys
from chalicelib.db.conditions import conditional
from chalicelib.db.items import (
    AuditDayItem,
    AuditItem,
    BaseItem,
    DeploymentItem,
    ImageItem,
    InvitationItem,
    MemberItem,
    NodeItem,
    ProjectItem,
    TeamItem,
    UserItem,
    VersionItem,
)
from chalicelib.domain import audit_days


@dataclass
class Tally:
    """What one team's partition holds, counted."""

    members: list[MemberItem] = field(default_factory=list)
    invitations: list[InvitationItem] = field(default_factory=list)
    failed: int = 0
    projects: list[ProjectItem] = field(default_factory=list)
    versions: list[VersionItem] = field(default_factory=list)
    nodes: list[NodeItem] = field(default_factory=list)
    deployments: list[DeploymentItem] = field(default_factory=list)
    images_per_version: Counter[str] = field(default_factory=Counter)

    def add(self, item: BaseItem) -> None:
        if isinstance(item, DeploymentItem):
            self.deployments.append(item)
            self.failed += item.status == "failed"
        elif isinstance(item, ImageItem):
            self.images_per_version[item.version_id] += 1
        else:
            self._add_other(item)

    def _add_other(self, item: BaseItem) -> None:
        kinds: dict[type, list[Any]] = {ProjectItem: self.projects, VersionItem: self.versions, NodeItem: self.nodes}
        if type(item) in kinds:
            kinds[type(item)].append(item)
        if isinstance(item, MemberItem):
            self.members.append(item)
        elif isinstance(item, InvitationItem):
            self.invitations.append(item)


def team_ids() -> list[str]:
    """Every team's id (a Scan: maintenance only)."""
    return [team.id for team in TeamItem.scan(TeamItem.SK == keys.TEAM)]


def backfill_team(team_id: str, now: datetime | None = None) -> dict[str, int]:
    """Sets the team's, its projects' and its nodes' counters and pointers, and its audit day counts;
    returns the team's counts by stored attribute name, and its audit entries kept."""
    tally = Tally()
    for item in BaseItem.query(keys.team(team_id)):
        tally.add(item)
    _set_team(team_id, tally)
    _set_projects(tally)
    _set_nodes(tally)
    _declined_out_of_index(tally)
    for version in tally.versions:
        deployments.key_by_status(version)
    counts = {getattr(TeamItem, name).attr_name: value for name, value in _team_counts(tally).items()}
    return {**counts, "auditEntries": _backfill_audit(team_id, now or ids.utcnow())}


def _team_counts(tally: Tally) -> dict[str, int]:
    """The team item's counters, by attribute (versions of a project that is gone are not counted)."""
    projects = {p.id for p in tally.projects}
    return {
        "member_count": len(tally.members),
        "invitation_count": len(tally.invitations),
        "user_count": len(tally.members) + len(tally.invitations),
        "project_count": len(projects),
        "version_count": sum(1 for v in tally.versions if v.project_id in projects),
        "node_count": len(tally.nodes),
        "deployment_count": len(tally.deployments),
        "failed_deployment_count": tally.failed,
    }


def _oldest(items: list[Any]) -> str | None:
    return min(items, key=lambda item: item.created_at).id if items else None


def _pointers(tally: Tally) -> dict[str, str | None]:
    """The onboarding thread as the dashboard read it before the pointers: the oldest of each kind,
    and the version with the most images."""
    versions = {v.id: v for v in tally.versions}
    with_images = [(n, vid) for vid, n in tally.images_per_version.items() if vid in versions]
    images_version = versions[max(with_images)[1]] if with_images else None
    return {
        "first_node_id": _oldest(tally.nodes),
        "first_project_id": _oldest(tally.projects),
        "first_deployment_id": _oldest(tally.deployments),
        "images_project_id": images_version.project_id if images_version else None,
        "images_version_id": images_version.id if images_version else None,
    }


def _set_team(team_id: str, tally: Tally) -> None:
    actions = [getattr(TeamItem, name).set(value) for name, value in _team_counts(tally).items()]
    for name, value in _pointers(tally).items():
        attribute = getattr(TeamItem, name)
        actions.append(attribute.set(value) if value else attribute.remove())
    _update(TeamItem(keys.team(team_id), keys.TEAM), actions)


def _set_projects(tally: Tally) -> None:
    versions = Counter(v.project_id for v in tally.versions)
    running = Counter(d.project_id for d in tally.deployments if d.status == "in-progress")
    for project in tally.projects:
        _update(
            project,
            [
                ProjectItem.version_count.set(versions[project.id]),
                ProjectItem.deployments_in_progress.set(running[project.id]),
            ],
        )


def _set_nodes(tally: Tally) -> None:
    targeted = Counter(d.node_id for d in tally.deployments)
    for node in tally.nodes:
        _update(node, [NodeItem.deployment_count.set(targeted[node.id])])


def _declined_out_of_index(tally: Tally) -> None:
    """A declined invitation leaves its invitee's index (the team still lists it)."""
    actions = [InvitationItem.GSI1PK.remove(), InvitationItem.GSI1SK.remove()]
    for invite in tally.invitations:
        if invite.status == "declined" and invite.GSI1PK:
            conditional(lambda i=invite: i.update(actions=actions, condition=InvitationItem.status == "declined"))


def user_ids(team_ids: list[str] | None = None) -> list[str]:
    """The members and invitees of the given teams; without teams, every user (a Scan: maintenance only)."""
    if team_ids is None:
        return [user.id for user in UserItem.scan(UserItem.SK == keys.PROFILE)]
    held = (
        item
        for team_id in team_ids
        for prefix in (keys.MEMBER_PREFIX, keys.INVITE_PREFIX)
        for item in BaseItem.query(keys.team(team_id), BaseItem.SK.startswith(prefix))
    )
    return sorted({item.user_id for item in held if isinstance(item, MemberItem | InvitationItem)})


def backfill_user(user_id: str) -> dict[str, int]:
    """Sets the user's counts of teams and of unanswered invitations (of teams still there); returns them
    by stored attribute name."""
    held = _held_by(user_id)
    counts = {
        "team_count": sum(isinstance(item, MemberItem) for item in held),
        "invitation_count": sum(isinstance(item, InvitationItem) for item in held),
    }
    _update(UserItem(keys.user(user_id), keys.PROFILE), [getattr(UserItem, n).set(v) for n, v in counts.items()])
    return {getattr(UserItem, name).attr_name: value for name, value in counts.items()}


def _held_by(user_id: str) -> list[MemberItem | InvitationItem]:
    """The user's memberships and unanswered invitations of teams that are still there."""
    held = [
        item
        for item in BaseItem.gsi1.query(keys.user(user_id))
        if isinstance(item, MemberItem) or (isinstance(item, InvitationItem) and item.status != "declined")
    ]
    teams = TeamItem.batch_get([(keys.team(tid), keys.TEAM) for tid in {item.team_id for item in held}])
    there = {team.id for team in teams}
    return [item for item in held if item.team_id in there]


def _update(item: BaseItem, actions: list[Any]) -> None:
    """Only on an item that is still there (one deleted meanwhile stays deleted)."""
    conditional(lambda: item.update(actions=actions, condition=type(item).PK.exists()))


def _backfill_audit(team_id: str, now: datetime) -> int:
    """Gives entries without one their expiry, removes those already past it, and sets each kept day's count."""
    days = settings.audit_retention_days()
    first_kept = audit_days.kept_since(now, days)
    per_day: Counter[date] = Counter()
    with BaseItem.batch_write() as batch:
        for entry in AuditItem.query(keys.audit(team_id)):
            if entry.created_at < first_kept:
                batch.delete(entry)
                continue
            per_day[audit_days.midnight(entry.created_at).date()] += 1
            if entry.ttl is None:
                entry.ttl = audit_days.expires_at(entry.created_at, days)
                batch.save(entry)
    for day, count in per_day.items():
        AuditDayItem(
            keys.audit_days(team_id), day.isoformat(), count=count, ttl=audit_days.expires_at(_at(day), days)
        ).save()
    return sum(per_day.values())


def _at(day: date) -> datetime:
    return audit_days.utc(datetime(day.year, day.month, day.day))
