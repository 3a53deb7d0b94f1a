"""`python -m infra.local` (`make run`): the whole platform on one machine, no AWS account.

Starts an embedded moto server (a child process, `infra/moto_server.py`) unless AWS_ENDPOINT_URL
already names an emulator (e.g. LocalStack), creates the resources from the template AWS gets (`infra/resources.json`),
publishes the stack Outputs as environment variables, then serves the Chalice app with
Chalice's own local server (and the web console's files outside /api: `infra/web_static.py`) and
runs the event pump for its SQS and schedule handlers, and, when the app has websocket handlers,
the local WebSocket API (`infra/ws_gateway.py`).
Ctrl-C or SIGTERM stops everything and exits 0.

Environment: PORT (8000), HOST (127.0.0.1), MOTO_PORT (free port), AWS_ENDPOINT_URL,
CHALICE_STAGE (dev), LOCAL_SCHEDULE_SECONDS (fire every schedule this often),
LOCAL_VISIBILITY_TIMEOUT (SQS redelivery delay, seconds), LOG_LEVEL (INFO), LOG_FORMAT (`console`:
readable lines; `json`: one JSON object per line and the metrics as EMF objects, as on AWS),
METRICS_NAMESPACE, TRACING (`on`: X-Ray segments to a daemon at AWS_XRAY_DAEMON_ADDRESS); for websocket
handlers WS_PORT (8001), WS_MANAGEMENT_PORT (free port) and the limits WS_MAX_MESSAGE_BYTES,
WS_MAX_FRAME_BYTES, WS_IDLE_SECONDS, WS_MAX_CONNECTION_SECONDS, WS_MAX_CONNECTIONS;
OUTBOUND_ALLOWED_NETWORKS (LOCAL_OUTBOUND_NETWORKS unless set: registries and webhook receivers on
this machine stay reachable; `none` allows only public addresses, as the AWS template does).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from infra import stack
from infra.pump import EventPump

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("infra.local")


# Loopback only: local registries and receivers work; the rest of the LAN stays refused.
LOCAL_OUTBOUND_NETWORKS = "127.0.0.0/8,::1/128"


def main() -> int:
    _configure_logging()
    if not os.environ.get("OUTBOUND_ALLOWED_NETWORKS"):
        os.environ["OUTBOUND_ALLOWED_NETWORKS"] = LOCAL_OUTBOUND_NETWORKS
    # Before the app imports pynamodb, which reads it once: a connection pool sized for this process.
    os.environ.setdefault("PYNAMODB_CONFIG", str(ROOT / "infra" / "pynamodb_settings.py"))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    moto = start_emulator()
    server = pump = gateway = None
    try:
        outputs = _provision()
        app, config = load_app()
        from infra import agent_package

        log.info("agent program published at %s", agent_package.publish())
        server = _serve(app, config)
        pump = _pump(app, config).start()
        gateway = _start_websockets(app, config)
        _banner(server, outputs, gateway)
        while not stop.wait(0.5):
            pass
        log.info("stopping")
        return 0
    except Exception:
        log.exception("local stack failed")
        return 1
    finally:
        _stop(gateway, pump, server, moto)


def _configure_logging() -> None:
    """The app's format (chalicelib/adapters/observability.py), readable unless LOG_FORMAT says `json`."""
    from chalicelib.adapters import observability

    os.environ.setdefault("LOG_FORMAT", "console")
    observability.configure_logging(sys.stdout)
    for noisy in ("werkzeug", "botocore", "pynamodb"):  # moto's request lines, SDK chatter
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _provision() -> dict[str, str]:
    """The stack's resources from infra/resources.json, their names exported to the environment."""
    outputs = stack.create_stack(parameters=_stack_parameters())
    stack.export_outputs(outputs)
    os.environ.setdefault("MAIL_SENDER", "no-reply@dyrector.local")
    # No mailbox locally: every mail sent is also logged (recipient, subject, its link), so a person
    # can follow a verification or reset link. Never set on AWS.
    os.environ["LOCAL_MAIL_LOG"] = "1"
    stack.verify_mail_sender()
    return outputs


def _pump(app: Any, config: Any) -> EventPump:
    """Feeds SQS messages and schedules to the app's handlers, as Lambda would."""
    return EventPump(
        app,
        region=os.environ["AWS_DEFAULT_REGION"],
        account_id=_account_id(),
        schedule_seconds=float(os.environ.get("LOCAL_SCHEDULE_SECONDS") or 0) or None,
        timeout_seconds=config.lambda_timeout or 60,
        memory_mb=config.lambda_memory_size or 128,
    )


def _stop(gateway: Any, pump: EventPump | None, server: Any, moto: Any) -> None:
    """Stops whatever was started, the WebSocket gateway first (its disconnects still reach the app)."""
    for part in (gateway, pump):
        if part is not None:
            part.stop()
    if server is not None:
        server.shutdown()
        server.server_close()
    if moto is not None:
        moto.stop()


def start_emulator() -> Any:
    """Start moto unless an endpoint is configured; returns the emulator to stop, or None."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
        return None
    moto = EmulatorProcess(int(os.environ.get("MOTO_PORT") or 0))
    # Dummy credentials on purpose: nothing started here may ever reach a real account.
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{moto.port}", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing"
    )
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return moto


class EmulatorProcess:
    """The embedded moto (`python -m infra.moto_server`) as a child process: its request handling
    then has an interpreter lock of its own instead of sharing the API's (see that module)."""

    START_TIMEOUT = 60

    def __init__(self, port: int) -> None:
        read_end, write_end = os.pipe()
        command = [sys.executable, "-m", "infra.moto_server", "--port", str(port), "--ready-fd", str(write_end)]
        try:
            self.process = subprocess.Popen(
                [*command, "--parent", str(os.getpid())], cwd=ROOT, stdin=subprocess.DEVNULL, pass_fds=(write_end,)
            )
        finally:
            os.close(write_end)
        with os.fdopen(read_end) as ready:  # the port once it serves; nothing if it failed to start
            answered = select.select([ready], [], [], self.START_TIMEOUT)[0]
            line = ready.readline().strip() if answered else ""
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"the emulator did not start (exit code {self.process.poll()})")
        self.port = int(line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load_app() -> tuple[Any, Any]:
    """Import `app.py` as Lambda would, after the environment is final; returns (app, config)."""
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.validate import validate_routes

    config = CLIFactory(str(ROOT), environ=os.environ).create_config_obj(
        chalice_stage_name=os.environ.get("CHALICE_STAGE", "dev")
    )
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)  # config.json holds defaults; stack outputs win
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    app = importlib.import_module("app").app
    validate_routes(app.routes)
    return app, config


def _serve(app: Any, config: Any) -> Any:
    from chalice.local import ChaliceRequestHandler, create_local_server

    from infra import web_static

    class NoDelayHandler(ChaliceRequestHandler):
        # Chalice writes headers and body separately; on a kept connection (a browser, a client's
        # session) Nagle's algorithm held the body back for the client's delayed ACK: 40 ms a request.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            # The app logs each request itself (observability: route, status, time, ids); this is only
            # the stand-in for API Gateway, whose access log is off too.
            log.debug("http: " + format, *args)

        # The web console's files beside the API: GET and HEAD outside /api (infra/web_static.py).
        def do_GET(self) -> None:
            self._console_or_api(send_body=True)

        def do_HEAD(self) -> None:
            self._console_or_api(send_body=False)

        def _console_or_api(self, send_body: bool) -> None:
            if web_static.is_api(self.path):
                self._generic_handle()
                return
            reply = web_static.reply_for(self.path)
            self.send_response(reply.status)
            for name, value in {**reply.headers, "Content-Length": str(len(reply.body))}.items():
                self.send_header(name, value)
            self.end_headers()
            if send_body:
                self.wfile.write(reply.body)

    host = os.environ.get("HOST", "127.0.0.1")
    local = create_local_server(app, config, host, int(os.environ.get("PORT") or 8000))
    server = local.server
    server.RequestHandlerClass = functools.partial(NoDelayHandler, app_object=local.app_object, config=config)
    os.environ.setdefault("PUBLIC_URL", f"http://{host}:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


def _start_websockets(app: Any, config: Any) -> Any:
    """API Gateway's WebSocket API, locally; only for an app with websocket handlers."""
    if not app.websocket_handlers:
        return None
    from infra.ws_gateway import Limits, WebSocketGateway  # dev-only dependency, imported when needed

    gateway = WebSocketGateway(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("WS_PORT", "8001")),
        management_port=int(os.environ.get("WS_MANAGEMENT_PORT") or 0),
        stage=config.api_gateway_stage or "api",
        region=os.environ["AWS_DEFAULT_REGION"],
        account_id=_account_id(),
        limits=Limits.from_env(),
        timeout_seconds=config.lambda_timeout or 60,
        memory_mb=config.lambda_memory_size or 128,
    )
    gateway.start()
    # Where agents and consoles connect, and where every function pushes (settings.socket_*).
    os.environ.update(SOCKET_URL=gateway.url, SOCKET_MANAGEMENT_URL=gateway.management_url)
    return gateway


def _stack_parameters() -> dict[str, str]:
    visibility = os.environ.get("LOCAL_VISIBILITY_TIMEOUT")
    return {"VisibilityTimeout": visibility} if visibility else {}


def _account_id() -> str:
    try:
        return stack.client("sts").get_caller_identity()["Account"]
    except Exception:  # noqa: BLE001 - only used to build ARNs in emulated events
        return "123456789012"


def _banner(server: Any, outputs: dict[str, str], gateway: Any = None) -> None:
    host, port = server.server_address[:2]
    base = f"http://{host}:{port}"
    websocket = f"  WebSocket {gateway.url} (@connections {gateway.management_url})\n" if gateway else ""
    print(
        f"\n  Console   {base}/\n  API       {base}/api\n  API docs  {base}/api/docs\n{websocket}"
        f"  AWS       {os.environ['AWS_ENDPOINT_URL']} (table {outputs.get('TableName')}, "
        f"queues {outputs.get('DeployQueueName')}, {outputs.get('EventsQueueName')})\n"
        "  Ctrl-C to stop\n",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
