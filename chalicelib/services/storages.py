"""Storages: S3-compatible buckets whose files an init step copies into a container's volume.

Their access and secret keys are never stored in the table: they live as a KMS-sealed object
in the platform bucket (`storages/<tid>/<sid>/<uuid>.json`). Each change writes a new object
before the item is pointed at it and deletes the old one after, so a failed update (a taken
name, say) leaves the stored keys exactly as they were. Responses show the access key (an identifier) but never
the secret key; an update without keys keeps the stored ones.
"""

from __future__ import annotations

import json

from chalicelib import ids
from chalicelib.adapters import s3
from chalicelib.db import storages as repo
from chalicelib.db.items import StorageItem
from chalicelib.errors import BadRequestError, PreconditionFailedError, found_or_404
from chalicelib.models.paging import Page, PageQuery
from chalicelib.models.storages import StorageRequest
from chalicelib.security import sealing
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity


def team_prefix(team_id: str) -> str:
    return f"storages/{team_id}/"


def _new_key(team_id: str, storage_id: str) -> str:
    return f"{team_prefix(team_id)}{storage_id}/{ids.new_id()}.json"


def _context(team_id: str, storage_id: str) -> dict[str, str]:
    return {"team": team_id, "storage": storage_id}


def get_storage(team: TeamAccess, storage_id: str) -> StorageItem:
    return found_or_404(repo.get(team.team_id, storage_id), "storage")


def check_in_team(team: TeamAccess, storage: dict | None) -> None:
    """A container config (image or instance) may name only a storage of its own team."""
    storage_id = (storage or {}).get("storageId")
    if storage_id and repo.get(team.team_id, storage_id) is None:
        raise BadRequestError("Storage not found in this team.", property="config.storage.storageId", value=storage_id)


def list_storages(team: TeamAccess, query: PageQuery) -> Page[StorageItem]:
    return repo.page_for_team(team.team_id, query).sorted(lambda s: s.created_at)


def in_use(storage: StorageItem) -> bool:
    return repo.in_use(storage.id)


def access_key(team: TeamAccess, storage: StorageItem) -> str | None:
    """The access key (shown to the team; the secret key never is), unsealed in memory; None for a public storage."""
    keys = credentials(team.team_id, storage)
    return keys[0] if keys else None


def get_for_deploy(team_id: str, storage_id: str) -> StorageItem | None:
    """The storage a deployment's config names (the deploy worker has no TeamAccess); None when gone."""
    return repo.get(team_id, storage_id)


def credentials(team_id: str, storage: StorageItem) -> tuple[str, str] | None:
    """(access key, secret key), unsealed in memory only (the deploy worker seals them to the node's
    agent at once); None for a public storage."""
    sealed = s3.get(storage.credentials_key) if storage.credentials_key else None
    if sealed is None:
        return None
    keys = json.loads(sealing.unseal(sealed, _context(team_id, storage.id)))
    return keys["accessKey"], keys["secretKey"]


def create_storage(team: TeamAccess, identity: Identity, request: StorageRequest) -> StorageItem:
    storage_id = ids.new_id()
    key = _put_keys(team.team_id, storage_id, request)
    storage = repo.new_item(
        team.team_id,
        storage_id,
        request.name,
        request.description,
        request.icon,
        request.url,
        key,
        identity.user_id,
        ids.utcnow(),
    )
    try:
        repo.create(team.team_id, storage)
    except Exception:
        if key:
            s3.delete(key)  # no orphaned credentials for a storage that does not exist
        raise
    return storage


def update_storage(team: TeamAccess, identity: Identity, storage_id: str, request: StorageRequest) -> None:
    storage = get_storage(team, storage_id)
    old = storage.credentials_key
    new = _put_keys(team.team_id, storage.id, request)
    key = new or (None if request.public else old)
    try:
        repo.update(
            team.team_id,
            storage,
            name=request.name,
            description=request.description,
            icon=request.icon,
            url=request.url,
            credentials_key=key,
            by=identity.user_id,
            now=ids.utcnow(),
        )
    except Exception:
        if new:
            s3.delete(new)  # the stored keys stay as they were
        raise
    if old and old != key:
        s3.delete(old)


def delete_storage(team: TeamAccess, storage_id: str) -> None:
    storage = get_storage(team, storage_id)
    if in_use(storage):
        raise PreconditionFailedError("The storage is used by container configs.", property="storageId")
    repo.delete(team.team_id, storage)
    if storage.credentials_key:
        s3.delete(storage.credentials_key)


def _put_keys(team_id: str, storage_id: str, request: StorageRequest) -> str | None:
    """Writes the request's keys (if any) to a new sealed object; returns its S3 key."""
    if request.access_key is None:
        return None
    plaintext = json.dumps(
        {"accessKey": request.access_key.get_secret_value(), "secretKey": request.secret_key.get_secret_value()}
    )
    key = _new_key(team_id, storage_id)
    s3.put(key, sealing.seal(plaintext, _context(team_id, storage_id)), "application/octet-stream")
    return key
