"""The team dashboard (`/api/{teamSlug}/dashboard`)."""

from __future__ import annotations

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.dashboard import DashboardResponse
from chalicelib.services import dashboard

route = Router("Dashboard")


@route.get("/api/{teamSlug}/dashboard", summary="Team counts and the onboarding checklist", response=DashboardResponse)
def get_dashboard(ctx: RequestContext, team_slug: str):
    return dashboard.dashboard(ctx.team, ctx.user)
