"""The node agent's two JWTs, issued here so every service that hands one out shares one rule.

An install token (`agent-install`) is baked into a node's install script and is good for one
`register`; the connection token (`agent`) it is swapped for is good until revoked. Each carries
the team (`tid`) and a token id (`jti`) that the node item must still name for the token to work.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib import ids
from chalicelib.security import jwts

INSTALL = "agent-install"
CONNECTION = "agent"


def issue_install_token(team_id: str, node_id: str, install_id: str, expires_at: datetime) -> str:
    return jwts.issue(INSTALL, node_id, expires_at=expires_at, issued_at=ids.utcnow(), tid=team_id, jti=install_id)


def issue_connection_token(team_id: str, node_id: str, token_id: str, issued_at: datetime) -> str:
    return jwts.issue(CONNECTION, node_id, expires_at=None, issued_at=issued_at, tid=team_id, jti=token_id)
