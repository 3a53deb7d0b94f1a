"""Platform health (`/api/health`)."""

from enum import StrEnum

from chalicelib.models.base import ResponseModel


class HealthStatus(StrEnum):
    operational = "operational"
    disrupted = "disrupted"
    unavailable = "unavailable"


class HealthResponse(ResponseModel):
    status: HealthStatus
    version: str
    last_migration: str | None
