"""The HMAC key that signs every JWT, kept as a KMS-encrypted data key in the table.

The first process to need it asks KMS for a data key and stores only the ciphertext with
a conditional put (first writer wins, everyone else reads the winner's). Each cold start
costs one GetItem and one KMS Decrypt; the plaintext lives only in this process's memory.
"""

from __future__ import annotations

import threading

from pynamodb.exceptions import PutError

from chalicelib import ids, settings
from chalicelib.adapters import aws
from chalicelib.db import keys
from chalicelib.db.items import SigningKeyItem

_lock = threading.Lock()
_cache: dict[tuple[str, str | None], bytes] = {}


def signing_key() -> bytes:
    cache_key = (settings.table_name(), settings.endpoint_url())
    key = _cache.get(cache_key)
    if key is None:
        with _lock:
            key = _cache.get(cache_key) or _load_or_create()
            _cache[cache_key] = key
    return key


def _load_or_create() -> bytes:
    kms = aws.client("kms")
    try:
        item = SigningKeyItem.get(keys.META, keys.SIGNING_KEY)
    except SigningKeyItem.DoesNotExist:
        data_key = kms.generate_data_key(KeyId=settings.kms_key_id(), KeySpec="AES_256")
        item = SigningKeyItem(
            keys.META, keys.SIGNING_KEY, ciphertext=data_key["CiphertextBlob"], created_at=ids.utcnow()
        )
        try:
            item.save(condition=SigningKeyItem.PK.does_not_exist())
            return data_key["Plaintext"]
        except PutError:
            item = SigningKeyItem.get(keys.META, keys.SIGNING_KEY)
    return kms.decrypt(CiphertextBlob=item.ciphertext)["Plaintext"]
