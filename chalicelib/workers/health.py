"""Scheduled: node health and stuck-deployment timeouts."""

from __future__ import annotations

import logging

from chalicelib.services import deployment_lifecycle, node_health

log = logging.getLogger(__name__)


def handle() -> None:
    marked = node_health.sweep()
    if marked:
        log.info("%d node(s) became unreachable", len(marked))
    failed = deployment_lifecycle.fail_stuck()
    if failed:
        log.info("%d deployment(s) timed out", len(failed))
