"""The deploy queue's message: one try of one deployment, sent by `start` and read by `workers.deploy`."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class DeployRequested(BaseModel):
    """Start asked for this try; `instances` limits it to some instances (None: all of them).

    `attempt` makes redeliveries and stale tries harmless (see `services.dispatch`).
    """

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    team_id: str
    deployment_id: str
    attempt: int
    instances: list[str] | None = None

    def dump(self) -> str:
        return self.model_dump_json(by_alias=True)
