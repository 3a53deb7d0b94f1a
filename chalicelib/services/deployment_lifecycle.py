"""How a deployment's try ends: once, with a final status, whoever notices first.

Four callers can end a try: the agent's report (`services.agents`), the deploy worker when a
rule fails (`services.dispatch`), `start` when the queue is down, and the scheduled timeout
sweep (`fail_stuck`). They all come here, so the conditional final write, the obsoleting of
older deployments and the announcement happen in one place, and the services that call it
never call each other in a circle.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from chalicelib import ids, settings
from chalicelib.contracts.events import DeploymentStatusChanged
from chalicelib.db import deployments as repo
from chalicelib.db import keys
from chalicelib.db import users as user_repo
from chalicelib.db.items import DeploymentItem
from chalicelib.services import events, push


def finish(team_id: str, deployment: DeploymentItem, attempt: int, status: str, log: list[str] | None = None) -> bool:
    """Writes a final status for this try (only once) and applies what follows from it."""
    now = ids.utcnow()
    written = []
    if log:
        written.append(
            repo.add_event(
                deployment.id, "log", {"log": log, "level": "error" if status == "failed" else "info"}, attempt
            )
        )
    if not repo.finish(team_id, deployment, attempt, status, now):
        push.deployment(deployment.id, written)
        return False
    written.append(repo.add_event(deployment.id, "deployment-status", {"status": status}, attempt))
    push.deployment(deployment.id, written, status)
    if status == "successful":
        for other in repo.of_version(deployment.version_id):
            if other.id != deployment.id and other.node_id == deployment.node_id and other.prefix == deployment.prefix:
                repo.set_status(other, "obsolete", ("successful", "failed"), now)
    _announce(team_id, deployment, status)
    return True


def fail_stuck(now: datetime | None = None) -> list[str]:
    """Deployments in progress past the timeout (agent gone) become failed."""
    timeout = settings.deployment_timeout_seconds()
    cutoff = (now or ids.utcnow()) - timedelta(seconds=timeout)
    reason = f"No result from the node within {timeout} s; the deployment failed."
    failed = []
    for deployment in repo.stuck_since(cutoff):
        team_id = deployment.PK.removeprefix(keys.TEAM_PREFIX)
        if finish(team_id, deployment, int(deployment.tries), "failed", [reason]):
            failed.append(deployment.id)
    return failed


def _announce(team_id: str, deployment: DeploymentItem, status: str) -> None:
    related = repo.related(team_id, deployment)
    project, version, node = related.get("project"), related.get("version"), related.get("node")
    user = user_repo.get(deployment.deployed_by) if deployment.deployed_by else None
    events.publish(
        DeploymentStatusChanged(
            team_id=team_id,
            deployment_id=deployment.id,
            status=status,
            prefix=deployment.prefix,
            project_name=project.name if project else "",
            version_name=version.name if version else "",
            node_name=node.name if node else "",
            actor_name=(user.name or user.email) if user else "A deployment token",
        )
    )
