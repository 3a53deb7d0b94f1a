"""The team audit log: who changed what, when. Written after every successful write call, kept
`settings.audit_retention_days()` days; `filter=` searches the newest `settings.audit_filter_max_scan()`
entries of the asked range."""

from __future__ import annotations

from typing import Any

from chalicelib import ids
from chalicelib.db import audit as audit_repo
from chalicelib.db.items import AuditItem
from chalicelib.models.audit import AuditLogQuery
from chalicelib.services.identity import Identity


def record(team_id: str, identity: Identity | None, method: str, event: str, data: Any) -> None:
    audit_repo.put(
        audit_repo.new_item(
            team_id,
            ids.utcnow(),
            actor_type=_actor_type(identity),
            user_id=identity.user_id if identity else None,
            email=identity.email if identity else None,
            user_name=identity.name if identity else None,
            context="http",
            method=method.lower(),
            event=event,
            data=data,
        )
    )


def list_entries(team_id: str, query: AuditLogQuery) -> tuple[list[AuditItem], int]:
    now = ids.utcnow()
    if not query.filter:
        return audit_repo.page(team_id, query.from_, query.to, query.skip, query.take, now)
    needle = query.filter.lower()

    def predicate(item: AuditItem) -> bool:
        return any(needle in (value or "").lower() for value in (item.email, item.user_name, item.event))

    return audit_repo.filtered_page(team_id, query.from_, query.to, query.skip, query.take, predicate, now)


def kept_total(team_id: str) -> int:
    """How many entries the team's audit log holds now."""
    return audit_repo.kept_total(team_id, ids.utcnow())


def _actor_type(identity: Identity | None) -> str:
    if identity is None:
        return "anonymous"
    return "deployment-token" if identity.kind == "deploy" else "user"
