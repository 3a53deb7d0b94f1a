"""What an idle fleet costs the control plane, and how fast a command reaches an agent.

Runs `make run`'s stack (its local WebSocket API included) against a moto server in this process
that counts DynamoDB requests, connects N simulated agents over the real protocol (the agent's
own WebSocket handshake with its connection token, pings with the platform's settings; asyncio,
loopback only), holds them idle, then pushes a container command to M of them through the API.

Prints, measured in the same run:
* DynamoDB requests per idle agent per minute while the fleet idles (pings and last-seen marks);
* Lambda-equivalent handler invocations per idle agent per hour (each message a client sends is
  one `$default` invocation; connects and disconnects counted too), measured at the compressed
  ping interval used here and scaled to the default one;
* command delivery latency p50/p99, from the API call to the agent receiving the push;
* the stack process's memory per open connection (its RSS growth over the fleet).

    python -m bench.bench_fleet [--agents 1000] [--pushes 100] [--idle 60] [--ping 20]

Bounded: N connections, one command per pushed agent, a fixed idle window; everything on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from websockets.asyncio.client import connect  # noqa: E402

from chalicelib.contracts import push  # noqa: E402
from infra.moto_server import EmbeddedMotoServer  # noqa: E402
from tests.fixtures.local_stack import HttpApi, free_port, running_local_stack  # noqa: E402

DEFAULT_PING, DEFAULT_SEEN_EVERY = 480, 2


class CountingMoto(EmbeddedMotoServer):
    """`make run`'s moto server, counting the DynamoDB requests it answers (by their X-Amz-Target)."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port)
        self.dynamodb = 0
        self.lock = threading.Lock()

    def wsgi_app(self) -> Any:
        app = super().wsgi_app()

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                with self.lock:
                    self.dynamodb += 1
            return app(environ, start_response)

        return counted


def nodes_with_tokens(team_id: str, count: int) -> list[tuple[str, str]]:
    """`count` registered nodes with their connection tokens, written straight into the table (the
    API would take minutes to create a thousand): the same items and tokens registration makes."""
    from chalicelib import ids
    from chalicelib.contracts.agent import AGENT_VERSION
    from chalicelib.db import keys
    from chalicelib.db.items import BaseItem, NodeItem
    from chalicelib.security.agent_tokens import issue_connection_token

    now, made = ids.utcnow(), []
    with BaseItem.batch_write() as batch:
        for i in range(count):
            node_id, token_id = str(uuid.uuid4()), str(uuid.uuid4())
            batch.save(
                NodeItem(
                    keys.team(team_id),
                    keys.node(node_id),
                    id=node_id,
                    name=f"fleet-{i}",
                    kind="docker",
                    version=AGENT_VERSION,
                    public_key="cHVibGlj",
                    token_id=token_id,
                    created_at=now,
                    created_by="bench",
                    updated_at=now,
                    updated_by="bench",
                )
            )
            made.append((node_id, issue_connection_token(team_id, node_id, token_id, now)))
    return made


class Fleet:
    """N simulated agents on one event loop: connect, ping as told, record when pushes arrive."""

    def __init__(self, url: str, ping: float, seen_every: int) -> None:
        self.url, self.ping, self.seen_every = url, ping, seen_every
        self.sent = 0
        self.open = 0
        self.received: dict[str, float] = {}  # command id -> arrival time
        self.stop = asyncio.Event()

    async def agent(self, token: str, opened: Any) -> None:
        async with connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {token}"},
            compression=None,
            ping_interval=None,
            open_timeout=120,
            max_size=2**20,
        ) as socket:
            self.open += 1
            opened()
            pings, next_ping = 0, time.monotonic() + self.ping
            while not self.stop.is_set():
                if time.monotonic() >= next_ping:  # as the agent does (agent/channel.py)
                    pings += 1
                    await socket.send(push.Ping(seen=pings % self.seen_every == 0).model_dump_json(by_alias=True))
                    self.sent += 1
                    next_ping += self.ping
                try:  # woken every second at most, so `stop` is seen
                    wait = max(0.01, min(1.0, next_ping - time.monotonic()))
                    raw = await asyncio.wait_for(socket.recv(), timeout=wait)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                if message.get("type") == "command":
                    self.received[message["command"]["id"]] = time.perf_counter()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--pushes", type=int, default=100)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds the fleet idles while counted")
    parser.add_argument("--ping", type=int, default=20, help="ping interval used here (compressed from 480 s)")
    args = parser.parse_args(argv)

    import logging

    from infra import emulator, stack

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's request lines

    emulator.adapt_dynamodb()
    moto = CountingMoto(free_port())
    moto.start()
    endpoint = f"http://127.0.0.1:{moto.get_host_and_port()[1]}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    env = {
        "WS_MAX_CONNECTIONS": str(args.agents + 100),
        "AGENT_PING_SECONDS": str(args.ping),
        "AGENT_SEEN_EVERY_PINGS": str(DEFAULT_SEEN_EVERY),
        "LOCAL_SCHEDULE_SECONDS": "",
        "NODE_TIMEOUT_SECONDS": "",
        "DEPLOYMENT_TIMEOUT_SECONDS": "900",
        "WS_IDLE_SECONDS": "600",
    }
    with running_local_stack(endpoint=endpoint, env=env) as running:
        stack.export_outputs(stack.create_stack())  # the stack made them; this process reads their names
        from chalicelib.db import table

        table.configure()
        api = HttpApi(running.url)
        api.sign_in(f"fleet-{uuid.uuid4().hex[:8]}@example.com")
        slug = f"f{uuid.uuid4().hex[:10]}"
        team = api.call("POST", "/api/teams", {"name": f"Fleet {slug}", "slug": slug}, expect=201).json()
        nodes = nodes_with_tokens(team["id"], args.agents)
        socket_url = api.call("GET", "/api/socket", expect=200).json()["url"]
        report = measure(args, running, moto, api, slug, nodes, socket_url)
    moto.stop()
    print(report)
    return 0


def measure(
    args: argparse.Namespace,
    running: Any,
    moto: CountingMoto,
    api: HttpApi,
    slug: str,
    nodes: list[tuple[str, str]],
    socket_url: str,
) -> str:
    fleet = Fleet(socket_url, args.ping, DEFAULT_SEEN_EVERY)
    connected, done = threading.Event(), threading.Event()
    rss_before = rss_kib(running.process.pid)
    started = time.perf_counter()
    loop_thread = threading.Thread(
        target=lambda: asyncio.run(hold(fleet, [t for _, t in nodes], connected, done)), daemon=True
    )
    loop_thread.start()
    connected.wait(600)
    connect_seconds = time.perf_counter() - started
    while api.call("GET", f"/api/{slug}/nodes/{nodes[-1][0]}").json()["status"] != "connected":
        time.sleep(0.5)
    time.sleep(2)  # let the last handshakes' writes land before counting
    rss_after = rss_kib(running.process.pid)
    calls_before, sent_before, idle_start = moto.dynamodb, fleet.sent, time.perf_counter()
    time.sleep(args.idle)
    idle_minutes = (time.perf_counter() - idle_start) / 60
    idle_calls, idle_messages = moto.dynamodb - calls_before, fleet.sent - sent_before
    latencies = push_commands(api, slug, nodes[: args.pushes], fleet)
    done.set()
    loop_thread.join(60)
    per_agent_minute = idle_calls / len(nodes) / idle_minutes
    invocations_hour = idle_messages / len(nodes) / idle_minutes * 60
    scaled_calls = per_agent_minute * args.ping / DEFAULT_PING
    scaled_invocations = invocations_hour * args.ping / DEFAULT_PING + 1 / 1.83  # + a reconnect every ~110 min
    return "\n".join(
        [
            f"python {sys.version.split()[0]}, nproc {os.cpu_count()}; {len(nodes)} agents, ping every {args.ping} s "
            f"(default {DEFAULT_PING} s), a last-seen mark every {DEFAULT_SEEN_EVERY} pings, idle window "
            f"{idle_minutes:.1f} min",
            f"connect {len(nodes)} agents:                 {connect_seconds:8.1f} s",
            f"DynamoDB requests / idle agent / minute: {per_agent_minute:8.3f}   (at the default ping: "
            f"{scaled_calls:.4f})",
            f"handler invocations / idle agent / hour: {invocations_hour:8.2f}   (at the default ping, reconnects "
            f"included: {scaled_invocations:.2f})",
            f"command delivery latency ({len(latencies)} pushes): p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms",
            f"stack memory per connection:            {(rss_after - rss_before) / len(nodes):8.1f} KiB "
            f"(RSS {rss_before / 1024:.0f} -> {rss_after / 1024:.0f} MiB)",
            "Lambda concurrency held by idle agents:  0 (no handler waits; each ping is one short invocation)",
        ]
    )


async def hold(fleet: Fleet, tokens: list[str], connected: threading.Event, done: threading.Event) -> None:
    """Connects every agent (at most 50 handshakes at once), then holds them until `done`."""
    gate = asyncio.Semaphore(50)  # API Gateway admits 500 new connections per second; we stay well under

    async def one(token: str) -> None:
        await gate.acquire()
        await fleet.agent(token, gate.release)

    tasks = [asyncio.create_task(one(t)) for t in tokens]
    while fleet.open < len(tokens) and not all(t.done() for t in tasks):
        await asyncio.sleep(0.1)
    connected.set()
    while not done.is_set():
        await asyncio.sleep(0.2)
    fleet.stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)


def push_commands(api: HttpApi, slug: str, nodes: list[tuple[str, str]], fleet: Fleet) -> list[float]:
    """Asks each node to start a container (the API stores and pushes the command); the time until
    its agent has it."""
    latencies = []
    for node_id, _ in nodes:
        before = set(fleet.received)
        sent = time.perf_counter()
        api.call("POST", f"/api/{slug}/nodes/{node_id}/containers/bench/start", expect=204)
        deadline = sent + 30
        while time.perf_counter() < deadline:
            new = set(fleet.received) - before
            if new:
                latencies.append(fleet.received[new.pop()] - sent)
                break
            time.sleep(0.001)
    return latencies


if __name__ == "__main__":
    sys.exit(main())
