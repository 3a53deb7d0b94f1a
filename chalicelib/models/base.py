"""Shared model configuration, decided once for every request and response model.

Requests forbid unknown fields (a typo is a 400, not a silent no-op); responses are
built from our own data and serialised by alias. Datetimes render as UTC ISO with ms.
"""

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.alias_generators import to_camel

from chalicelib.contracts.naming import check_name
from chalicelib.ids import iso

# WithJsonSchema keeps `format: date-time` in the serialization schema the OpenAPI document shows.
UtcDateTime = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# Names are trimmed and 1..70 characters, as dyrector's database allows, and pass `check_name`
# (they land in audit lines, notifications and the install scripts an owner runs as root).
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=70), BeforeValidator(check_name)
]
# First and last names of people: 1..32 characters, same rule.
PersonName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), BeforeValidator(check_name)
]

# A page offset; bounded, since an unbounded int reaches slicing code that refuses values past sys.maxsize.
Skip = Annotated[int, Field(ge=0, le=2**31 - 1)]


# defer_build: a model's validator is built when it is first used, not at import, so a Lambda
# cold start pays only for the models its request touches.
class RequestModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=False, defer_build=True
    )


class ResponseModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


class Audit(ResponseModel):
    created_at: UtcDateTime
    created_by: str
    updated_at: UtcDateTime
    updated_by: str

    @classmethod
    def of(cls, item: object) -> "Audit":
        """From any item with created/updated at/by (`updatedBy` falls back to `createdBy`)."""
        created_by = item.created_by
        return cls(
            created_at=item.created_at,
            created_by=created_by,
            updated_at=getattr(item, "updated_at", None) or item.created_at,
            updated_by=getattr(item, "updated_by", None) or created_by,
        )
