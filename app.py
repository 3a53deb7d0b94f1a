"""Wiring only: the Chalice app, its blueprints, and the SQS and schedule handlers."""

from __future__ import annotations

import logging

from chalice import Rate

from chalicelib import settings
from chalicelib.api import (
    agent,
    audit,
    auth,
    dashboard,
    deployments,
    docs,
    health,
    images,
    nodes,
    notifications,
    projects,
    registries,
    sockets,
    storages,
    teams,
    templates,
    tokens,
    users,
    versions,
)
from chalicelib.api.routing import App
from chalicelib.workers import batch
from chalicelib.workers import deploy as deploy_worker
from chalicelib.workers import events as events_worker
from chalicelib.workers import health as health_worker

app = App(app_name="dyrector")
app.experimental_feature_flags.update(["WEBSOCKETS"])  # the agents' push channel and live events (api/sockets)
app.log.setLevel(logging.INFO)

for module in (
    health,
    auth,
    teams,
    users,
    tokens,
    audit,
    registries,
    storages,
    projects,
    versions,
    images,
    deployments,
    dashboard,
    nodes,
    notifications,
    templates,
    agent,
    docs,
    sockets,
):
    app.register_blueprint(module.bp)


@app.on_ws_connect()
def websocket_connect(event):
    return sockets.connect(event)


@app.on_ws_message()
def websocket_message(event):
    sockets.message(event)


@app.on_ws_disconnect()
def websocket_disconnect(event):
    sockets.disconnect(event)


@app.on_sqs_message(queue=settings.events_queue_name(), batch_size=10)
def on_event(event):
    return batch.process(event, events_worker.handle)


@app.on_sqs_message(queue=settings.deploy_queue_name(), batch_size=1)
def on_deploy(event):
    return batch.process(event, deploy_worker.handle)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def check_health(event):
    health_worker.handle()
