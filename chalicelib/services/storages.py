"""Storages: S3-compatible buckets whose files an init step copies into a container's volume.

Their access and secret keys are never stored in the table: they live as one KMS-sealed
object in the platform bucket (`storages/<tid>/<sid>.json`), written before the item that
points at it and deleted after it. Responses show the access key (an identifier) but never
the secret key; an update without keys keeps the stored ones.
"""

from __future__ import annotations

import json

from chalicelib import ids
from chalicelib.adapters import s3
from chalicelib.db import storages as repo
from chalicelib.db.items import StorageItem
from chalicelib.errors import PreconditionFailedError, not_found
from chalicelib.models.storages import StorageRequest
from chalicelib.security import sealing
from chalicelib.services.access import TeamAccess
from chalicelib.services.identity import Identity


def _key(team_id: str, storage_id: str) -> str:
    return f"storages/{team_id}/{storage_id}.json"


def _context(team_id: str, storage_id: str) -> dict[str, str]:
    return {"team": team_id, "storage": storage_id}


def get_storage(team: TeamAccess, storage_id: str) -> StorageItem:
    storage = repo.get(team.team_id, storage_id)
    if storage is None:
        raise not_found("storage")
    return storage


def list_storages(team: TeamAccess) -> list[StorageItem]:
    return repo.list_for_team(team.team_id)


def in_use(storage: StorageItem) -> bool:
    return repo.in_use(storage.id)


def credentials(team_id: str, storage_id: str) -> tuple[str, str] | None:
    """(access key, secret key), decrypted in memory for the deploy worker; None for a public storage."""
    sealed = s3.get(_key(team_id, storage_id))
    if sealed is None:
        return None
    keys = json.loads(sealing.unseal(sealed, _context(team_id, storage_id)))
    return keys["accessKey"], keys["secretKey"]


def access_key(team: TeamAccess, storage: StorageItem) -> str | None:
    found = credentials(team.team_id, storage.id) if storage.has_credentials else None
    return found[0] if found else None


def create_storage(team: TeamAccess, identity: Identity, request: StorageRequest) -> StorageItem:
    storage = repo.new_item(team.team_id, ids.new_id(), request.name, request.description, request.icon, request.url,
                            request.access_key is not None, identity.user_id, ids.utcnow())
    if request.access_key is not None:
        _put_keys(team.team_id, storage.id, request)
    try:
        repo.create(team.team_id, storage)
    except Exception:
        s3.delete(_key(team.team_id, storage.id))  # no orphaned credentials for a storage that does not exist
        raise
    return storage


def update_storage(team: TeamAccess, identity: Identity, storage_id: str, request: StorageRequest) -> None:
    storage = get_storage(team, storage_id)
    if request.access_key is not None:
        _put_keys(team.team_id, storage.id, request)
    has_credentials = request.access_key is not None or (storage.has_credentials and not request.public)
    repo.update(team.team_id, storage, name=request.name, description=request.description, icon=request.icon,
                url=request.url, has_credentials=has_credentials, by=identity.user_id, now=ids.utcnow())
    if not has_credentials:
        s3.delete(_key(team.team_id, storage.id))


def delete_storage(team: TeamAccess, storage_id: str) -> None:
    storage = get_storage(team, storage_id)
    if in_use(storage):
        raise PreconditionFailedError("The storage is used by container configs.", property="storageId")
    repo.delete(team.team_id, storage)
    s3.delete(_key(team.team_id, storage.id))


def _put_keys(team_id: str, storage_id: str, request: StorageRequest) -> None:
    plaintext = json.dumps({"accessKey": request.access_key.get_secret_value(),
                            "secretKey": request.secret_key.get_secret_value()})
    s3.put(_key(team_id, storage_id), sealing.seal(plaintext, _context(team_id, storage_id)), "application/octet-stream")
