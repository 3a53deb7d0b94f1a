"""What the agent keeps in its data directory: tokens and its key pair (owner-only files).

`install.token` comes from the install script and is spent on registration;
`connection.token` replaces it. `secret.key` is the agent's X25519 private key: clients seal
secret values to its public key (libsodium sealed boxes) and only this agent can open them.
`in-flight.json` holds the command being executed (as received: secrets in it are sealed) from
before its acknowledgement until its result is reported, so an agent killed mid-way finishes it
after a restart: the platform delivers an acknowledged command only once.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey, SealedBox


class AgentState:
    def __init__(self, data_dir: str | Path) -> None:
        self.dir = Path(data_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        self._key = self._load_key()

    @property
    def public_key(self) -> str:
        return base64.b64encode(bytes(self._key.public_key)).decode()

    def decrypt(self, sealed: str) -> str:
        """Opens a value sealed to this agent's public key."""
        return SealedBox(self._key).decrypt(base64.b64decode(sealed)).decode()

    def connection_token(self) -> str | None:
        return self._read("connection.token")

    def install_token(self) -> str | None:
        return self._read("install.token")

    def save_connection_token(self, token: str) -> None:
        self._write("connection.token", token)
        (self.dir / "install.token").unlink(missing_ok=True)

    def forget_connection_token(self) -> None:
        (self.dir / "connection.token").unlink(missing_ok=True)

    def save_in_flight(self, command: dict[str, Any]) -> None:
        self._write("in-flight.json", json.dumps(command))

    def in_flight(self) -> dict[str, Any] | None:
        stored = self._read("in-flight.json")
        try:
            return json.loads(stored) if stored else None
        except ValueError:  # cut short by a crash while writing: nothing was acknowledged yet
            return None

    def clear_in_flight(self) -> None:
        (self.dir / "in-flight.json").unlink(missing_ok=True)

    def _load_key(self) -> PrivateKey:
        stored = self._read("secret.key")
        if stored:
            return PrivateKey(base64.b64decode(stored))
        key = PrivateKey.generate()
        self._write("secret.key", base64.b64encode(bytes(key)).decode())
        return key

    def _read(self, name: str) -> str | None:
        path = self.dir / name
        return path.read_text().strip() or None if path.exists() else None

    def _write(self, name: str, value: str) -> None:
        path = self.dir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
