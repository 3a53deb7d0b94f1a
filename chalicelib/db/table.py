"""The single table: one pynamodb base model with a `type` discriminator and two GSIs.

The schema here must match `infra/resources.json` (a test compares them). Endpoint and
region come from the environment (`AWS_ENDPOINT_URL`), never from `Meta.host`.
"""

from __future__ import annotations

from pynamodb.attributes import DiscriminatorAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib import settings


class GSI1(GlobalSecondaryIndex):
    """Reverse lookups: a user's teams and invitations, a version by id and its deployments,
    a registry's images (the access-pattern table is in `db/keys.py`)."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex):
    """Second sparse index: work queues for scheduled sweeps, and "configs using storage X"."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class BaseItem(Model):
    class Meta:
        table_name = settings.table_name()
        region = settings.region()

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    type = DiscriminatorAttribute()

    gsi1 = GSI1()
    gsi2 = GSI2()


def configure() -> None:
    """Re-read table name, region and endpoint from the environment (tests, local stack)."""
    BaseItem.Meta.table_name = settings.table_name()
    BaseItem.Meta.region = settings.region()
    for model in [BaseItem, *BaseItem.type.get_registered_subclasses(BaseItem)]:
        model._connection = None
    for index in (BaseItem.gsi1, BaseItem.gsi2):
        index.Meta.model = BaseItem


_connections: dict[tuple[str, str | None], Connection] = {}


def connection() -> Connection:
    """One low-level connection per endpoint for transactions (a botocore client is costly)."""
    key = (settings.region(), settings.endpoint_url())
    if key not in _connections:
        _connections[key] = Connection(region=key[0], host=key[1])
    return _connections[key]
