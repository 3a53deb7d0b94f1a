"""`GET /api/health`: unauthenticated, for load balancers and uptime checks."""

from __future__ import annotations

from chalicelib.api.routing import RequestContext, Router
from chalicelib.models.health import HealthResponse
from chalicelib.services import health

route = Router("Health")


@route.get("/api/health", summary="Service status", response=HealthResponse, auth=None)
def get_health(ctx: RequestContext) -> dict:
    return health.check()
