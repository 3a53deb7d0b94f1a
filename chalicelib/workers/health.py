"""Scheduled: node health (and, with deployments, stuck-deployment timeouts)."""

from __future__ import annotations

import logging

from chalicelib.services import deployments, node_health

log = logging.getLogger(__name__)


def handle() -> None:
    marked = node_health.sweep()
    if marked:
        log.info("%d node(s) became unreachable", len(marked))
    failed = deployments.fail_stuck()
    if failed:
        log.info("%d deployment(s) timed out", len(failed))
