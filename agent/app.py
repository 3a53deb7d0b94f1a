"""The agent's life: register once, report in, then execute the commands pushed to it until told to stop.

Commands arrive on one outbound WebSocket (`agent/channel.py`); after each (re)connect the agent
fetches the commands still pending, so one pushed while it was away is not lost. Each command is
acknowledged before it runs and its result reported after; a command may arrive twice (pushed
and fetched), so repeats are dropped by id, and every runtime operation is idempotent. The
command being executed is kept in the data directory until its result is reported, so a
restarted agent (killed, rebooted, OOM) runs it again first instead of leaving its deployment
to time out. Network trouble is retried with backoff (1 s doubling to 60 s); a command's
outcome is reported, not re-run, once the platform answers again. A refused token (revoked,
node deleted) stops the agent at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import sys
import threading
import zipfile
from collections import deque
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import TypeVar

import requests

from agent.channel import PushChannel, Refused
from agent.client import PlatformClient, Revoked
from agent.runtime.base import ContainerNotFound, Runtime
from agent.state import AgentState
from chalicelib.contracts import agent as contract
from chalicelib.contracts import push

log = logging.getLogger("agent")
MAX_BACKOFF = 60.0
T = TypeVar("T")
Send = Callable[[list[contract.DeploymentEvent], int], None]  # (events, position of the first in the try)
# Runs a call to the platform until it goes through (the agent's `_retrying`).
Deliver = Callable[[Callable[[], None]], None]


class BufferedReport:
    """Deployment events sent in batches (every `interval` s and at the end), so reporting
    never holds up the containers being deployed; order is kept. A batch the platform did not
    take (an outage) is kept and sent with the next one; `close` keeps trying through `deliver`
    until everything is sent, so a deployment's final status survives an outage of the platform. Each
    batch names its first event's position in the try, so a batch the platform stored but could not
    confirm (a reply lost in an outage) is not stored again when it is resent."""

    def __init__(self, send: Send, interval: float = 0.5, deliver: Deliver | None = None) -> None:
        self.send = send
        self.interval = interval
        self.deliver: Deliver = deliver or (lambda call: call())
        self.pending: list[contract.DeploymentEvent] = []
        self.sent = 0  # events the platform confirmed
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="deployment-report", daemon=True)
        self.thread.start()

    def __call__(self, events: list[contract.DeploymentEvent]) -> None:
        with self.lock:
            self.pending.extend(events)

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.deliver(self._flush)

    def _run(self) -> None:
        while not self.done.wait(self.interval):
            with contextlib.suppress(requests.RequestException):  # kept for the next batch; `close` insists
                self._flush()

    def _flush(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
            if batch:  # sent under the lock so batches never overtake each other
                try:
                    self.send(batch, self.sent)
                except Exception:
                    self.pending = batch  # nothing was appended meanwhile: we hold the lock
                    raise
                self.sent += len(batch)


class Agent:
    def __init__(
        self, client: PlatformClient, state: AgentState, runtime: Runtime, node_type: str, program: Path | None = None
    ) -> None:
        self.client = client
        self.state = state
        self.runtime = runtime
        self.node_type = node_type
        self.program = program  # the zipapp we run from, replaced on update
        self.stopped = threading.Event()
        self.exit_code = 0
        self.restart_after_update = False
        # Commands to run, in arrival order; bounded: the platform keeps what we have not acknowledged.
        self.inbox: queue.Queue[contract.Command] = queue.Queue(maxsize=1000)
        self.seen: deque[str] = deque(maxlen=1000)  # ids already run: a command may arrive twice

    def run(self) -> int:
        try:
            settings = self._connect()
        except Revoked as refused:
            log.error("registration refused: %s", refused)
            return 3
        for command in self._interrupted():  # first: it was acknowledged, nothing will bring it again
            self.inbox.put(command)
        channel = PushChannel(
            settings.socket_url,
            lambda: self.client.token or "",
            self._pushed,
            self._fetch_pending,
            stopped=self.stopped,
            ping_seconds=settings.ping_seconds,
            seen_every=settings.seen_every_pings,
            max_age_seconds=settings.reconnect_seconds,
        )
        threading.Thread(target=self._hold, args=(channel,), name="push-channel", daemon=True).start()
        while not self.stopped.is_set():
            try:
                command = self.inbox.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                if command.id not in self.seen:
                    self.seen.append(command.id)
                    self._execute(command)
            except Revoked as refused:
                self._revoked(refused)
        return self.exit_code

    def _connect(self) -> contract.AgentSettings:
        """Registers on the first start, reports in on every later one; returns where to connect."""
        token = self.state.connection_token()
        if token:
            self.client.token = token
            return self._retrying(self._beat)
        install = self.state.install_token()
        if not install:
            raise Revoked("no token in the data directory; run the install script again")
        reply = self._retrying(
            lambda: self.client.register(
                install,
                contract.RegisterRequest(
                    version=contract.AGENT_VERSION,
                    type=self.node_type,
                    hostname=socket.gethostname(),
                    public_key=self.state.public_key,
                ),
            )
        )
        self.state.save_connection_token(reply.token)
        self.client.token = reply.token
        log.info("registered as node %s", reply.node_id)
        return reply

    def _hold(self, channel: PushChannel) -> None:
        try:
            channel.run()
        except (Refused, Revoked) as refused:
            if not self.stopped.is_set():
                self._revoked(Revoked(str(refused)))

    def _pushed(self, message: object) -> None:
        if isinstance(message, push.CommandPush):
            (command,) = contract.read_commands([message.command])
            self.inbox.put(command)
        elif isinstance(message, push.CommandRef):
            fetched = self._retrying(lambda: self.client.command(message.id))
            if fetched is not None:
                self.inbox.put(fetched)

    def _fetch_pending(self) -> None:
        """After each (re)connect: what was pushed while no connection was there to take it."""
        for command in self._retrying(self.client.pending):
            self.inbox.put(command)

    def _retrying(self, call: Callable[[], T]) -> T:
        backoff = 1.0
        while True:
            try:
                return call()
            except requests.RequestException as error:
                log.warning("platform unreachable (%s); retrying in %.0f s", type(error).__name__, backoff)
                if self.stopped.wait(backoff):
                    raise Revoked("stopped") from None
                backoff = min(backoff * 2, MAX_BACKOFF)

    def _beat(self) -> contract.AgentSettings:
        return self.client.heartbeat(
            contract.Heartbeat(version=contract.AGENT_VERSION, public_key=self.state.public_key)
        )

    def _revoked(self, refused: Revoked) -> None:
        log.error("the platform refused our token (%s); stopping", refused)
        self.state.forget_connection_token()
        self.exit_code = 2
        self.stopped.set()

    def _interrupted(self) -> list[contract.Command]:
        """The command a previous run acknowledged but did not finish, if any (run again first)."""
        saved = self.state.in_flight()
        if saved is None:
            return []
        try:
            (command,) = contract.read_commands([saved])
        except ValueError:  # written by an agent version that no longer understands it
            self.state.clear_in_flight()
            return []
        log.info("resuming command %s (%s), left unfinished", command.id, command.kind)
        return [command]

    def _execute(self, command: contract.Command) -> None:
        log.info("running command %s (%s)", command.id, command.kind)
        self.state.save_in_flight(command.dump())
        if not self.client.acknowledge(command.id):  # a resumed command that expired meanwhile: drop it
            log.warning("command %s (%s) is no longer known to the platform; skipped", command.id, command.kind)
            self.state.clear_in_flight()
            return
        try:
            result = self._dispatch(command)
        except ContainerNotFound as missing:
            result = contract.CommandResult(ok=False, error=str(missing), not_found=True)
        except Exception as error:  # noqa: BLE001 - any failure is reported to the platform, not fatal here
            log.exception("command %s (%s) failed", command.id, command.kind)
            result = contract.CommandResult(ok=False, error=f"{type(error).__name__}: {error}")
        try:
            # Retried, not re-run: the command is done, only the platform has to hear it.
            self._retrying(lambda: self.client.report(command.id, result))
        except Revoked:
            if self.stopped.is_set():
                return  # stopping meanwhile: still in flight, the next run finishes it
            raise
        self.state.clear_in_flight()
        if self.restart_after_update:
            self._restart()

    def _dispatch(self, command: contract.Command) -> contract.CommandResult:
        if isinstance(command, contract.ListContainers):
            return contract.CommandResult(ok=True, containers=self.runtime.list_containers(command.prefix))
        if isinstance(command, contract.ContainerCommand):
            self.runtime.container_command(command.prefix, command.name, command.operation)
        elif isinstance(command, contract.DeleteContainer):
            self.runtime.delete_container(command.prefix, command.name)
        elif isinstance(command, contract.DeletePrefix):
            self.runtime.delete_prefix(command.prefix)
        elif isinstance(command, (contract.ReadContainerLog, contract.InspectContainer)):
            return self._read_container(command)
        elif isinstance(command, contract.UpdateAgent):
            self._replace_program(command.url)
        elif isinstance(command, contract.Deploy):
            return self._deploy(command)
        elif isinstance(command, contract.Shutdown):
            log.info("shutdown requested: %s", command.reason)
            self.stopped.set()
        return contract.CommandResult(ok=True)

    def _read_container(self, command: contract.ReadContainerLog | contract.InspectContainer) -> contract.CommandResult:
        """A container's log or inspection: bounded, secret values masked by the runtime."""
        if isinstance(command, contract.ReadContainerLog):
            tail = min(max(command.tail, 1), contract.LOG_TAIL_MAX)  # whatever a platform asked, still bounded
            since = command.since
            if since is not None and since.tzinfo is None:
                since = since.replace(tzinfo=UTC)  # a bare time is UTC
            log_ = self.runtime.container_log(command.prefix, command.name, tail, since)
            return contract.CommandResult(ok=True, log=log_)
        return contract.CommandResult(ok=True, inspection=self.runtime.inspect_container(command.prefix, command.name))

    def _deploy(self, command: contract.Deploy) -> contract.CommandResult:
        report = BufferedReport(
            lambda events, seq: self.client.report_deployment(
                command.deployment_id, contract.DeploymentReport(attempt=command.attempt, seq=seq, events=events)
            ),
            deliver=self._retrying,
        )
        try:
            ok = self.runtime.deploy(command, report, self.state.decrypt)
        except Exception as error:  # noqa: BLE001 - whatever broke, the deployment must end as failed
            log.exception("deployment %s failed", command.deployment_id)
            report(
                [
                    contract.DeploymentEvent(
                        type="log", log=[f"The agent failed: {type(error).__name__}: {error}"], level="error"
                    )
                ]
            )
            ok = False
        report([contract.DeploymentEvent(type="deployment-status", status="successful" if ok else "failed")])
        report.close()
        return contract.CommandResult(ok=ok)

    def _replace_program(self, url: str) -> None:
        if self.program is None:
            raise RuntimeError("this agent was not started from an agent package, so it cannot replace itself")
        download = self.program.with_suffix(".pyz.new")
        with requests.get(url, timeout=60, stream=True) as reply:
            reply.raise_for_status()
            with open(download, "wb") as out:
                for chunk in reply.iter_content(65536):
                    out.write(chunk)
        if not zipfile.is_zipfile(download):
            download.unlink(missing_ok=True)
            raise RuntimeError("the downloaded agent is not a valid package")
        os.replace(download, self.program)
        self.restart_after_update = True

    def _restart(self) -> None:
        log.info("restarting with the updated agent")
        os.execv(sys.executable, [sys.executable, str(self.program), *sys.argv[1:]])
