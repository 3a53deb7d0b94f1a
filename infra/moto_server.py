"""The embedded moto server (`make run`): moto's threaded server in a process of its own, minus
two costs it pays per request.

Every AWS call the local stack makes goes through this server, so what it spends per request
multiplies: a dashboard is a dozen DynamoDB calls, and 20 clients make hundreds a second.

* **A process of its own** (`python -m infra.moto_server`, started by `infra/local.py`). In the
  stack's process, moto's request handling took half of the one interpreter lock that the API,
  the event pump and botocore share, so the stack used one core of two. Here it has its own;
  the calls already went over loopback HTTP. It ignores Ctrl-C (the stack still needs it while it
  shuts down) and stops on SIGTERM, or when the stack's process is gone.

* **Connections.** Werkzeug's development server ends every response with `Connection: close`
  (its `http.server` base cannot drain a request body it did not read), so each call paid a new
  TCP connection, an address lookup in botocore and a new server thread, and the client pool
  never reused anything. `KeepAliveHandler` reads the whole body up front, answers with a
  `Content-Length`, and keeps the connection; a request it cannot frame that way (a chunked
  body) goes through werkzeug as before and closes.
* **Dispatch.** moto picks the backend for each request by listing its package directory and
  `stat`-ing the entries (`backends.list_of_moto_modules`), then matching hundreds of URL
  patterns, under one lock shared by every request. The answer depends on the host name only;
  `CachedDispatcher` remembers it per host.

Only a server this process starts uses them; LocalStack and AWS are untouched.
`tests/infra/test_moto_server.py` holds answers, framing and the cache to moto's own.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import signal
import sys
import threading
import traceback
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from infra import emulator

_REQUEST_LOG = logging.getLogger("werkzeug")
# Response headers the handler sets itself (the body is sent whole, with its length).
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})


class CachedDispatcher(DomainDispatcherApplication):
    """moto's dispatcher with the backend for each host name looked up once."""

    def __init__(self, create_app: Any) -> None:
        super().__init__(create_app)
        self._backend_for_host: dict[str, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        if host is None:
            return None
        backend = self._backend_for_host.get(host)
        if backend is None:
            backend = super().get_backend_for_host(host)
            if backend is not None:  # an unknown host keeps moto's path (and its message) every time
                self._backend_for_host[host] = backend
        return backend


class KeepAliveHandler(MotoRequestHandler):
    """Serves each request on a persistent HTTP/1.1 connection: body read whole, length sent."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm the second waited for the client's
    # delayed ACK of the first, 40 ms on every call of a kept connection.
    disable_nagle_algorithm = True

    def run_wsgi(self) -> None:
        if "Transfer-Encoding" in self.headers:  # no length to read up to: werkzeug's path, which closes
            super().run_wsgi()
            return
        # A 100-continue was answered by http.server's parse_request already.
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.environ = environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            status, headers, payload = self._call_app(environ)
        except Exception:  # noqa: BLE001 - as werkzeug does: a 500 to the client, the traceback to the log
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            self.send_error(500)  # closes the connection
            return
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)
        for name, value in headers:
            if name.lower() not in _FRAMING or (self.command == "HEAD" and name.lower() == "content-length"):
                self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _call_app(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        started: list[Any] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            started[:] = [status, headers]
            return chunks.append

        result = self.server.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return started[0], started[1], b"".join(chunks)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Werkzeug formats every request line before its logger drops it; `make run` keeps it at WARNING."""
        if _REQUEST_LOG.isEnabledFor(logging.INFO):
            super().log_request(code, size)


class EmbeddedMotoServer(ThreadedMotoServer):
    """`ThreadedMotoServer` serving through `CachedDispatcher` and `KeepAliveHandler`."""

    def __init__(self, ip_address: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)

    def wsgi_app(self) -> Any:
        """The WSGI application served (a subclass may wrap it, e.g. to count requests)."""
        return CachedDispatcher(create_backend_app)

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address, self._port, self.wsgi_app(), threaded=True, request_handler=KeepAliveHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    """Serves until SIGTERM or until the parent process is gone; writes the port to --ready-fd once serving."""
    parser = argparse.ArgumentParser(description="The local stack's AWS emulator (started by infra/local.py).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True, help="stop when this process is gone")
    args = parser.parse_args(argv)
    from chalicelib.adapters import observability

    observability.configure_logging(sys.stdout, logging.WARNING)  # the stack's LOG_FORMAT, warnings only
    stop = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C reaches us too; the stack stops us after
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    emulator.adapt_dynamodb()
    server = EmbeddedMotoServer("127.0.0.1", args.port)
    server.start()
    with os.fdopen(args.ready_fd, "w") as ready:
        ready.write(f"{server.get_host_and_port()[1]}\n")
    while not stop.wait(0.5) and os.getppid() == args.parent:
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
