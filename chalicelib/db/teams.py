"""Teams, memberships and invitations.

A team's partition (`TEAM#<id>`) holds the team item, its members and invitations, and
everything else the team owns (projects, nodes, deployments, …); slug and name are global guards. Memberships and
invitations also carry GSI1 keys so "my teams" and "my invitations" are one Query each (a declined
invitation leaves the user's index; the team still lists it). Member and invitation counts live on the
team item, the user's teams and unanswered invitations on the user item, each changed in the transaction
that adds or removes one (`db/stats.py`). Three of them are capped (`settings`), so each of those lists is
one Query page: a team's users (`USERS_PER_TEAM`), a user's teams (`TEAMS_PER_USER`) and a user's
unanswered invitations (`OPEN_INVITATIONS_PER_USER`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from chalicelib import settings
from chalicelib.db import audit, deployments, keys, paging, registries, stats
from chalicelib.db.conditions import ConditionFailed, conditional
from chalicelib.db.items import BaseItem, GuardItem, InvitationItem, MemberItem, RegistryItem, TeamItem
from chalicelib.db.transactions import Transaction, commit_units
from chalicelib.errors import ConflictError, limit_reached, not_found, taken
from chalicelib.models.paging import Page, PageQuery

_ATTEMPTS = 3


class _TeamRefused(Exception):
    """The team's count update was refused: the team is full, or gone (told apart by reading it)."""


class _UserGone(Exception):
    """A count to take down is on an account that is gone (deleted by an operator): nothing to keep."""


def teams_full() -> ConflictError:
    cap = settings.teams_per_user()
    return limit_reached(f"A user may be a member of at most {cap} teams; leave one first.", "teams", cap)


def team_full() -> ConflictError:
    cap = settings.users_per_team()
    return limit_reached(
        f"A team may hold at most {cap} users, members and invitations together; remove one first.", "users", cap
    )


def invitations_full(email: str) -> ConflictError:
    cap = settings.open_invitations_per_user()
    return limit_reached(
        f"The user holds {cap} unanswered invitations, the most one user may; they must answer one first.",
        "email",
        email,
    )


def _count_teams(tx: Transaction, user_id: str, delta: int, invitations: int = 0) -> Transaction:
    """One more (capped) or one less team of the user, and `invitations` added to their unanswered ones."""
    if delta <= 0:
        return stats.on_user(tx, user_id, {"team_count": delta, "invitation_count": invitations}, None, _UserGone())
    cap = ("team_count", settings.teams_per_user())
    return stats.on_user(tx, user_id, {"team_count": delta, "invitation_count": invitations}, cap, teams_full())


def _count_invitations(tx: Transaction, invite: InvitationItem, delta: int) -> Transaction:
    """One more (capped) or one less unanswered invitation of the invitee."""
    if delta <= 0:
        return stats.on_user(tx, invite.user_id, {"invitation_count": delta}, None, _UserGone())
    cap = ("invitation_count", settings.open_invitations_per_user())
    return stats.on_user(tx, invite.user_id, {"invitation_count": delta}, cap, invitations_full(invite.email))


def _commit_counting_user(build: Callable[[bool], Transaction]) -> None:
    """Commits `build(True)`, or `build(False)` (without the user's count) when the user is gone."""
    try:
        build(True).commit()
    except _UserGone:
        build(False).commit()


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
    (with the marker that its deployment list is complete: it has none yet), counted on the owner (409 when
    they are in `TEAMS_PER_USER` teams already)."""
    team.member_count = 1
    team.user_count = 1
    slug_guard, name_guard = _guards(team)
    tx = (
        Transaction()
        .create(slug_guard, taken("team", "slug", team.slug))
        .create(name_guard, taken("team", "name", team.name))
        .create(team)
        .create(owner)
        .create(deployments.index_marker(team.id))
    )
    _count_teams(tx, owner.user_id, 1)
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
    """Removes the team, everything in its partition, its guards and its audit log. The team item goes
    first (no one joins or is invited after it); then each membership and invitation goes in a
    transaction with its user's count."""
    partition = keys.team(team.id)
    held: list[MemberItem | InvitationItem] = []
    with BaseItem.batch_write() as batch:
        for item in BaseItem.query(partition):
            if isinstance(item, MemberItem | InvitationItem):
                held.append(item)
            else:
                batch.delete(item)
        for guard in _guards(team):
            batch.delete(guard)
    for _ in range(_ATTEMPTS):  # a unit a concurrent write held is left out of its transaction: read again
        if not held:
            break
        for _written in commit_units(held, _release):
            pass
        held = _held(partition)
    with BaseItem.batch_write() as batch:  # what still resisted goes uncounted (the backfill recounts)
        for item in held:
            batch.delete(item)
    audit.delete_all(team.id)


def _held(partition: str) -> list[MemberItem | InvitationItem]:
    """The memberships and invitations left in a deleted team's partition."""
    return [
        item
        for prefix in (keys.MEMBER_PREFIX, keys.INVITE_PREFIX)
        for item in BaseItem.query(partition, BaseItem.SK.startswith(prefix))
        if isinstance(item, MemberItem | InvitationItem)
    ]


def _release(tx: Transaction, item: BaseItem) -> None:
    """A deleted team's membership or invitation, off its user's count."""
    if isinstance(item, MemberItem):
        _count_teams(tx.delete(item, MemberItem.PK.exists()), item.user_id, -1)
    elif isinstance(item, InvitationItem):
        tx.delete(item, InvitationItem.status == item.status)
        if item.status != "declined":
            _count_invitations(tx, item, -1)


def member(team_id: str, user_id: str) -> MemberItem | None:
    try:
        return MemberItem.get(keys.team(team_id), keys.member(user_id))
    except MemberItem.DoesNotExist:
        return None


def _team_page() -> int:
    """A team's members, or its invitations, fit one Query page: `USERS_PER_TEAM` holds them together
    (a team from before the cap holding more costs more pages, never fewer users)."""
    return settings.users_per_team() + 1


def members(team_id: str) -> list[MemberItem]:
    return list(
        MemberItem.query(keys.team(team_id), MemberItem.SK.startswith(keys.MEMBER_PREFIX), page_size=_team_page())
    )


def memberships_of(user_id: str) -> list[MemberItem]:
    """Every team membership of the user: one Query page, as `TEAMS_PER_USER` caps them."""
    return [
        m
        for m in BaseItem.gsi1.query(
            keys.user(user_id),
            BaseItem.GSI1SK.startswith(keys.TEAM_PREFIX),
            page_size=settings.teams_per_user() + 1,
        )
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
    def removal(counted: bool) -> Transaction:
        tx = Transaction().delete(
            membership,
            MemberItem.PK.exists() & (MemberItem.role != "owner"),
            ConflictError("The member changed concurrently, try again."),
        )
        stats.on_team(tx, membership.team_id, {"member_count": -1, "user_count": -1})
        return _count_teams(tx, membership.user_id, -1) if counted else tx

    _commit_counting_user(removal)


def invitation(team_id: str, user_id: str) -> InvitationItem | None:
    try:
        return InvitationItem.get(keys.team(team_id), keys.invite(user_id))
    except InvitationItem.DoesNotExist:
        return None


def invitations(team_id: str) -> list[InvitationItem]:
    return list(
        InvitationItem.query(
            keys.team(team_id), InvitationItem.SK.startswith(keys.INVITE_PREFIX), page_size=_team_page()
        )
    )


def invitations_of(user_id: str) -> list[InvitationItem]:
    """The user's unanswered invitations (pending or expired; declined ones leave the index): one Query
    page, as `OPEN_INVITATIONS_PER_USER` caps them."""
    return [
        i
        for i in BaseItem.gsi1.query(
            keys.user(user_id),
            BaseItem.GSI1SK.startswith(keys.INVITE_PREFIX),
            page_size=settings.open_invitations_per_user() + 1,
        )
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
    replaced; a pending, unexpired one or a membership is a 409 on `email`. A first invitation counts
    one more user of the team and one more unanswered invitation of the invitee, a replaced declined one
    the latter again: each a 409 at its cap.
    """
    conflict = ConflictError("User is already invited to or already in the team.", property="email", value=invite.email)
    try:
        tx = _not_a_member(invite, conflict).create(invite, ConditionFailed("invited before"))
        cap = ("user_count", settings.users_per_team())
        stats.on_team(tx, invite.team_id, {"invitation_count": 1, "user_count": 1}, cap=cap, on_fail=_TeamRefused())
        _count_invitations(tx, invite, 1).commit()
        return
    except ConditionFailed:
        pass
    except _TeamRefused:
        raise not_found("team") if get(invite.team_id) is None else team_full() from None
    try:  # a declined invitation is back in the invitee's index
        declined = InvitationItem.PK.exists() & (InvitationItem.status == "declined")
        tx = _not_a_member(invite, conflict).put(invite, declined, ConditionFailed("not declined"))
        _count_invitations(tx, invite, 1).commit()
        return
    except ConditionFailed:
        pass
    replaceable = (
        InvitationItem.PK.exists()
        & (InvitationItem.status != "declined")
        & ((InvitationItem.status != "pending") | (InvitationItem.created_at < live_since))
    )
    _not_a_member(invite, conflict).put(invite, replaceable, conflict).commit()


def _not_a_member(invite: InvitationItem, conflict: ConflictError) -> Transaction:
    return Transaction().check(
        MemberItem, keys.team(invite.team_id), keys.member(invite.user_id), MemberItem.PK.does_not_exist(), conflict
    )


def renew_invitation(invite: InvitationItem) -> None:
    """Replaces the user's invitation, which must still be there unanswered (a renewal counts no one new)."""
    condition = InvitationItem.PK.exists() & (InvitationItem.status != "declined")
    conditional(lambda: invite.save(condition=condition), not_found("invitation"))


def expire_invitation(invite: InvitationItem) -> None:
    """Only on a pending invitation still there: one deleted meanwhile must not come back uncounted (an
    expired one stays in the invitee's index, unanswered)."""
    action = InvitationItem.status.set("expired")
    condition = InvitationItem.PK.exists() & (InvitationItem.status == "pending")
    conditional(lambda: invite.update(actions=[action], condition=condition))


def decline_invitation(invite: InvitationItem) -> None:
    """Marks a pending invitation declined: the team still lists it, the invitee's index and count no
    longer hold it."""
    actions = [InvitationItem.status.set("declined"), InvitationItem.GSI1PK.remove(), InvitationItem.GSI1SK.remove()]
    condition = InvitationItem.PK.exists() & (InvitationItem.status == "pending")
    tx = Transaction().update(invite, actions, condition, ConditionFailed("no longer pending"))
    with contextlib.suppress(ConditionFailed):
        _count_invitations(tx, invite, -1).commit()


def accept_invitation(invite: InvitationItem, member_item: MemberItem) -> None:
    """The invitation becomes a membership (the team's users stay as many); 409 when the invitee is in
    `TEAMS_PER_USER` teams already, the invitation left as it was."""
    gone = ConflictError("The invitation is no longer pending.")
    tx = (
        Transaction()
        .delete(invite, InvitationItem.status == "pending", gone)
        .create(member_item, ConflictError("Already a member of the team."))
    )
    stats.on_team(tx, invite.team_id, {"invitation_count": -1, "member_count": 1})
    _count_teams(tx, invite.user_id, 1, invitations=-1).commit()


def delete_invitation(invite: InvitationItem) -> None:
    """Removes the invitation (and its counts: the team's, and the invitee's unless they declined it) if
    it is still there."""

    def deletion(unanswered: bool, counted: bool) -> Transaction:
        declined = InvitationItem.status == "declined"
        condition = InvitationItem.PK.exists() & (~declined if unanswered else declined)
        tx = Transaction().delete(invite, condition, ConditionFailed("already gone"))
        stats.on_team(tx, invite.team_id, {"invitation_count": -1, "user_count": -1})
        return _count_invitations(tx, invite, -1) if unanswered and counted else tx

    for unanswered in (invite.status != "declined", invite.status == "declined"):
        with contextlib.suppress(ConditionFailed):
            _commit_counting_user(lambda counted, u=unanswered: deletion(u, counted))
            return
