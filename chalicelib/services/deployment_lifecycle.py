"""How a deployment's try ends: once, with a final status, whoever notices first.

Four callers can end a try: the agent's report (`services.agents`), the deploy worker when a
rule fails (`services.dispatch`), `start` when the queue is down, and the scheduled timeout
sweep (`fail_stuck`). They all come here, so the conditional final write, the obsoleting of
older deployments and the announcement happen in one place, and the services that call it
never call each other in a circle.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from chalicelib import ids, settings
from chalicelib.adapters import observability
from chalicelib.contracts.events import DeploymentStatusChanged
from chalicelib.db import deployments as repo
from chalicelib.db import keys
from chalicelib.db import users as user_repo
from chalicelib.db.items import DeploymentEventItem, DeploymentItem, UserItem
from chalicelib.services import events, push

_log = logging.getLogger(__name__)
_FINAL_METRICS = {"successful": observability.DEPLOYMENTS_SUCCESSFUL, "failed": observability.DEPLOYMENTS_FAILED}


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
    _record_end(team_id, deployment, attempt, status, now)
    if status == "successful":
        for other in repo.of_version(deployment.version_id):
            if other.id != deployment.id and other.node_id == deployment.node_id and other.prefix == deployment.prefix:
                repo.set_status(team_id, other, "obsolete", ("successful", "failed"), now)
    _announce(team_id, deployment, status)
    return True


def fail_stuck(now: datetime | None = None) -> list[str]:
    """Deployments in progress past the timeout (agent gone) become failed: at most
    `HEALTH_SWEEP_MAX_DEPLOYMENTS` a run (the rest stay in the index for the next), written in shared
    transactions and announced in batches, so the work per call stays bounded."""
    timeout = settings.deployment_timeout_seconds()
    cutoff = (now or ids.utcnow()) - timedelta(seconds=timeout)
    reason = f"No result from the node within {timeout} s; the deployment failed."
    written = ids.utcnow()
    stuck = [
        (deployment, _timeout_events(deployment, reason, written))
        for deployment in repo.stuck_since(cutoff, settings.health_sweep_max_deployments())
    ]
    failed = []
    for ended in repo.fail_many(stuck, written):
        _tell_followers(ended)
        _announce_all([deployment for deployment, _ in ended], "failed")
        failed += [deployment.id for deployment, _ in ended]
    for deployment_id in failed:
        _log.info("deployment %s timed out: failed", deployment_id, extra={"deployment_id": deployment_id})
    if failed:
        observability.metric(observability.DEPLOYMENTS_FAILED, len(failed), reason="timeout")
    return failed


def _record_end(team_id: str, deployment: DeploymentItem, attempt: int, status: str, now: datetime) -> None:
    """The final status in the log and the deployment metrics, with how long the try took."""
    ids_ = {"deployment_id": deployment.id, "node_id": deployment.node_id, "team_id": team_id}
    _log.info("deployment %s try %d: %s", deployment.id, attempt, status, extra={**ids_, "status": status})
    if status in _FINAL_METRICS:
        observability.metric(_FINAL_METRICS[status], **ids_)
    if deployment.started_at is not None and deployment.tries and int(deployment.tries) == attempt:
        seconds = max(0.0, (now - deployment.started_at).total_seconds())
        observability.metric(observability.DEPLOYMENT_DURATION, round(seconds, 3), observability.SECONDS, **ids_)


def _tell_followers(ended: list[tuple[DeploymentItem, list[DeploymentEventItem]]]) -> None:
    followed = {deployment.id for deployment in push.followed([deployment for deployment, _ in ended])}
    for deployment, log in ended:
        if deployment.id in followed:
            push.deployment(deployment.id, log, "failed")


def _timeout_events(deployment: DeploymentItem, reason: str, now: datetime) -> list[DeploymentEventItem]:
    attempt = int(deployment.tries or 0)
    return [
        repo.new_event(deployment.id, "log", {"log": [reason], "level": "error"}, attempt, now),
        repo.new_event(deployment.id, "deployment-status", {"status": "failed"}, attempt, now),
    ]


def _announce(team_id: str, deployment: DeploymentItem, status: str) -> None:
    related = repo.related(team_id, deployment)
    user = user_repo.get(deployment.deployed_by) if deployment.deployed_by else None
    events.publish(_status_changed(team_id, deployment, status, related, user))


def _announce_all(deployments: list[DeploymentItem], status: str) -> None:
    """`_announce` for many: their related items and deployers in batched reads, one event each."""
    if not deployments:
        return
    related = repo.related_many([(keys.team_id_of(d.PK), d) for d in deployments])
    users = user_repo.batch_get({d.deployed_by for d in deployments if d.deployed_by})
    events.publish_all(
        [
            _status_changed(keys.team_id_of(d.PK), d, status, related[d.id], users.get(d.deployed_by or ""))
            for d in deployments
        ]
    )


def _status_changed(
    team_id: str, deployment: DeploymentItem, status: str, related: dict[str, Any], user: UserItem | None
) -> DeploymentStatusChanged:
    project, version, node = related.get("project"), related.get("version"), related.get("node")
    return DeploymentStatusChanged(
        team_id=team_id,
        deployment_id=deployment.id,
        status=status,
        prefix=deployment.prefix,
        project_name=project.name if project else "",
        version_name=version.name if version else "",
        node_name=node.name if node else "",
        actor_name=(user.name or user.email) if user else "A deployment token",
    )
