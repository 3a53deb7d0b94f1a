"""Deployments (`DEPLOYMENT#<did>`), their instances (`INSTANCE#<did>#<iid>`) and events.

The per-node rules are guard items written in the same transactions as the deployment:
- rolling versions: one deployment per version+node+prefix (`DEPLOYSLOT#…`, for its lifetime);
- incremental versions: one *preparing* deployment per version+node+prefix (`PREPARING#…`);
- at most one deployment in flight per node+prefix (`INFLIGHT#<nid>#<prefix>`, from start to
  final status), so a double `start` or a duplicate SQS delivery never deploys twice.
Status changes are conditional on the expected status and try, so only forward moves land.
Events (the deployment's log, `DEPLOYEVENT#<did>`) expire after `EVENT_RETENTION_DAYS` (TTL).
Each create, delete and status move also changes, in the same transaction, the counts it affects
(`db/stats.py`): the team's deployments and failed deployments, the node's deployments and the
project's deployments in progress.

Under its version (GSI1) a deployment is keyed by whether its status touched the version (ran: not
preparing nor failed) and by creation time (`keys.version_deployment`), rewritten by every status move.
So whether a version may still change is one `Limit=1` read, and its details read the newest few, whatever
it holds. A version from before these keys (no `deploymentsKeyed`) gets them on its first such read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import ids
from chalicelib.db import audit, images, keys, named, paging, stats
from chalicelib.db.conditions import ConditionFailed, conditional, unchanged
from chalicelib.db.items import (
    BaseItem,
    DeploymentEventItem,
    DeploymentItem,
    GuardItem,
    InstanceItem,
    ListEntryItem,
    NodeItem,
    ProjectItem,
    VersionItem,
)
from chalicelib.db.retention import event_ttl
from chalicelib.db.transactions import Transaction, commit_units
from chalicelib.domain.deployments import IN_PROGRESS, failed_delta
from chalicelib.domain.versions import touches_version
from chalicelib.errors import ConflictError, PreconditionFailedError
from chalicelib.models.paging import Page

ROLLING = "rolling"
_PER_TRANSACTION = 90
_CONTEXT_KINDS = {ProjectItem: "projects", VersionItem: "versions", NodeItem: "nodes"}
_ATTEMPTS = 3


class _StatusMoved(ConditionFailed):
    """The deployment's status is not the one read (or the deployment is gone)."""


class _NotThere(ConditionFailed):
    """An item a count was to follow is gone (a place guard held by another deployment, a node or a
    project removed before its counters existed): the write goes ahead without it."""


def new_item(
    team_id: str,
    deployment_id: str,
    project_id: str,
    version_id: str,
    node_id: str,
    prefix: str,
    note: str | None,
    config: dict[str, Any],
    by: str,
    now: datetime,
) -> DeploymentItem:
    return DeploymentItem(
        keys.team(team_id),
        keys.deployment(deployment_id),
        GSI1PK=keys.version_ref(version_id),
        GSI1SK=keys.version_deployment(False, ids.iso(now), deployment_id),  # preparing: untouched
        id=deployment_id,
        project_id=project_id,
        version_id=version_id,
        node_id=node_id,
        prefix=prefix,
        status="preparing",
        note=note,
        config=config,
        tries=0,
        dispatched_try=0,
        created_at=now,
        created_by=by,
        updated_at=now,
        updated_by=by,
    )


def new_instance(
    team_id: str, deployment_id: str, image_id: str, config: dict[str, Any], now: datetime
) -> InstanceItem:
    instance_id = ids.new_id()
    item = InstanceItem(
        keys.team(team_id),
        keys.instance(deployment_id, instance_id),
        id=instance_id,
        deployment_id=deployment_id,
        image_id=image_id,
        config=config,
        updated_at=now,
    )
    storage_id = _storage_of(config)
    if storage_id:
        item.GSI2PK, item.GSI2SK = keys.storage(storage_id), item.SK
    return item


def _storage_of(config: dict[str, Any] | None) -> str | None:
    """The storage a config imports from: it is "in use" while a config names it (GSI2 STORAGE#<sid>)."""
    return ((config or {}).get("storage") or {}).get("storageId") or None


def _storage_ref(team_id: str, deployment_id: str, config: dict[str, Any] | None) -> GuardItem | None:
    """A deployment config naming a storage is indexed by a guard item of its own (see keys.deployment_storage)."""
    storage_id = _storage_of(config)
    if storage_id is None:
        return None
    ref = named.guard(team_id, keys.deployment_storage(deployment_id), deployment_id)
    ref.GSI2PK, ref.GSI2SK = keys.storage(storage_id), keys.deployment(deployment_id)
    return ref


def get(team_id: str, deployment_id: str, consistent: bool = False) -> DeploymentItem | None:
    try:
        return DeploymentItem.get(keys.team(team_id), keys.deployment(deployment_id), consistent_read=consistent)
    except DeploymentItem.DoesNotExist:
        return None


def new_entry(team_id: str, deployment: DeploymentItem) -> ListEntryItem:
    """The deployment's place in the newest-first list (written and deleted with it)."""
    return ListEntryItem(
        keys.team(team_id), keys.deployed(ids.iso(deployment.created_at), deployment.id), ref=deployment.id
    )


def index_marker(team_id: str) -> ListEntryItem:
    """Says that every deployment of the team has its list entry (a new team's are all new)."""
    return ListEntryItem(keys.team(team_id), keys.DEPLOYED_INDEXED)


def page_for_team(team_id: str, take: int, cursor: str | None) -> Page[DeploymentItem]:
    """Newest first: a page of list entries, then their deployments in one BatchGetItem. A team
    from before entries existed gets them on its first list (once: the marker records it)."""
    page, indexed = _entries_page(team_id, take, cursor)
    if not indexed:
        _index_existing(team_id)
        page, _ = _entries_page(team_id, take, cursor, check_marker=False)
    return page


def _entries_page(
    team_id: str, take: int, cursor: str | None, check_marker: bool = True
) -> tuple[Page[DeploymentItem], bool]:
    entries = paging.query_page(
        ListEntryItem, keys.team(team_id), keys.DEPLOYED_PREFIX, take, cursor, newest_first=True
    )
    wanted = [keys.deployment(entry.ref) for entry in entries.items]
    check = check_marker and cursor is None  # a cursor comes from a page that passed this check
    found = named.batch(team_id, wanted + [keys.DEPLOYED_INDEXED] if check else wanted)
    # An entry whose deployment is gone (deleted while entries were being written) is skipped.
    page = Page([found[sk] for sk in wanted if isinstance(found.get(sk), DeploymentItem)], entries.cursor)
    return page, not check or keys.DEPLOYED_INDEXED in found


def _index_existing(team_id: str) -> None:
    """Entries for the deployments made before entries existed, then the marker."""
    with BaseItem.batch_write() as batch:
        for deployment in named.query(DeploymentItem, team_id, keys.DEPLOYMENT_PREFIX):
            batch.save(new_entry(team_id, deployment))
    index_marker(team_id).save()


def context_of(team_id: str, deployments: list[DeploymentItem]) -> dict[str, dict[str, Any]]:
    """The projects, versions and nodes the deployments point at, by id, read in one batch."""
    wanted = set()
    for d in deployments:
        wanted |= {keys.project(d.project_id), keys.version(d.project_id, d.version_id), keys.node(d.node_id)}
    context: dict[str, dict[str, Any]] = {"projects": {}, "versions": {}, "nodes": {}}
    for item in named.batch(team_id, wanted).values():
        kind = _CONTEXT_KINDS.get(type(item))
        if kind:
            context[kind][item.id] = item
    return context


def of_version(version_id: str) -> list[DeploymentItem]:
    """Every deployment of the version (for writes that act on each: copies, deletes, obsoleting)."""
    return [
        item
        for item in BaseItem.gsi1.query(
            keys.version_ref(version_id), BaseItem.GSI1SK.startswith(keys.DEPLOYMENT_PREFIX)
        )
        if isinstance(item, DeploymentItem)
    ]


def _status(deployment: DeploymentItem, status: str) -> list[Any]:
    """A status move: the status, and the deployment's key under its version (by status class)."""
    key = keys.version_deployment(touches_version(status), ids.iso(deployment.created_at), deployment.id)
    return [DeploymentItem.status.set(status), DeploymentItem.GSI1SK.set(key)]


def _newest_of_version(version_id: str, touched: bool, take: int) -> list[DeploymentItem]:
    found = BaseItem.gsi1.query(
        keys.version_ref(version_id),
        BaseItem.GSI1SK.startswith(keys.version_deployments(touched)),
        scan_index_forward=False,
        limit=take,
        page_size=take,
    )
    return [item for item in found if isinstance(item, DeploymentItem)]


def newest_of_version(version: VersionItem, take: int) -> tuple[list[DeploymentItem], list[DeploymentItem]]:
    """The version's newest `take` deployments, and its newest that ran (empty when none did): the
    newest of each status class, two bounded Queries."""
    key_by_status(version)
    ran = _newest_of_version(version.id, True, take)
    newest = ran + _newest_of_version(version.id, False, take)
    return sorted(newest, key=lambda d: (ids.iso(d.created_at), d.id), reverse=True)[:take], ran[:1]


def ran_of_version(version: VersionItem) -> list[DeploymentItem]:
    """One deployment of the version that ran, if any did: all a version's rules need (one item read)."""
    key_by_status(version)
    return _newest_of_version(version.id, True, 1)


def key_by_status(version: VersionItem) -> None:
    """Keys the deployments of a version from before status keys by status class, then marks the version
    (once: a status move made meanwhile has keyed its deployment already, and later ones are born keyed)."""
    if version.deployments_keyed:
        return
    for deployment in of_version(version.id):
        if not (deployment.GSI1SK or "").startswith(keys.version_deployments(touches_version(deployment.status))):
            moves = _status(deployment, deployment.status)
            conditional(lambda d=deployment, m=moves: d.update(actions=m, condition=DeploymentItem.status == d.status))
    mark = [VersionItem.deployments_keyed.set(True)]
    conditional(lambda: version.update(actions=mark, condition=VersionItem.PK.exists()))


def instances(team_id: str, deployment_id: str) -> list[InstanceItem]:
    """One per image of the version, so one Query page (`images.ONE_PAGE`)."""
    return named.query(InstanceItem, team_id, keys.instances_of(deployment_id), page_size=images.ONE_PAGE)


def get_instance(team_id: str, deployment_id: str, instance_id: str) -> InstanceItem | None:
    return named.get(InstanceItem, team_id, keys.instance(deployment_id, instance_id))


def related(team_id: str, deployment: DeploymentItem) -> dict[str, Any]:
    """The deployment's version, node, project and token (those that exist) in one BatchGetItem,
    as {"version"|"node"|"project"|"token": item}."""
    return related_many([(team_id, deployment)])[deployment.id]


def related_many(deployments: list[tuple[str, DeploymentItem]]) -> dict[str, dict[str, Any]]:
    """`related` for many (team id, deployment) pairs, by deployment id, in as few BatchGetItems as
    DynamoDB allows (100 keys each; a version or node several share is read once)."""
    wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for team_id, deployment in deployments:
        for sk, role in (
            (keys.version(deployment.project_id, deployment.version_id), "version"),
            (keys.node(deployment.node_id), "node"),
            (keys.project(deployment.project_id), "project"),
            (keys.deployment_token(deployment.id), "token"),
        ):
            wanted.setdefault((keys.team(team_id), sk), []).append((deployment.id, role))
    found: dict[str, dict[str, Any]] = {deployment.id: {} for _, deployment in deployments}
    for item in BaseItem.batch_get(list(wanted)):
        for deployment_id, role in wanted[(item.PK, item.SK)]:
            found[deployment_id][role] = item
    return found


def follow(team_id: str, deployment_id: str, until: int) -> DeploymentItem | None:
    """Notes that someone follows the deployment live until `until` (epoch seconds); returns it as it
    is now (a write reads the latest state), or None when the team has no such deployment. The
    timeout sweep looks up followers only while this holds."""
    deployment = DeploymentItem(keys.team(team_id), keys.deployment(deployment_id))
    actions = [DeploymentItem.followed_until.set(until)]
    written = conditional(lambda: deployment.update(actions=actions, condition=DeploymentItem.PK.exists()))
    return deployment if written else None


def _place_guard(team_id: str, deployment: DeploymentItem, version_kind: str, prefix: str, node_id: str):
    if version_kind == ROLLING:
        return named.guard(team_id, keys.deployment_slot(deployment.version_id, node_id, prefix), deployment.id)
    return named.guard(team_id, keys.preparing(deployment.version_id, node_id, prefix), deployment.id)


def prefix_taken(team_id: str, version_id: str, node_id: str, prefix: str, version_kind: str) -> ConflictError:
    """409 naming the deployment that holds the place (dyrector's `value`)."""
    sk = (keys.deployment_slot if version_kind == ROLLING else keys.preparing)(version_id, node_id, prefix)
    holder = named.get(GuardItem, team_id, sk)
    return ConflictError("Prefix taken for the node.", property="prefix", value=holder.ref if holder else prefix)


def create(team_id: str, deployment: DeploymentItem, items: list[InstanceItem], version_kind: str) -> None:
    """The deployment, its place guard and instances, counted on its team and node (which must exist)."""
    conflict = ConflictError("Prefix taken for the node.", property="prefix")
    tx = Transaction().create(
        _place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id), conflict
    )
    stats.on_node(tx, team_id, deployment.node_id, 1)
    stats.on_team(tx, team_id, {"deployment_count": 1}, {"first_deployment_id": deployment.id})
    tx.create(deployment)
    tx.create(new_entry(team_id, deployment))
    storage_ref = _storage_ref(team_id, deployment.id, deployment.config)
    if storage_ref is not None:
        tx.put(storage_ref)
    for item in items[:_PER_TRANSACTION]:
        tx.create(item)
    try:
        tx.commit()
    except ConflictError:
        raise prefix_taken(
            team_id, deployment.version_id, deployment.node_id, deployment.prefix, version_kind
        ) from None
    _put_all(items[_PER_TRANSACTION:])


def update(
    team_id: str,
    deployment: DeploymentItem,
    version_kind: str,
    *,
    prefix: str,
    note: str | None,
    config: dict[str, Any],
    by: str,
    now: datetime,
    mutable_statuses: tuple[str, ...],
) -> None:
    """Note, prefix (moving its guard) and deployment config, while the status allows changes."""
    tx = Transaction()
    holds_place = version_kind == ROLLING or deployment.status == "preparing"
    if prefix != deployment.prefix and holds_place:
        tx.create(
            _place_guard(team_id, deployment, version_kind, prefix, deployment.node_id),
            ConflictError("Prefix taken for the node.", property="prefix"),
        )
        tx.delete(_place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id))
    if _storage_of(config) != _storage_of(deployment.config):
        storage_ref = _storage_ref(team_id, deployment.id, config)
        if storage_ref is None:
            tx.delete(named.guard(team_id, keys.deployment_storage(deployment.id), deployment.id))
        else:
            tx.put(storage_ref)
    tx.update(
        deployment,
        [
            DeploymentItem.prefix.set(prefix),
            DeploymentItem.note.set(note) if note is not None else DeploymentItem.note.remove(),
            DeploymentItem.config.set(config),
            DeploymentItem.updated_at.set(now),
            DeploymentItem.updated_by.set(by),
        ],
        DeploymentItem.status.is_in(*mutable_statuses),
        PreconditionFailedError("The deployment's status does not allow changes.", property="status"),
    )
    try:
        tx.commit()
    except ConflictError as error:
        if error.property == "prefix":
            raise prefix_taken(team_id, deployment.version_id, deployment.node_id, prefix, version_kind) from None
        raise


def save_instance_config(item: InstanceItem, config: dict[str, Any], now: datetime) -> None:
    """The config and, in the same write, its storage in the in-use index."""
    storage_id = _storage_of(config)
    index = (
        [InstanceItem.GSI2PK.set(keys.storage(storage_id)), InstanceItem.GSI2SK.set(item.SK)]
        if storage_id
        else [InstanceItem.GSI2PK.remove(), InstanceItem.GSI2SK.remove()]
    )
    item.update(
        actions=[InstanceItem.config.set(config), InstanceItem.updated_at.set(now), *index],
        condition=InstanceItem.PK.exists(),
    )


def delete(team_id: str, deployment: DeploymentItem, version_kind: str) -> None:
    """Removes the deployment (never one in progress) with its place guard and its counts, then its
    instances and events. A status that moved meanwhile is read again: the counts follow what is
    really deleted."""
    current, optional = deployment, _optional_parts(deployment, version_kind)
    for _ in range(_ATTEMPTS):
        if current is None:
            return
        if current.status == IN_PROGRESS:
            raise PreconditionFailedError("A deployment in progress cannot be deleted.", property="status")
        try:
            _deletion(team_id, current, version_kind, optional).commit()
            break
        except _NotThere as gone:
            optional.discard(str(gone))
        except _StatusMoved:
            current = get(team_id, deployment.id, consistent=True)
    else:
        raise ConflictError("The deployment changed concurrently, try again.")
    _delete_children(team_id, deployment.id)
    stats.forget(team_id, ("first_deployment_id", deployment.id))


def _optional_parts(deployment: DeploymentItem, version_kind: str) -> set[str]:
    """What a deletion also removes or counts down if it is still there: the place guard (a rolling
    deployment holds it for life, an incremental one while preparing) and the node's count."""
    holds_place = version_kind == ROLLING or deployment.status == "preparing"
    return {"guard", "node"} if holds_place else {"node"}


def _deletion(team_id: str, deployment: DeploymentItem, version_kind: str, optional: set[str]) -> Transaction:
    tx = Transaction().delete(deployment, DeploymentItem.status == deployment.status, _StatusMoved())
    tx.delete(new_entry(team_id, deployment))
    if _storage_of(deployment.config):  # the storage is no longer in use by this config
        tx.delete(named.guard(team_id, keys.deployment_storage(deployment.id), deployment.id))
    if "guard" in optional:
        tx.delete(
            _place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id),
            GuardItem.ref == deployment.id,
            _NotThere("guard"),
        )
    if "node" in optional:
        stats.on_node(tx, team_id, deployment.node_id, -1, _NotThere("node"))
    counts = {"deployment_count": -1, "failed_deployment_count": failed_delta(deployment.status, None)}
    return stats.on_team(tx, team_id, counts)


def _delete_children(team_id: str, deployment_id: str) -> None:
    with BaseItem.batch_write() as batch:
        for partition, prefix in (
            (keys.team(team_id), keys.instances_of(deployment_id)),
            (keys.deployment_events(deployment_id), None),
        ):
            condition = BaseItem.SK.startswith(prefix) if prefix else None
            for item in BaseItem.query(partition, condition, attributes_to_get=["PK", "SK"]):
                batch.delete(item)


def start(team_id: str, deployment: DeploymentItem, version_kind: str, by: str | None, now: datetime) -> int:
    """preparing/failed/obsolete/successful → in-progress, taking the node+prefix in-flight guard.

    Returns the new try number. Raises 409 when another deployment of the prefix is in
    flight and 412 when the status moved meanwhile.
    """
    attempt = int(deployment.tries or 0) + 1
    tx = Transaction()
    tx.create(
        named.guard(team_id, keys.in_flight(deployment.node_id, deployment.prefix), deployment.id),
        ConflictError(
            "A deployment of this prefix is already in progress on the node.",
            property="prefix",
            value=deployment.prefix,
        ),
    )
    tx.update(
        deployment,
        [
            *_status(deployment, IN_PROGRESS),
            DeploymentItem.tries.set(attempt),
            DeploymentItem.started_at.set(now),
            DeploymentItem.updated_at.set(now),
            DeploymentItem.deployed_by.set(by) if by else DeploymentItem.deployed_by.remove(),
            DeploymentItem.GSI2PK.set(keys.IN_PROGRESS),
            DeploymentItem.GSI2SK.set(f"{ids.iso(now)}#{deployment.id}"),
        ],
        (DeploymentItem.status == deployment.status) & (DeploymentItem.tries == int(deployment.tries or 0)),
        PreconditionFailedError("The deployment changed meanwhile; reload it.", property="status"),
    )
    if deployment.status == "preparing" and version_kind != ROLLING:
        tx.delete(_place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id))
    stats.on_project(tx, team_id, deployment.project_id, {"deployments_in_progress": 1})
    stats.on_team(tx, team_id, {"failed_deployment_count": failed_delta(deployment.status, IN_PROGRESS)})
    tx.commit()
    return attempt


def dispatch(deployment: DeploymentItem, attempt: int, command: BaseItem, event: DeploymentEventItem) -> bool:
    """Marks this try dispatched and writes the agent's command and its log event, all in one
    transaction: a worker that dies at any point leaves either all of them or none, so the
    redelivered message either finds the try dispatched (and writes nothing) or dispatches it.
    False for a duplicate delivery (nothing written)."""
    tx = Transaction()
    tx.update(
        deployment,
        [DeploymentItem.dispatched_try.set(attempt)],
        (DeploymentItem.status == "in-progress")
        & (DeploymentItem.tries == attempt)
        & (DeploymentItem.dispatched_try < attempt),
        ConditionFailed("already dispatched"),
    )
    tx.create(command)
    tx.create(event)
    try:
        tx.commit()
        return True
    except ConditionFailed:
        return False


def finish(team_id: str, deployment: DeploymentItem, attempt: int, status: str, now: datetime) -> bool:
    """in-progress → successful/failed for this try only; frees the prefix and counts the move. False if
    already final."""
    with_project = True
    for _ in range(_ATTEMPTS):
        try:
            _finishing(team_id, deployment, attempt, status, now, with_project).commit()
            return True
        except _NotThere:
            with_project = False
        except ConditionFailed:
            return False
    raise ConflictError("The deployment changed concurrently, try again.")


def _finishing(
    team_id: str, deployment: DeploymentItem, attempt: int, status: str, now: datetime, with_project: bool
) -> Transaction:
    tx = Transaction()
    tx.update(
        deployment,
        _final(deployment, status, now),
        (DeploymentItem.status == IN_PROGRESS) & (DeploymentItem.tries == attempt),
        ConditionFailed("already final"),
    )
    tx.delete(named.guard(team_id, keys.in_flight(deployment.node_id, deployment.prefix), deployment.id))
    if with_project:
        stats.on_project(tx, team_id, deployment.project_id, {"deployments_in_progress": -1}, _NotThere("project"))
    return stats.on_team(tx, team_id, {"failed_deployment_count": failed_delta(IN_PROGRESS, status)})


def _final(deployment: DeploymentItem, status: str, now: datetime) -> list[Any]:
    """A final status: the deployment leaves the in-progress index."""
    return [
        *_status(deployment, status),
        DeploymentItem.updated_at.set(now),
        DeploymentItem.GSI2PK.remove(),
        DeploymentItem.GSI2SK.remove(),
    ]


def set_status(
    team_id: str, deployment: DeploymentItem, status: str, only_from: tuple[str, ...], now: datetime
) -> None:
    """Moves the status only from one of `only_from` (otherwise leaves it as it is), counting a move
    out of `failed`."""
    current: DeploymentItem | None = deployment
    for _ in range(_ATTEMPTS):
        if current is None or current.status not in only_from:
            return
        tx = Transaction().update(
            current,
            [*_status(current, status), DeploymentItem.updated_at.set(now)],
            DeploymentItem.status == current.status,
            _StatusMoved(),
        )
        try:
            stats.on_team(tx, team_id, {"failed_deployment_count": failed_delta(current.status, status)}).commit()
            return
        except _StatusMoved:
            current = get(team_id, deployment.id, consistent=True)


Stuck = tuple[DeploymentItem, list[DeploymentEventItem]]
# Deployments of one team failed together: 4 operations each, plus their projects' and team's counts.
_TEAM_GROUP = 16


def fail_many(stuck: list[Stuck], now: datetime) -> Iterator[list[Stuck]]:
    """in-progress → failed for each deployment's current try with its events, freeing its prefix, in
    shared transactions; each only if the deployment is still as the sweep read it (same try, still in
    progress, same followers): a result that lands meanwhile wins. Yields those each transaction failed.

    The moves are counted on their team and projects in the same transaction, so deployments of one
    team go as one unit (up to `_TEAM_GROUP`): when one of them is refused, the others of its team
    wait for the next run."""
    for written in commit_units(_by_team(stuck), lambda tx, group: _fail_group(tx, group, now)):
        yield [unit for group in written for unit in group]


def _by_team(stuck: list[Stuck]) -> list[list[Stuck]]:
    teams: dict[str, list[Stuck]] = {}
    for unit in stuck:
        teams.setdefault(unit[0].PK, []).append(unit)
    return [group[i : i + _TEAM_GROUP] for group in teams.values() for i in range(0, len(group), _TEAM_GROUP)]


def _fail_group(tx: Transaction, group: list[Stuck], now: datetime) -> None:
    team_id = keys.team_id_of(group[0][0].PK)
    for deployment, events in group:
        as_read = (
            (DeploymentItem.status == IN_PROGRESS)
            & (DeploymentItem.tries == int(deployment.tries or 0))
            & unchanged(DeploymentItem.followed_until, deployment.followed_until)
        )
        tx.update(deployment, _final(deployment, "failed", now), as_read)
        tx.delete(named.guard(team_id, keys.in_flight(deployment.node_id, deployment.prefix), deployment.id))
        for event in events:
            tx.put(event)
    for project_id, ended in Counter(deployment.project_id for deployment, _ in group).items():
        stats.on_project(tx, team_id, project_id, {"deployments_in_progress": -ended})
    stats.on_team(tx, team_id, {"failed_deployment_count": len(group) * failed_delta(IN_PROGRESS, "failed")})


def stuck_since(cutoff: datetime, limit: int) -> list[DeploymentItem]:
    """Up to `limit` deployments in progress since before `cutoff`, oldest first (GSI2 range Query)."""
    return [
        item
        for item in BaseItem.gsi2.query(keys.IN_PROGRESS, BaseItem.GSI2SK < ids.iso(cutoff), limit=limit)  # noqa: SIM300
        if isinstance(item, DeploymentItem)
    ]


def new_event(
    deployment_id: str, kind: str, value: Any, attempt: int, now: datetime | None = None
) -> DeploymentEventItem:
    now = now or ids.utcnow()
    return DeploymentEventItem(
        keys.deployment_events(deployment_id),
        ids.time_key(now),
        deployment_id=deployment_id,
        kind=kind,
        value=value,
        try_count=attempt,
        created_at=now,
        ttl=event_ttl(now),
    )


def add_event(
    deployment_id: str, kind: str, value: Any, attempt: int, now: datetime | None = None
) -> DeploymentEventItem:
    event = new_event(deployment_id, kind, value, attempt, now)
    event.save()
    return event


def add_events(deployment_id: str, events: list[tuple[str, Any]], attempt: int) -> list[DeploymentEventItem]:
    """Several (kind, value) events in one batch write; ULIDs are monotonic within a process, so
    keys made in one call keep the given order even within one millisecond."""
    now = ids.utcnow()
    items = [new_event(deployment_id, kind, value, attempt, now) for kind, value in events]
    _put_all(items)
    return items


class _ReportMoved(ConditionFailed):
    """Another copy of the agent's report was stored meanwhile."""


def add_reported_events(
    team_id: str, deployment: DeploymentItem, attempt: int, span: tuple[int, int], events: list[tuple[int, str, Any]]
) -> list[DeploymentEventItem]:
    """Stores the events (position in the try, kind, value) of an agent's report covering positions
    `span` = [first, end) that are not stored yet, moving the deployment's mark in the same
    transactions: a report resent after its reply was lost (an outage) adds nothing, and two copies
    arriving at once are stored once (each write is conditioned on the mark it read)."""
    current: DeploymentItem | None = deployment
    for _ in range(_ATTEMPTS):
        if current is None:
            return []
        done = (current.reported_events or 0) if current.reported_try == attempt else 0
        if span[1] <= done:
            return []
        try:
            return _store_reported(current, attempt, span[1], [e for e in events if e[0] >= done])
        except _ReportMoved:
            current = get(team_id, deployment.id, consistent=True)
    raise ConflictError("The deployment's report changed concurrently, try again.")


def _store_reported(
    deployment: DeploymentItem, attempt: int, end: int, events: list[tuple[int, str, Any]]
) -> list[DeploymentEventItem]:
    now = ids.utcnow()
    if deployment.reported_try is None:
        read = DeploymentItem.reported_try.does_not_exist()
    else:
        read = (DeploymentItem.reported_try == deployment.reported_try) & (
            DeploymentItem.reported_events == (deployment.reported_events or 0)
        )
    written: list[DeploymentEventItem] = []
    chunks = [events[i : i + _PER_TRANSACTION] for i in range(0, len(events), _PER_TRANSACTION)] or [[]]
    for index, chunk in enumerate(chunks):
        mark = chunks[index + 1][0][0] if index + 1 < len(chunks) else end
        items = [new_event(deployment.id, kind, value, attempt, now) for _, kind, value in chunk]
        tx = Transaction().update(
            deployment,
            [DeploymentItem.reported_try.set(attempt), DeploymentItem.reported_events.set(mark)],
            read,
            _ReportMoved(),
        )
        for item in items:
            tx.put(item)
        tx.commit()
        written += items
        read = (DeploymentItem.reported_try == attempt) & (DeploymentItem.reported_events == mark)
    return written


def events_page(deployment_id: str, skip: int, take: int) -> tuple[list[DeploymentEventItem], int]:
    """Pages are taken newest first; items within a page are returned oldest first (dyrector); no COUNT
    of the whole log (`audit.newest`)."""
    page, total = audit.newest(DeploymentEventItem, keys.deployment_events(deployment_id), None, skip, take)
    return list(reversed(page)), total


def _put_all(items: list[BaseItem]) -> None:
    if items:
        with BaseItem.batch_write() as batch:
            for item in items:
                batch.save(item)
