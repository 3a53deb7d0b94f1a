"""Team audit log (`/api/{teamSlug}/audit-log`)."""

from typing import Any

from pydantic import Field, model_validator

from chalicelib.models.base import RequestModel, ResponseModel, Skip, UtcDateTime


class AuditLogQuery(RequestModel):
    skip: Skip = 0
    take: int = Field(100, ge=1, le=1000)
    from_: UtcDateTime | None = Field(None, alias="from")
    to: UtcDateTime | None = None
    filter: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _range(self) -> "AuditLogQuery":
        if self.from_ and self.to and self.from_ > self.to:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("range", "'from' must not be after 'to'")
        return self


class AuditUser(ResponseModel):
    id: str
    email: str


class AuditLogEntry(ResponseModel):
    actor_type: str
    context: str
    method: str
    created_at: UtcDateTime
    user: AuditUser | None
    name: str | None
    event: str
    data: Any | None


class AuditLogResponse(ResponseModel):
    items: list[AuditLogEntry]
    total: int
