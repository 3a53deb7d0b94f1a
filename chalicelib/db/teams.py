"""Teams, memberships and invitations.

A team's partition (`TEAM#<id>`) holds the team item, its members and invitations, and
everything else the team owns (projects, nodes, deployments, …); slug and name are global guards. Memberships and
invitations also carry GSI1 keys so "my teams" and "my invitations" are one Query each. Member and
invitation counts live on the team item, changed in the transaction that adds or removes one (`db/stats.py`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from chalicelib.db import audit, deployments, keys, paging, registries, stats
from chalicelib.db.conditions import ConditionFailed, conditional
from chalicelib.db.items import BaseItem, GuardItem, InvitationItem, MemberItem, RegistryItem, TeamItem
from chalicelib.db.transactions import Transaction
from chalicelib.errors import ConflictError, not_found, taken
from chalicelib.models.paging import Page, PageQuery


def get(team_id: str) -> TeamItem | None:
    try:
        return TeamItem.get(keys.team(team_id), keys.TEAM)
    except TeamItem.DoesNotExist:
        return None


def id_for_slug(slug: str) -> str | None:
    try:
        return GuardItem.get(keys.team_slug(slug), keys.GUARD).ref
    except GuardItem.DoesNotExist:
        return None


def batch_get(team_ids: set[str]) -> dict[str, TeamItem]:
    if not team_ids:
        return {}
    return {t.id: t for t in TeamItem.batch_get([(keys.team(tid), keys.TEAM) for tid in team_ids])}


def new_member(team_id: str, user_id: str, role: str, now: datetime) -> MemberItem:
    return MemberItem(
        keys.team(team_id),
        keys.member(user_id),
        GSI1PK=keys.user(user_id),
        GSI1SK=keys.team(team_id),
        team_id=team_id,
        user_id=user_id,
        role=role,
        joined_at=now,
    )


def _guards(team: TeamItem) -> tuple[GuardItem, GuardItem]:
    return (
        GuardItem(keys.team_slug(team.slug), keys.GUARD, ref=team.id),
        GuardItem(keys.team_name(team.name), keys.GUARD, ref=team.id),
    )


def create(team: TeamItem, owner: MemberItem, registry: RegistryItem) -> None:
    """The team (counting its owner), its guards, its owner and its starter registry, all or nothing
    (with the marker that its deployment list is complete: it has none yet)."""
    team.member_count = 1
    slug_guard, name_guard = _guards(team)
    tx = (
        Transaction()
        .create(slug_guard, taken("team", "slug", team.slug))
        .create(name_guard, taken("team", "name", team.name))
        .create(team)
        .create(owner)
        .create(deployments.index_marker(team.id))
    )
    registries.add_to(tx, team.id, registry).commit()


def rename(team: TeamItem, name: str, slug: str, by: str, now: datetime) -> None:
    """Moves the slug/name guards and updates the team in one transaction."""
    old_slug, old_name = _guards(team)
    tx = Transaction()
    if slug != team.slug:
        tx.create(GuardItem(keys.team_slug(slug), keys.GUARD, ref=team.id), taken("team", "slug", slug))
        tx.delete(old_slug)
    if keys.team_name(name) != keys.team_name(team.name):
        tx.create(GuardItem(keys.team_name(name), keys.GUARD, ref=team.id), taken("team", "name", name))
        tx.delete(old_name)
    tx.update(
        team,
        [TeamItem.name.set(name), TeamItem.slug.set(slug), TeamItem.updated_at.set(now), TeamItem.updated_by.set(by)],
        TeamItem.slug == team.slug,
        ConflictError("The team was changed concurrently, try again."),
    )
    tx.commit()


def delete(team: TeamItem) -> None:
    """Removes the team, everything in its partition, its guards and its audit log."""
    with BaseItem.batch_write() as batch:
        for item in BaseItem.query(keys.team(team.id)):
            batch.delete(item)
        for guard in _guards(team):
            batch.delete(guard)
    audit.delete_all(team.id)


def member(team_id: str, user_id: str) -> MemberItem | None:
    try:
        return MemberItem.get(keys.team(team_id), keys.member(user_id))
    except MemberItem.DoesNotExist:
        return None


def members(team_id: str) -> list[MemberItem]:
    return list(MemberItem.query(keys.team(team_id), MemberItem.SK.startswith(keys.MEMBER_PREFIX)))


def memberships_of(user_id: str) -> list[MemberItem]:
    return [
        m
        for m in BaseItem.gsi1.query(keys.user(user_id), BaseItem.GSI1SK.startswith(keys.TEAM_PREFIX))
        if isinstance(m, MemberItem)
    ]


def memberships_page(user_id: str, query: PageQuery) -> Page[MemberItem]:
    """A page of the user's memberships (GSI1, in team id order)."""
    page = paging.query_page(
        MemberItem, keys.user(user_id), keys.TEAM_PREFIX, query.take, query.cursor, index=BaseItem.gsi1
    )
    return Page([m for m in page.items if isinstance(m, MemberItem)], page.cursor)


def set_role(membership: MemberItem, role: str) -> None:
    conditional(
        lambda: membership.update(
            actions=[MemberItem.role.set(role)], condition=MemberItem.PK.exists() & (MemberItem.role != "owner")
        ),
        ConflictError("The member changed concurrently, try again."),
    )


def remove_member(membership: MemberItem) -> None:
    tx = Transaction().delete(
        membership,
        MemberItem.PK.exists() & (MemberItem.role != "owner"),
        ConflictError("The member changed concurrently, try again."),
    )
    stats.on_team(tx, membership.team_id, {"member_count": -1}).commit()


def invitation(team_id: str, user_id: str) -> InvitationItem | None:
    try:
        return InvitationItem.get(keys.team(team_id), keys.invite(user_id))
    except InvitationItem.DoesNotExist:
        return None


def invitations(team_id: str) -> list[InvitationItem]:
    return list(InvitationItem.query(keys.team(team_id), InvitationItem.SK.startswith(keys.INVITE_PREFIX)))


def invitations_of(user_id: str) -> list[InvitationItem]:
    return [
        i
        for i in BaseItem.gsi1.query(keys.user(user_id), BaseItem.GSI1SK.startswith(keys.INVITE_PREFIX))
        if isinstance(i, InvitationItem)
    ]


def new_invitation(team_id: str, user_id: str, email: str, by: str, now: datetime) -> InvitationItem:
    return InvitationItem(
        keys.team(team_id),
        keys.invite(user_id),
        GSI1PK=keys.user(user_id),
        GSI1SK=keys.invite(team_id),
        team_id=team_id,
        user_id=user_id,
        email=email,
        status="pending",
        created_at=now,
        invited_by=by,
    )


def put_invitation(invite: InvitationItem, live_since: datetime) -> None:
    """Writes a pending invitation unless the user is a member or has a live pending one.

    An older invitation that was declined or has expired (created before `live_since`) is
    replaced; a pending, unexpired one or a membership is a 409 on `email`.
    """
    conflict = ConflictError("User is already invited to or already in the team.", property="email", value=invite.email)
    try:  # a first invitation counts one more user
        tx = _not_a_member(invite, conflict).create(invite, ConditionFailed("invited before"))
        stats.on_team(tx, invite.team_id, {"invitation_count": 1}).commit()
        return
    except ConditionFailed:
        pass
    replaceable = InvitationItem.PK.exists() & (
        (InvitationItem.status != "pending") | (InvitationItem.created_at < live_since)
    )
    _not_a_member(invite, conflict).put(invite, replaceable, conflict).commit()


def _not_a_member(invite: InvitationItem, conflict: ConflictError) -> Transaction:
    return Transaction().check(
        MemberItem, keys.team(invite.team_id), keys.member(invite.user_id), MemberItem.PK.does_not_exist(), conflict
    )


def renew_invitation(invite: InvitationItem) -> None:
    """Replaces the user's invitation, which must still be there (a renewal counts no one new)."""
    conditional(lambda: invite.save(condition=InvitationItem.PK.exists()), not_found("invitation"))


def set_invitation_status(invite: InvitationItem, status: str) -> None:
    """Only on an invitation still there: one deleted meanwhile must not come back uncounted."""
    action = InvitationItem.status.set(status)
    conditional(lambda: invite.update(actions=[action], condition=InvitationItem.PK.exists()))


def accept_invitation(invite: InvitationItem, member_item: MemberItem) -> None:
    gone = ConflictError("The invitation is no longer pending.")
    tx = (
        Transaction()
        .delete(invite, InvitationItem.status == "pending", gone)
        .create(member_item, ConflictError("Already a member of the team."))
    )
    stats.on_team(tx, invite.team_id, {"invitation_count": -1, "member_count": 1}).commit()


def delete_invitation(invite: InvitationItem) -> None:
    """Removes the invitation (and its count) if it is still there."""
    tx = Transaction().delete(invite, InvitationItem.PK.exists(), ConditionFailed("already gone"))
    with contextlib.suppress(ConditionFailed):
        stats.on_team(tx, invite.team_id, {"invitation_count": -1}).commit()
