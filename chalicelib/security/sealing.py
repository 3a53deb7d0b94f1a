"""Credentials at rest: registry tokens and storage keys, sealed with the platform KMS key.

Each value is encrypted by KMS with an encryption context naming its owner (team and
entity id), so a ciphertext copied onto another record does not decrypt. Plaintext exists
only in memory, for the call that needs it (a registry check, a deployment), and is never
logged or returned by the API.
"""

from __future__ import annotations

from chalicelib import settings
from chalicelib.adapters import aws


def seal(plaintext: str, context: dict[str, str]) -> bytes:
    response = aws.client("kms").encrypt(
        KeyId=settings.kms_key_id(), Plaintext=plaintext.encode(), EncryptionContext=context
    )
    return response["CiphertextBlob"]


def unseal(ciphertext: bytes, context: dict[str, str]) -> str:
    return aws.client("kms").decrypt(CiphertextBlob=ciphertext, EncryptionContext=context)["Plaintext"].decode()


def seal_for_agent(public_key: str, plaintext: str) -> str:
    """A libsodium sealed box for a node agent's X25519 public key (base64): only it can open it."""
    import base64

    from nacl.public import PublicKey, SealedBox

    box = SealedBox(PublicKey(base64.b64decode(public_key)))
    return base64.b64encode(box.encrypt(plaintext.encode())).decode()
