"""Deployments (`DEPLOYMENT#<did>`), their instances (`INSTANCE#<did>#<iid>`) and events.

The per-node rules are guard items written in the same transactions as the deployment:
- rolling versions: one deployment per version+node+prefix (`DEPLOYSLOT#…`, for its lifetime);
- incremental versions: one *preparing* deployment per version+node+prefix (`PREPARING#…`);
- at most one deployment in flight per node+prefix (`INFLIGHT#<nid>#<prefix>`, from start to
  final status), so a double `start` or a duplicate SQS delivery never deploys twice.
Status changes are conditional on the expected status and try, so only forward moves land.
Events (the deployment's log, `DEPLOYEVENT#<did>`) expire after `EVENT_RETENTION_DAYS` (TTL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import ids
from chalicelib.db import audit, keys, named
from chalicelib.db.conditions import ConditionFailed, conditional, unchanged
from chalicelib.db.items import BaseItem, DeploymentEventItem, DeploymentItem, GuardItem, InstanceItem
from chalicelib.db.retention import event_ttl
from chalicelib.db.transactions import Transaction, commit_units
from chalicelib.errors import ConflictError, PreconditionFailedError

ROLLING = "rolling"
_PER_TRANSACTION = 90


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
        GSI1SK=keys.deployment(deployment_id),
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


def list_for_team(team_id: str) -> list[DeploymentItem]:
    return sorted(
        named.query(DeploymentItem, team_id, keys.DEPLOYMENT_PREFIX), key=lambda d: d.created_at, reverse=True
    )


def of_version(version_id: str) -> list[DeploymentItem]:
    return [
        item
        for item in BaseItem.gsi1.query(
            keys.version_ref(version_id), BaseItem.GSI1SK.startswith(keys.DEPLOYMENT_PREFIX)
        )
        if isinstance(item, DeploymentItem)
    ]


def of_versions(version_ids: list[str]) -> dict[str, list[DeploymentItem]]:
    return {version_id: of_version(version_id) for version_id in version_ids}


def instances(team_id: str, deployment_id: str) -> list[InstanceItem]:
    return named.query(InstanceItem, team_id, keys.instances_of(deployment_id))


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


def nodes_of(team_id: str, node_ids: set[str]) -> dict[str, Any]:
    """The node items deployments target, by id."""
    if not node_ids:
        return {}
    return {item.id: item for item in BaseItem.batch_get([(keys.team(team_id), keys.node(nid)) for nid in node_ids])}


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
    conflict = ConflictError("Prefix taken for the node.", property="prefix")
    tx = Transaction().create(
        _place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id), conflict
    )
    tx.create(deployment)
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
    tx = Transaction()
    tx.delete(
        deployment,
        DeploymentItem.status != "in-progress",
        PreconditionFailedError("A deployment in progress cannot be deleted.", property="status"),
    )
    tx.delete(
        _place_guard(team_id, deployment, version_kind, deployment.prefix, deployment.node_id),
        GuardItem.ref == deployment.id,
    )
    try:
        tx.commit()
    except ConflictError:  # the place guard belonged to another deployment (or none): delete without it
        Transaction().delete(
            deployment,
            DeploymentItem.status != "in-progress",
            PreconditionFailedError("A deployment in progress cannot be deleted.", property="status"),
        ).commit()
    with BaseItem.batch_write() as batch:
        for partition, prefix in (
            (keys.team(team_id), keys.instances_of(deployment.id)),
            (keys.deployment_events(deployment.id), None),
        ):
            condition = BaseItem.SK.startswith(prefix) if prefix else None
            for item in BaseItem.query(partition, condition, attributes_to_get=["PK", "SK"]):
                batch.delete(item)
        if _storage_of(deployment.config):
            batch.delete(named.guard(team_id, keys.deployment_storage(deployment.id), deployment.id))


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
            DeploymentItem.status.set("in-progress"),
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
    """in-progress → successful/failed for this try only; frees the prefix. False if already final."""
    tx = Transaction()
    tx.update(
        deployment,
        _final(status, now),
        (DeploymentItem.status == "in-progress") & (DeploymentItem.tries == attempt),
        ConditionFailed("already final"),
    )
    tx.delete(named.guard(team_id, keys.in_flight(deployment.node_id, deployment.prefix), deployment.id))
    try:
        tx.commit()
        return True
    except ConditionFailed:
        return False


def _final(status: str, now: datetime) -> list[Any]:
    """A final status: the deployment leaves the in-progress index."""
    return [
        DeploymentItem.status.set(status),
        DeploymentItem.updated_at.set(now),
        DeploymentItem.GSI2PK.remove(),
        DeploymentItem.GSI2SK.remove(),
    ]


def set_status(deployment: DeploymentItem, status: str, only_from: tuple[str, ...], now: datetime) -> None:
    """Moves the status only from one of `only_from`; otherwise leaves it as it is."""
    actions = [DeploymentItem.status.set(status), DeploymentItem.updated_at.set(now)]
    conditional(lambda: deployment.update(actions=actions, condition=DeploymentItem.status.is_in(*only_from)))


def fail_many(
    stuck: list[tuple[DeploymentItem, list[DeploymentEventItem]]], now: datetime
) -> Iterator[list[tuple[DeploymentItem, list[DeploymentEventItem]]]]:
    """in-progress → failed for each deployment's current try with its events, freeing its prefix, in
    shared transactions; each only if the deployment is still as the sweep read it (same try, still in
    progress, same followers): a result that lands meanwhile wins. Yields those each transaction failed."""

    def build(tx: Transaction, unit: tuple[DeploymentItem, list[DeploymentEventItem]]) -> None:
        deployment, events = unit
        as_read = (
            (DeploymentItem.status == "in-progress")
            & (DeploymentItem.tries == int(deployment.tries or 0))
            & unchanged(DeploymentItem.followed_until, deployment.followed_until)
        )
        tx.update(deployment, _final("failed", now), as_read)
        tx.delete(
            named.guard(
                keys.team_id_of(deployment.PK),
                keys.in_flight(deployment.node_id, deployment.prefix),
                deployment.id,
            )
        )
        for event in events:
            tx.put(event)

    yield from commit_units(stuck, build)


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


def events_page(deployment_id: str, skip: int, take: int) -> tuple[list[DeploymentEventItem], int]:
    """Pages are taken newest first; items within a page are returned oldest first (dyrector)."""
    items, total = audit.page_by_time(
        DeploymentEventItem, keys.deployment_events(deployment_id), None, None, skip, take
    )
    return list(reversed(items)), total


def _put_all(items: list[BaseItem]) -> None:
    if items:
        with BaseItem.batch_write() as batch:
            for item in items:
                batch.save(item)
