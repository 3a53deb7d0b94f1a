"""The team audit log (`/api/{teamSlug}/audit-log`)."""

from __future__ import annotations

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.audit import AuditLogEntry, AuditLogQuery, AuditLogResponse, AuditUser
from chalicelib.services import audit

route = Router("Audit log")


@route.get(
    "/api/{teamSlug}/audit-log",
    summary="Paginated team audit log, newest first",
    query=AuditLogQuery,
    response=AuditLogResponse,
)
def get_audit_log(ctx: RequestContext, team_slug: str, query: AuditLogQuery) -> AuditLogResponse:
    items, total = audit.list_entries(ctx.team.team_id, query)
    return AuditLogResponse(
        total=total,
        items=[
            AuditLogEntry(
                actor_type=i.actor_type,
                context=i.context,
                method=i.method,
                created_at=i.created_at,
                user=AuditUser(id=i.user_id, email=i.email or "") if i.user_id else None,
                name=i.user_name,
                event=i.event,
                data=i.data,
            )
            for i in items
        ],
    )
