"""Platform health (`/api/health`)."""

from __future__ import annotations

from enum import Enum

from chalicelib.models.base import ResponseModel


class HealthStatus(str, Enum):
    operational = "operational"
    disrupted = "disrupted"
    unavailable = "unavailable"


class HealthResponse(ResponseModel):
    status: HealthStatus
    version: str
    last_migration: str | None
