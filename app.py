"""Wiring only: the Chalice app, its routes, and the WebSocket, SQS and schedule handlers.

Every Lambda cold start imports this module, so it imports only the wiring: a route's module
(`chalicelib/api/<module>.py`, with its models and services) loads when that route first runs,
and each handler below imports its worker when it first runs. Every handler runs inside one
middleware, `observability.invocation`: its log keys, trace segment and API metrics
(docs/operations.md).
"""

from __future__ import annotations

import logging

from chalice import Rate

from chalicelib import settings
from chalicelib.adapters import observability
from chalicelib.api import manifest, routing

# Chalice's own log handler would print its records in its own format: they go through the root
# handler instead, like every other record (observability.configure_logging).
app = routing.App(app_name="dyrector", configure_logs=False)
app.experimental_feature_flags.update(["WEBSOCKETS"])  # the agents' push channel and live events (api/sockets)
app.log.setLevel(logging.INFO)
app.register_middleware(observability.invocation, "all")
routing.bind(app)

for module, routes in manifest.ROUTES.items():
    for method, path in routes:
        app.route(path, methods=[method])(routing.lazy_view(module, method, path))


@app.on_ws_connect()
def websocket_connect(event):
    from chalicelib.api import sockets

    return sockets.connect(event)


@app.on_ws_message()
def websocket_message(event):
    from chalicelib.api import sockets

    sockets.message(event)


@app.on_ws_disconnect()
def websocket_disconnect(event):
    from chalicelib.api import sockets

    sockets.disconnect(event)


@app.on_sqs_message(queue=settings.events_queue_name(), batch_size=10)
def on_event(event):
    from chalicelib.workers import batch
    from chalicelib.workers import events as events_worker

    return batch.process(event, events_worker.handle, "events")


@app.on_sqs_message(queue=settings.deploy_queue_name(), batch_size=1)
def on_deploy(event):
    from chalicelib.workers import batch
    from chalicelib.workers import deploy as deploy_worker

    return batch.process(event, deploy_worker.handle, "deploy")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def check_health(event):
    from chalicelib.workers import health as health_worker

    health_worker.handle()
