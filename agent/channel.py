"""The agent's one outbound WebSocket to the platform: commands arrive here the moment they exist.

Nothing waits in a Lambda for an idle agent: the connection is held by API Gateway, and the
agent speaks only to keep it open (a ping inside the 10-minute idle timeout, a last-seen mark
every few pings). A connection is replaced before API Gateway's 2-hour limit by opening the new
one first; after a failure the agent reconnects with jittered exponential back-off. After every
(re)connect `on_connected` runs, so the agent fetches what was pushed while it was away: a
command pushed to a dying connection is still pending on the platform and arrives again then.
Commands may so arrive twice; the agent drops repeats by id.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection, connect

from chalicelib.contracts import push

log = logging.getLogger("agent.channel")


class Refused(Exception):
    """The platform refused the connection's token (revoked, node deleted)."""


class PushChannel:
    def __init__(
        self,
        url: str,
        token: Callable[[], str],
        on_push: Callable[[Any], None],
        on_connected: Callable[[], None],
        *,
        stopped: threading.Event,
        ping_seconds: float = 480,
        seen_every: int = 2,
        max_age_seconds: float = push.MAX_CONNECTION_SECONDS - 600,
        max_backoff: float = 60.0,
    ) -> None:
        self.url = url
        self.token = token
        self.on_push = on_push
        self.on_connected = on_connected
        self.stopped = stopped
        self.ping_seconds = ping_seconds
        self.seen_every = max(seen_every, 1)
        self.max_age_seconds = max_age_seconds
        self.max_backoff = max_backoff
        self.connections = 0  # how many connections were opened (replacements included)

    def run(self) -> None:
        """Holds a connection until `stopped`; raises Refused when the token is refused."""
        backoff = 1.0
        connection: ClientConnection | None = None
        while not self.stopped.is_set():
            try:
                connection = self._open()
                backoff = 1.0
                while connection is not None and not self.stopped.is_set():
                    connection = self._serve(connection)
            except Refused:
                raise
            except (OSError, WebSocketException, TimeoutError) as error:
                delay = random.uniform(0, backoff)  # full jitter: a fleet does not reconnect in step
                log.warning("push channel lost (%s); reconnecting in %.1f s", type(error).__name__, delay)
                self.stopped.wait(delay)
                backoff = min(backoff * 2, self.max_backoff)
            finally:
                if connection is not None:
                    connection.close()
                    connection = None

    def _open(self) -> ClientConnection:
        try:
            connection = connect(
                self.url,
                additional_headers={"Authorization": f"Bearer {self.token()}"},
                compression=None,
                ping_interval=None,
                open_timeout=10,
                close_timeout=2,
                legacy=True,
                max_size=push.MAX_MESSAGE_BYTES * 2,
            )
        except InvalidStatus as refused:
            if refused.response.status_code in (401, 403):
                raise Refused(f"connection refused ({refused.response.status_code})") from None
            raise
        self.connections += 1
        self.on_connected()
        return connection

    def _serve(self, connection: ClientConnection) -> ClientConnection | None:
        """Reads pushes and keeps the connection alive until it ages out; returns its replacement."""
        opened, pings = time.monotonic(), 0
        next_ping = opened + self.ping_seconds
        while not self.stopped.is_set():
            now = time.monotonic()
            if now - opened >= self.max_age_seconds:
                replacement = self._open()  # the new connection first: the node is never without one
                connection.close()
                log.info("push channel replaced before its maximum age")
                return replacement
            if now >= next_ping:
                pings += 1
                connection.send(push.Ping(seen=pings % self.seen_every == 0).model_dump_json(by_alias=True))
                next_ping = now + self.ping_seconds
            timeout = max(0.0, min(next_ping, opened + self.max_age_seconds) - now)
            try:
                raw = connection.recv(timeout=min(timeout, 1.0))
            except TimeoutError:
                continue
            except ConnectionClosed:
                raise
            self._deliver(raw)
        return None

    def _deliver(self, raw: str | bytes) -> None:
        try:
            message = push.SERVER_MESSAGE.validate_json(raw)
        except ValueError:
            log.warning("ignored a message the agent does not understand (%d bytes)", len(raw))
            return
        self.on_push(message)
