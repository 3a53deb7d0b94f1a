"""A local stand-in for an API Gateway WebSocket API in front of a Chalice app (`make run`, tests).

Why: `chalice local` serves HTTP only, moto's `apigatewaymanagementapi` records posts without
delivering them, and LocalStack's WebSocket APIs are not free. This module is the WebSocket
sibling of `infra/pump.py`: it does for `@app.on_ws_connect` / `@app.on_ws_message` /
`@app.on_ws_disconnect` what API Gateway and Lambda do, so the app's code runs unchanged.

What it emulates:

* A WebSocket endpoint `ws://HOST:PORT/{stage}` (PyPI `websockets`). The opening handshake
  calls the `$connect` handler with the event API Gateway sends (headers, multiValueHeaders,
  queryStringParameters when there is a query, requestContext with routeKey/eventType/
  connectionId/connectedAt/requestTimeEpoch/identity.sourceIp/...). A returned non-2xx
  `statusCode` rejects the handshake with that HTTP status (AWS passes it on, e.g. 400 or 403);
  a handler that raises gives 502 and one slower than the integration timeout (29 s) 504, as a
  failed Lambda integration does. A request that is no well-formed WebSocket upgrade is refused
  before `$connect` runs. Headers the `$connect` response returns go into the handshake response.
* Subprotocols as on API Gateway: the client's Sec-WebSocket-Protocol reaches `$connect` as sent
  (the gateway neither parses nor picks from it), and the handshake selects whatever `$connect`'s
  response names in its Sec-WebSocket-Protocol header, or none (a browser then fails the
  connection).
* Every text message goes to the `$default` route (Chalice's `on_ws_message`) with `body` and
  `isBase64Encoded: false`; a handler that raises makes the gateway send the client
  `{"message": "Internal server error", "connectionId": ..., "requestId": ...}`, and with no
  message handler `{"message": "Forbidden", ...}`, as API Gateway does. A binary frame closes the
  connection with 1003 (API Gateway does not accept binary frames). Messages of one connection
  are handed to the app one at a time, in order.
* `$disconnect` after either side closed (client close frame, lost TCP connection, DELETE on
  @connections, idle or age limit, stop()), with disconnectStatusCode/disconnectReason.
* The @connections management API on a port of its own, `http://HOST:PORT/{stage}/@connections/
  {id}`: POST sends the body as one message (text if it is UTF-8, split into frames no larger
  than the frame limit), GET answers {connectedAt, identity{sourceIp, userAgent}, lastActiveAt},
  DELETE closes (204). An unknown or closed connection answers 410 with the error type header
  boto3 maps to `GoneException`; a body over the message limit 413 `PayloadTooLargeException`;
  any other path 403 `ForbiddenException`.
* Limits (`Limits`, all configurable): 128 KB messages and 32 KB frames (larger: close 1009, as
  AWS documents), 10 min idle (no message either way; close 1001), 2 h per connection (close
  1001), and a cap on open connections (429 at the handshake).

Handlers are called the way Lambda calls them, `app.handler_map[name](event, context)` (Chalice
middleware included) with a Lambda-like context named like Chalice's functions
(`{app}-{stage}-websocket_connect|message|disconnect`), on a bounded thread pool so a slow handler
never blocks the event loop. Nothing is queued without bound: a connection has at most one
handler call in flight, and the socket is not read while it runs (TCP backpressure).

How the app's `app.websocket_api.send/close/info` reach it: Chalice builds its
`apigatewaymanagementapi` client with an explicit `endpoint_url=https://{apiId}.execute-api.
{region}.amazonaws.com/{stage}`, which outranks botocore's `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`
variable, and its `configure*()` methods do nothing once an endpoint is set. So `start()` sets that
endpoint (`websocket_api._endpoint`, dropping a cached client) to this gateway's management URL and
`stop()` restores it; the app still has to assign `app.websocket_api.session` as it must on Lambda.
Requests are not signature-checked.

What it does not do: custom route selection expressions (all messages go to `$default`, which
is all Chalice deploys), route responses (a message handler's return value is dropped, as
Chalice configures none), Lambda authorizers, API keys, the 500 new connections/s throttle,
binary media types, permessage-deflate, TLS, and running handlers in parallel for one connection
(on AWS separate invocations may overlap; here they are serial, so order is guaranteed).
Message bodies are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import http
import json
import logging
import os
import threading
import time
import traceback
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from chalice.app import Chalice
from chalice.local import LambdaContext
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

log = logging.getLogger(__name__)

CONNECT, MESSAGE, DISCONNECT = "$connect", "$default", "$disconnect"
_FUNCTIONS = {CONNECT: "websocket_connect", MESSAGE: "websocket_message", DISCONNECT: "websocket_disconnect"}
_EVENT_TYPES = {CONNECT: "CONNECT", MESSAGE: "MESSAGE", DISCONNECT: "DISCONNECT"}
_HANDSHAKE_HEADERS = {"connection", "upgrade", "sec-websocket-accept", "sec-websocket-extensions", "content-length"}
_MAX_HTTP_HEADERS = 100
_GONE = (410, {"message": None}, "GoneException")


@dataclass(frozen=True)
class Limits:
    """API Gateway's WebSocket quotas (defaults) and the gateway's own bounds."""

    max_message_bytes: int = 128 * 1024
    max_frame_bytes: int = 32 * 1024
    idle_seconds: float = 600.0
    max_connection_seconds: float = 7200.0
    max_connections: int = 1000
    integration_timeout: float = 29.0
    send_timeout: float = 10.0

    _ENV = {
        "max_message_bytes": "WS_MAX_MESSAGE_BYTES",
        "max_frame_bytes": "WS_MAX_FRAME_BYTES",
        "idle_seconds": "WS_IDLE_SECONDS",
        "max_connection_seconds": "WS_MAX_CONNECTION_SECONDS",
        "max_connections": "WS_MAX_CONNECTIONS",
    }

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        """Defaults, overridden by WS_MAX_MESSAGE_BYTES, WS_MAX_FRAME_BYTES, WS_IDLE_SECONDS,
        WS_MAX_CONNECTION_SECONDS and WS_MAX_CONNECTIONS where set."""
        values: dict[str, Any] = {}
        for name, variable in cls._ENV.items():
            if environ.get(variable):
                kind = type(getattr(cls, name))
                values[name] = kind(float(environ[variable])) if kind is int else kind(environ[variable])
        return cls(**values)


class Ports(NamedTuple):
    websocket: int
    management: int


@dataclass(eq=False)
class _Connection:
    id: str
    source_ip: str
    user_agent: str | None
    connected_at_ms: int
    opened: float  # loop time
    last_active: float  # loop time
    last_active_wall: float
    headers: dict[str, str] = field(default_factory=dict)  # $connect response headers for the handshake
    ws: ServerConnection | None = None
    gone: bool = False
    close_info: tuple[int, str] | None = None  # set when the gateway closes
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class WebSocketGateway:
    """The WebSocket endpoint and its @connections API for one Chalice app; `start()`, then `stop()`."""

    def __init__(
        self,
        app: Chalice,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        management_port: int = 0,
        stage: str = "dev",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        api_id: str = "localwsapi",
        limits: Limits | None = None,
        workers: int = 8,
        timeout_seconds: int = 60,
        memory_mb: int = 128,
    ) -> None:
        self.app = app
        self.host = host
        self.stage = stage
        self.region = region
        self.account_id = account_id
        self.api_id = api_id
        self.limits = limits or Limits()
        self._requested = (port, management_port)
        self._workers = max(1, workers)
        self._timeout_seconds = timeout_seconds
        self._memory_mb = memory_mb
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._stopping: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._ports: Ports | None = None
        self._saved_endpoint: tuple[Any, Any] | None = None
        self._connections: dict[str, _Connection] = {}
        self._handshakes = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._rss_at_start = 0
        self._counters = dict.fromkeys(
            (
                "connections_total",
                "rejected_total",
                "disconnects_total",
                "messages_in",
                "messages_out",
                "bytes_in",
                "bytes_out",
                "handler_errors",
            ),
            0,
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 10.0) -> Ports:
        """Bind both ports, point the app's websocket_api at the management endpoint; returns the ports."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("gateway already started")
            self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="wsgw-lambda")
            self._rss_at_start = _rss_bytes()
            self._thread = threading.Thread(target=self._run, name="wsgw", daemon=True)
            self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None or self._ports is None:
            self.stop()
            raise RuntimeError(f"websocket gateway did not start: {self._error!r}")
        self._point_app_here()
        log.info("wsgw: %s (management %s)", self.url, self.management_url)
        return self._ports

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection (1001, each `$disconnect` runs), both servers and the pool."""
        with self._lock:
            thread, loop, stopping = self._thread, self._loop, self._stopping
            if thread is None:
                return
            self._thread = None
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._restore_app()

    def __enter__(self) -> WebSocketGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def ports(self) -> Ports:
        if self._ports is None:
            raise RuntimeError("gateway not started")
        return self._ports

    @property
    def url(self) -> str:
        """What a client connects to (API Gateway's `wss://{domain}/{stage}`)."""
        return f"ws://{self._authority(self.ports.websocket)}/{self.stage}"

    @property
    def management_url(self) -> str:
        """The endpoint an `apigatewaymanagementapi` client uses (API Gateway's `https://{domain}/{stage}`)."""
        return f"http://{self._authority(self.ports.management)}/{self.stage}"

    def stats(self, timeout: float = 5.0) -> dict[str, Any]:
        """Counters for benchmarks: open connections, messages and bytes each way, handler errors,
        the process RSS and its growth since start() per open connection (approximate)."""
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError, TimeoutError):
                return asyncio.run_coroutine_threadsafe(self._snapshot(), loop).result(timeout)
        return self._snapshot_now()

    # ------------------------------------------------------------------ the event loop thread

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as error:  # noqa: BLE001 - reported to start(); the thread must end cleanly
            self._error = error
            log.exception("wsgw: event loop failed")
        finally:
            self._ready.set()
            _cancel_all(loop)
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        ws_port, management_port = self._requested
        server = await serve(
            self._handle,
            self.host,
            ws_port,
            process_request=self._on_handshake,
            process_response=self._on_response,
            max_size=(self.limits.max_message_bytes, self.limits.max_frame_bytes),
            compression=None,
            ping_interval=None,
            max_queue=16,
            close_timeout=5,
        )
        management = await asyncio.start_server(self._serve_http, self.host, management_port)
        self._ports = Ports(_bound_port(server.sockets), _bound_port(management.sockets))
        self._ready.set()
        await self._stopping.wait()
        await self._shutdown(server, management)

    async def _shutdown(self, server: Server, management: asyncio.Server) -> None:
        management.close()
        for conn in list(self._connections.values()):
            conn.gone = True
            conn.close_info = conn.close_info or (1001, "Going away")
        server.close(code=1001, reason="Going away")  # handlers then run $disconnect
        budget = self.limits.integration_timeout + 5
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), budget)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(management.wait_closed(), 2)
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ WebSocket side

    async def _on_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        path, _, query = request.path.partition("?")
        if path.rstrip("/") != f"/{self.stage}":
            return _reject(connection, http.HTTPStatus.FORBIDDEN, '{"message":"Forbidden"}')
        if len(self._connections) + self._handshakes >= self.limits.max_connections:
            self._counters["rejected_total"] += 1
            return _reject(connection, http.HTTPStatus.TOO_MANY_REQUESTS, '{"message":"Too Many Requests"}')
        now = asyncio.get_running_loop().time()
        conn = _Connection(
            id=_aws_id(),
            source_ip=_source_ip(connection),
            user_agent=request.headers.get("User-Agent"),
            connected_at_ms=_epoch_ms(),
            opened=now,
            last_active=now,
            last_active_wall=time.time(),
        )
        event = self._connect_event(conn, request, query)
        # Only $connect picks a subprotocol (below); the library must not parse or refuse the offer.
        if "Sec-WebSocket-Protocol" in request.headers:
            del request.headers["Sec-WebSocket-Protocol"]
        upgrade = connection.protocol.accept(request)  # the upgrade's checks, before any Lambda runs
        if upgrade.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return upgrade
        self._handshakes += 1
        try:
            status, headers, body = await self._connect(event)
        finally:
            self._handshakes -= 1
        if not 200 <= status < 300:
            self._counters["rejected_total"] += 1
            return _reject(connection, status, body)
        conn.headers = headers
        connection.gateway_connection = conn  # type: ignore[attr-defined]
        return None

    async def _connect(self, event: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        """Run `$connect`: (HTTP status for the handshake, headers to add, body when rejected)."""
        if CONNECT not in self.app.websocket_handlers:
            return 200, {}, ""
        try:
            result = await self._invoke(CONNECT, event)
        except TimeoutError:
            return 504, {}, '{"message": "Endpoint request timed out"}'
        except Exception:  # noqa: BLE001 - a failed Lambda integration; logged in _invoke
            return 502, {}, '{"message": "Internal server error"}'
        result = result if isinstance(result, dict) else {}
        try:
            status = http.HTTPStatus(int(result.get("statusCode", 200)))
        except (TypeError, ValueError):
            return 502, {}, '{"message": "Internal server error"}'
        headers = {
            str(k): str(v) for k, v in (result.get("headers") or {}).items() if str(k).lower() not in _HANDSHAKE_HEADERS
        }
        body = result.get("body")
        return status, headers, body if isinstance(body, str) else ""

    def _on_response(self, connection: ServerConnection, request: Request, response: Response) -> None:
        conn = getattr(connection, "gateway_connection", None)
        if conn is None or response.status_code != http.HTTPStatus.SWITCHING_PROTOCOLS:
            return
        for name, value in conn.headers.items():
            if name not in response.headers:
                response.headers[name] = value

    async def _handle(self, ws: ServerConnection) -> None:
        conn: _Connection | None = getattr(ws, "gateway_connection", None)
        if conn is None:
            return
        conn.ws = ws
        self._connections[conn.id] = conn
        self._counters["connections_total"] += 1
        watchdog = asyncio.create_task(self._watch(conn))
        try:
            await self._receive(conn, ws)
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            conn.gone = True
            code, reason = _disconnect_status(conn, ws)
            try:
                if DISCONNECT in self.app.websocket_handlers:
                    with contextlib.suppress(Exception):
                        await self._invoke(DISCONNECT, self._disconnect_event(conn, code, reason))
            finally:
                self._connections.pop(conn.id, None)
                self._counters["disconnects_total"] += 1

    async def _receive(self, conn: _Connection, ws: ServerConnection) -> None:
        async for message in ws:
            self._counters["messages_in"] += 1
            self._counters["bytes_in"] += len(message if isinstance(message, bytes) else message.encode())
            self._touch(conn)
            if isinstance(message, bytes):
                await self._close(conn, 1003, "Binary frames are not supported")
                return
            await self._deliver(conn, message)

    async def _deliver(self, conn: _Connection, body: str) -> None:
        event = self._message_event(conn, body)
        request_id = event["requestContext"]["requestId"]
        if MESSAGE not in self.app.websocket_handlers:
            await self._send_error(conn, "Forbidden", request_id)
            return
        try:
            await self._invoke(MESSAGE, event)
        except Exception:  # noqa: BLE001 - API Gateway tells the client and keeps the connection
            await self._send_error(conn, "Internal server error", request_id)

    async def _send_error(self, conn: _Connection, message: str, request_id: str) -> None:
        payload = json.dumps({"message": message, "connectionId": conn.id, "requestId": request_id})
        await self._send(conn, payload.encode())

    async def _watch(self, conn: _Connection) -> None:
        """Close the connection when it has been idle or open too long."""
        loop = asyncio.get_running_loop()
        while not conn.gone:
            idle_at = conn.last_active + self.limits.idle_seconds
            age_at = conn.opened + self.limits.max_connection_seconds
            now = loop.time()
            if now >= idle_at or now >= age_at:
                log.info("wsgw: closing %s (%s)", conn.id, "idle" if now >= idle_at else "max duration")
                await self._close(conn, 1001, "Going away")
                return
            await asyncio.sleep(min(idle_at, age_at) - now)

    async def _close(self, conn: _Connection, code: int, reason: str) -> None:
        conn.gone = True
        conn.close_info = conn.close_info or (code, reason)
        if conn.ws is not None:
            await conn.ws.close(code, reason)

    async def _send(self, conn: _Connection, data: bytes) -> bool:
        """Send one message, fragmented to the frame limit; False when the connection is gone."""
        ws = conn.ws
        if ws is None or conn.gone:
            return False
        message = _as_message(data)
        frames = _fragments(message, self.limits.max_frame_bytes)
        try:
            async with conn.send_lock:
                await asyncio.wait_for(ws.send(frames if len(frames) > 1 else message), self.limits.send_timeout)
        except ConnectionClosed:
            return False
        except TimeoutError:
            log.warning("wsgw: %s does not read its messages; closing it", conn.id)
            self._spawn(self._close(conn, 1008, "Slow consumer"))
            return False
        self._counters["messages_out"] += 1
        self._counters["bytes_out"] += len(data)
        self._touch(conn)
        return True

    def _touch(self, conn: _Connection) -> None:
        conn.last_active = asyncio.get_running_loop().time()
        conn.last_active_wall = time.time()

    # ------------------------------------------------------------------ Lambda side

    async def _invoke(self, route: str, event: dict[str, Any]) -> Any:
        """Call the handler Lambda would call for `route` on the pool; raises what it raised."""
        name = self.app.websocket_handlers[route].name
        function = f"{self.app.app_name}-{self.stage}-{_FUNCTIONS[route]}"
        context = LambdaContext(function, self._memory_mb, max_runtime_ms=self._timeout_seconds * 1000)
        context.invoked_function_arn = f"arn:aws:lambda:{self.region}:{self.account_id}:function:{function}"
        handler = self.app.handler_map[name]
        assert self._pool is not None
        future = asyncio.get_running_loop().run_in_executor(self._pool, handler, event, context)
        try:
            return await asyncio.wait_for(future, self.limits.integration_timeout)
        except TimeoutError:
            self._counters["handler_errors"] += 1
            log.warning("wsgw: %s timed out after %ss", function, self.limits.integration_timeout)
            raise
        except Exception as error:
            self._counters["handler_errors"] += 1
            log.warning("wsgw: %s raised %s at %s", function, type(error).__name__, _where(error))
            raise

    def _request_context(self, conn: _Connection, route: str) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        request_id = _aws_id()
        return {
            "routeKey": route,
            "eventType": _EVENT_TYPES[route],
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "messageDirection": "IN",
            "stage": self.stage,
            "connectedAt": conn.connected_at_ms,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "identity": {"sourceIp": conn.source_ip},
            "requestId": request_id,
            "domainName": self._authority(self.ports.websocket),
            "connectionId": conn.id,
            "apiId": self.api_id,
        }

    def _connect_event(self, conn: _Connection, request: Request, query: str) -> dict[str, Any]:
        multi: dict[str, list[str]] = {}
        for name, value in request.headers.raw_items():
            multi.setdefault(name, []).append(value)
        multi.setdefault("X-Forwarded-For", [conn.source_ip])
        multi.setdefault("X-Forwarded-Port", [str(self.ports.websocket)])
        multi.setdefault("X-Forwarded-Proto", ["http"])
        event: dict[str, Any] = {
            "headers": {name: values[-1] for name, values in multi.items()},
            "multiValueHeaders": multi,
            "requestContext": self._request_context(conn, CONNECT),
            "isBase64Encoded": False,
        }
        if query:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
            multi_query: dict[str, list[str]] = {}
            for name, value in pairs:
                multi_query.setdefault(name, []).append(value)
            event["queryStringParameters"] = {name: values[-1] for name, values in multi_query.items()}
            event["multiValueQueryStringParameters"] = multi_query
        return event

    def _message_event(self, conn: _Connection, body: str) -> dict[str, Any]:
        context = self._request_context(conn, MESSAGE)
        context["messageId"] = _aws_id()
        return {"requestContext": context, "body": body, "isBase64Encoded": False}

    def _disconnect_event(self, conn: _Connection, code: int, reason: str) -> dict[str, Any]:
        context = self._request_context(conn, DISCONNECT)
        context["disconnectStatusCode"] = code
        context["disconnectReason"] = reason
        headers = {"Host": context["domainName"], "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""}
        return {
            "headers": headers,
            "multiValueHeaders": {name: [value] for name, value in headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }

    # ------------------------------------------------------------------ @connections

    async def _serve_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) for the management API."""
        try:
            while await self._serve_one(reader, writer):
                pass
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await asyncio.wait_for(reader.readline(), 60)
        if not line.strip():
            return False
        method, target, _version = line.decode("latin-1").split()
        headers = await _read_headers(reader)
        length = int(headers.get("content-length") or 0)
        if "transfer-encoding" in headers or length > self.limits.max_message_bytes:
            status = 413 if length > self.limits.max_message_bytes else 411
            _write(writer, status, {"message": "Payload too large"}, "PayloadTooLargeException", close=True)
            await writer.drain()
            return False
        if length and headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await asyncio.wait_for(reader.readexactly(length), 30) if length else b""
        status, payload, error_type = await self._management(method.upper(), target, body)
        keep = headers.get("connection", "").lower() != "close"
        _write(writer, status, payload, error_type, close=not keep)
        await writer.drain()
        return keep

    async def _management(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, Any] | None, str | None]:
        """(status, JSON body, error type) for one @connections request."""
        path = urllib.parse.unquote(urllib.parse.urlsplit(target).path)
        prefix = f"/{self.stage}/@connections/"
        if not path.startswith(prefix) or method not in ("POST", "GET", "DELETE"):
            return 403, {"message": "Forbidden"}, "ForbiddenException"
        conn = self._connections.get(path[len(prefix) :])
        if conn is None or conn.gone:
            return _GONE
        if method == "POST":
            return (200, None, None) if await self._send(conn, body) else _GONE
        if method == "GET":
            identity = {"sourceIp": conn.source_ip, "userAgent": conn.user_agent}
            return (
                200,
                {
                    "connectedAt": _iso(conn.connected_at_ms / 1000),
                    "identity": identity,
                    "lastActiveAt": _iso(conn.last_active_wall),
                },
                None,
            )
        conn.gone = True
        conn.close_info = conn.close_info or (1000, "Connection deleted")
        self._spawn(self._close(conn, 1000, "Connection deleted"))
        return 204, None, None

    # ------------------------------------------------------------------ helpers

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _authority(self, port: int) -> str:
        return f"{self.host}:{port}"

    async def _snapshot(self) -> dict[str, Any]:
        return self._snapshot_now()

    def _snapshot_now(self) -> dict[str, Any]:
        open_connections = sum(1 for conn in list(self._connections.values()) if not conn.gone)
        rss = _rss_bytes()
        growth = rss - self._rss_at_start
        return {
            "open_connections": open_connections,
            "handshakes_in_progress": self._handshakes,
            **self._counters,
            "rss_bytes": rss,
            "approx_bytes_per_connection": growth // open_connections if open_connections and growth > 0 else None,
        }

    def _point_app_here(self) -> None:
        api = getattr(self.app, "websocket_api", None)
        if api is None or not hasattr(api, "_endpoint"):
            log.warning("wsgw: this Chalice has no websocket_api endpoint to set; app sends will not arrive")
            return
        self._saved_endpoint = (api._endpoint, api._client)
        api._endpoint, api._client = self.management_url, None
        if api.session is None:
            # Not a fault: an app may push through its own client (ours: chalicelib/adapters/connections.py).
            log.info("wsgw: app.websocket_api.session is not set; app.websocket_api.send fails, as on Lambda")

    def _restore_app(self) -> None:
        if self._saved_endpoint is not None:
            api = self.app.websocket_api
            api._endpoint, api._client = self._saved_endpoint
            self._saved_endpoint = None


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    """What asyncio.run does on the way out: cancel what is left (idle keep-alive requests) and let it end."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())


def _reject(connection: ServerConnection, status: int, body: str) -> Response:
    response = connection.respond(status, body)
    if body.startswith("{"):
        response.headers["Content-Type"] = "application/json"
    return response


def _disconnect_status(conn: _Connection, ws: ServerConnection) -> tuple[int, str]:
    if conn.close_info is not None:
        return conn.close_info
    code = ws.close_code if ws.close_code is not None else 1006
    if code == 1005:
        return code, "Client-side close frame status not set"
    return code, ws.close_reason or ""


def _as_message(data: bytes) -> str | bytes:
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data


def _fragments(message: str | bytes, frame_bytes: int) -> list[Any]:
    """The message split into frames of at most `frame_bytes` (text split on character boundaries)."""
    raw = message.encode() if isinstance(message, str) else message
    if len(raw) <= frame_bytes:
        return [message]
    if isinstance(message, bytes):
        return [raw[i : i + frame_bytes] for i in range(0, len(raw), frame_bytes)]
    pieces, start = [], 0
    while start < len(raw):
        end = min(start + frame_bytes, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # not inside a UTF-8 sequence
            end -= 1
        pieces.append(raw[start:end].decode())
        start = end
    return pieces


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HTTP_HEADERS):
        header = await asyncio.wait_for(reader.readline(), 10)
        if header in (b"\r\n", b"\n", b""):
            return headers
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raise ValueError("too many headers")


def _write(
    writer: asyncio.StreamWriter, status: int, payload: dict[str, Any] | None, error_type: str | None, close: bool
) -> None:
    """One HTTP response; an error carries the type header botocore maps to an exception class."""
    body = b"" if payload is None or status == 204 else json.dumps(payload).encode()
    lines = [
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
        f"Content-Length: {len(body)}",
        f"x-amzn-RequestId: {_aws_id()}",
        "Connection: close" if close else "Connection: keep-alive",
    ]
    if body:
        lines.append("Content-Type: application/json")
    if error_type:
        lines.append(f"x-amzn-ErrorType: {error_type}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def _aws_id() -> str:
    """An id shaped like API Gateway's connection and request ids (16 characters, e.g. `BFaT_fALIAMCKug=`)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _source_ip(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if isinstance(address, tuple) and address else "127.0.0.1"


def _bound_port(sockets: Any) -> int:
    return int(next(iter(sockets)).getsockname()[1])


def _epoch_ms() -> int:
    return int(time.time() * 1000)


def _iso(epoch_seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_seconds, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _where(error: BaseException) -> str:
    """Where an exception was raised (file:line), without its message: that may quote a body."""
    frames = traceback.extract_tb(error.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
