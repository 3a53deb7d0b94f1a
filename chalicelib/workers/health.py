"""Scheduled: node health and stuck-deployment timeouts.

Each part does at most a capped amount of work per run (`HEALTH_SWEEP_MAX_NODES`,
`HEALTH_SWEEP_MAX_DEPLOYMENTS`); what is left stays in its index for the next run. The function's
reserved concurrency is 1 (`.chalice/config.json`), so two runs never sweep the same items at once.
"""

from __future__ import annotations

import logging

from chalicelib import settings
from chalicelib.services import deployment_lifecycle, node_health

log = logging.getLogger(__name__)


def handle() -> None:
    marked = node_health.sweep()
    if marked:
        log.info("%d node(s) became unreachable%s", len(marked), _more(len(marked), settings.health_sweep_max_nodes()))
    failed = deployment_lifecycle.fail_stuck()
    if failed:
        log.info(
            "%d deployment(s) timed out%s", len(failed), _more(len(failed), settings.health_sweep_max_deployments())
        )


def _more(done: int, cap: int) -> str:
    return "; the cap was reached, the next run takes the rest" if done >= cap else ""
