"""Throughput and tail latency of a running local stack (`make run`) under concurrent UI traffic.

Why: the local stack is where people try the platform, and under a handful of parallel users it
answered 5.8 requests/s with a p99 of 11.8 s (issue 16). This drives a running stack with C
concurrent clients, each sending R requests of a fixed mix, and prints requests/s and p50/p99 per
kind and overall, every 5xx, and any lost write: each project that was answered 201 must be listed
afterwards, and each team's project count must match what was created.

Set-up (not timed): C users sign up and log in; T teams are created by the first T users, and the
others are invited to team `i % T` and accept, so clients share teams and their writes meet; each
team starts with S projects. The mix per client (R = 50: exact counts, shuffled per client with
a fixed seed, so every run sends the same requests in the same order):

    list projects 30 %, dashboard 20 %, list teams 20 %, audit-log page (take 20) 15 %, create project 15 %

reads as a team's UI traffic: lists and the dashboard dominate, one request in seven is a write.

Baselines from the same run, against the same stack: `GET /api/health` (one DynamoDB read
behind it) from the same C clients, C x R requests, and the same mix from one client alone. The
ratios say how much each mixed request costs against a trivial one under the same concurrency,
and how much concurrency buys over one client. Nothing is asserted; the exit code is 1 only when
a request got a 5xx or a write was lost.

Bounded: C x R requests per phase, each with a timeout; loopback URLs only (refused otherwise).
Sign-up needs a verified address: run the stack with `EMAIL_VERIFICATION=off make run`, or pass
`--stack-log` with the file `make run`'s output goes to (the verification links are logged there).

    python -m bench.bench_load [--url http://127.0.0.1:8000] [--clients 20] [--requests 50]
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import platform
import random
import re
import socket
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

PASSWORD = "correct horse battery staple"
# Weights of the mix (percent); `mix_counts` turns them into exact counts per client.
MIX = {"list projects": 30, "dashboard": 20, "list teams": 20, "audit-log page": 15, "create project": 15}
TARGET_RPS, TARGET_P99 = 30.0, 2.0  # issue 16, on the 2-core machine


@dataclass
class Sample:
    kind: str
    status: int  # 0: no answer (timeout, connection error)
    seconds: float


@dataclass
class Client:
    """One simulated user: its own session (keep-alive, as a browser) and team."""

    base: str
    timeout: float
    email: str
    session: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    slug: str = ""
    team_id: str = ""
    created: int = 0  # projects this client asked for: each gets a new name

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.session.request(method, self.base + path, json=body, headers=headers, timeout=self.timeout)

    def expect(self, status: int, method: str, path: str, body: Any = None) -> Any:
        reply = self.call(method, path, body)
        if reply.status_code != status:
            raise SystemExit(f"set-up: {method} {path} answered {reply.status_code}: {reply.text[:300]}")
        return reply.json() if reply.content else None


def loopback_only(url: str) -> str:
    """The URL without a trailing slash, or SystemExit unless every address it names is loopback."""
    host = urlsplit(url).hostname
    if not host:
        raise SystemExit(f"not a URL: {url}")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError as error:
        raise SystemExit(f"cannot resolve {host}: {error}") from error
    if not all(ipaddress.ip_address(address.split("%")[0]).is_loopback for address in addresses):
        raise SystemExit(f"refusing {url}: this benchmark only drives a stack on this machine (loopback)")
    return url.rstrip("/")


def mix_counts(requests_per_client: int) -> dict[str, int]:
    """The mix's weights as exact counts summing to R (largest remainder)."""
    total = sum(MIX.values())
    exact = {kind: requests_per_client * weight / total for kind, weight in MIX.items()}
    counts = {kind: int(value) for kind, value in exact.items()}
    by_remainder = sorted(MIX, key=lambda kind: exact[kind] - counts[kind], reverse=True)
    for kind in by_remainder[: requests_per_client - sum(counts.values())]:
        counts[kind] += 1
    return counts


def schedule(requests_per_client: int, seed: int) -> list[str]:
    kinds = [kind for kind, count in mix_counts(requests_per_client).items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    return kinds


class Verifier:
    """Finds an address's verification link in the stack's log (for a stack with verification on)."""

    def __init__(self, log_path: Path | None) -> None:
        self.log_path = log_path

    def verify(self, client: Client) -> None:
        if self.log_path is None:
            raise SystemExit(
                "login refused (address not verified): start the stack with EMAIL_VERIFICATION=off, "
                "or pass --stack-log with the file its output goes to"
            )
        pattern = re.compile(rf"mail to {re.escape(client.email)}: .*?(https?://\S+/api/auth/verify\?token=\S+)")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = pattern.findall(self.log_path.read_text(errors="replace"))
            if found:  # the link answers in plain text
                link = urlsplit(found[-1])._replace(scheme="", netloc="").geturl()
                if client.call("GET", link).status_code != 200:
                    raise SystemExit(f"set-up: the verification link for {client.email} was refused")
                return
            time.sleep(0.2)
        raise SystemExit(f"no verification link for {client.email} in {self.log_path}")


def set_up(args: argparse.Namespace, base: str, run: str) -> tuple[list[Client], dict[str, list[str]]]:
    """C signed-in users over T shared teams of S projects each; returns the clients and the
    projects each team holds (by slug)."""
    verifier = Verifier(args.stack_log)
    clients = [Client(base, args.timeout, f"load-{run}-{i}@example.com") for i in range(args.clients)]
    for client in clients:
        signup = {"email": client.email, "password": PASSWORD, "firstName": "Load"}
        client.expect(201, "POST", "/api/auth/signup", signup)
        login = client.call("POST", "/api/auth/login", {"email": client.email, "password": PASSWORD})
        if login.status_code == 403:
            verifier.verify(client)
            login = client.call("POST", "/api/auth/login", {"email": client.email, "password": PASSWORD})
        if login.status_code != 200:
            raise SystemExit(f"set-up: login answered {login.status_code}: {login.text[:300]}")
        client.token = login.json()["token"]
    owners = clients[: args.teams]
    projects: dict[str, list[str]] = {}
    for index, owner in enumerate(owners):
        owner.slug = f"l{run}{index}"
        team = {"name": f"Load {owner.slug}", "slug": owner.slug}
        owner.team_id = owner.expect(201, "POST", "/api/teams", team)["id"]
        projects[owner.slug] = [
            owner.expect(201, "POST", f"/api/{owner.slug}/projects", {"type": "versioned", "name": f"seed {n}"})["id"]
            for n in range(args.seed_projects)
        ]
    for index, client in enumerate(clients[args.teams :], start=args.teams):
        owner = owners[index % args.teams]
        owner.expect(201, "POST", f"/api/teams/{owner.team_id}/users", {"email": client.email, "firstName": "Load"})
        client.expect(204, "POST", f"/api/users/me/invitations/{owner.team_id}")
        client.slug, client.team_id = owner.slug, owner.team_id
    return clients, projects


def request_for(client: Client, kind: str, name: str) -> tuple[str, str, Any]:
    slug = client.slug
    return {
        "list projects": ("GET", f"/api/{slug}/projects", None),
        "dashboard": ("GET", f"/api/{slug}/dashboard", None),
        "list teams": ("GET", "/api/teams", None),
        "audit-log page": ("GET", f"/api/{slug}/audit-log?skip=0&take=20", None),
        "create project": ("POST", f"/api/{slug}/projects", {"type": "versioned", "name": name}),
        "health": ("GET", "/api/health", None),
    }[kind]


def run_phase(
    clients: list[Client], plan: Callable[[int], list[str]], created: dict[str, list[str]]
) -> tuple[list[Sample], float]:
    """Every client sends its planned requests back to back, all starting together; returns the
    samples and the wall time. Each 201'd create is added to `created[slug]`."""
    samples: list[Sample] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def work(index: int, client: Client) -> None:
        mine: list[Sample] = []
        start.wait()
        for kind in plan(index):
            client.created += kind == "create project"
            method, path, body = request_for(client, kind, f"{client.email} {client.created}")
            began = time.perf_counter()
            try:
                reply = client.call(method, path, body)
                status = reply.status_code
            except requests.RequestException:
                status = 0
            mine.append(Sample(kind, status, time.perf_counter() - began))
            if kind == "create project" and status == 201:
                with lock:
                    created.setdefault(client.slug, []).append(reply.json()["id"])
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=work, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


@dataclass
class Summary:
    n: int
    rps: float
    p50: float
    p99: float
    worst: float
    server_errors: int
    other_errors: int


def summarize(samples: list[Sample], wall: float) -> Summary:
    seconds = [s.seconds for s in samples]
    return Summary(
        n=len(samples),
        rps=len(samples) / wall if wall else 0.0,
        p50=statistics.median(seconds),
        p99=percentile(seconds, 0.99),
        worst=max(seconds),
        server_errors=sum(1 for s in samples if s.status >= 500),
        other_errors=sum(1 for s in samples if s.status == 0 or 400 <= s.status < 500),
    )


def row(name: str, summary: Summary, rps: bool = True) -> str:
    rate = f"{summary.rps:8.1f}" if rps else f"{'':8}"
    return (
        f"  {name:<24}{summary.n:6d}{rate}{summary.p50 * 1000:9.0f}{summary.p99 * 1000:9.0f}"
        f"{summary.worst * 1000:9.0f}{summary.server_errors:6d}{summary.other_errors:7d}"
    )


def check_writes(clients: list[Client], expected: dict[str, list[str]]) -> list[str]:
    """Each team's project list and dashboard count against the projects answered 201; the problems."""
    owners = {client.slug: client for client in reversed(clients)}
    problems = []
    for slug, ids in expected.items():
        listed = {project["id"] for project in owners[slug].expect(200, "GET", f"/api/{slug}/projects")}
        missing = set(ids) - listed
        if missing:
            problems.append(f"{slug}: {len(missing)} of {len(ids)} projects answered 201 are not listed")
        if len(listed) != len(ids):
            problems.append(f"{slug}: {len(listed)} projects listed, {len(ids)} created")
        counted = owners[slug].expect(200, "GET", f"/api/{slug}/dashboard")["projects"]
        if counted != len(ids):
            problems.append(f"{slug}: the dashboard counts {counted} projects, {len(ids)} created")
    return problems


def report(args: argparse.Namespace, base: str, phases: dict[str, tuple[list[Sample], float]]) -> list[str]:
    health, solo, mixed = (summarize(*phases[name]) for name in ("health", "solo", "mixed"))
    header = f"  {'':<24}{'n':>6}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'5xx':>6}{'other':>7}"
    lines = [
        f"python {platform.python_version()} on {platform.machine()}, nproc {os.cpu_count()}, "
        f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; stack {base}",
        f"{args.clients} clients x {args.requests} requests, {args.teams} teams "
        f"({args.clients // args.teams}+ members each), {args.seed_projects} projects seeded per team",
        "mix per client: " + ", ".join(f"{kind} {count}" for kind, count in mix_counts(args.requests).items()),
        "",
        header,
        row(f"GET /api/health x{args.clients}", health),
        row("mix, 1 client", solo),
        row(f"mix, {args.clients} clients", mixed),
    ]
    lines += [row(f"  {kind}", summarize(of_kind, 1.0), rps=False) for kind, of_kind in by_kind(phases["mixed"][0])]
    lines += [
        "  (times in ms; other = 4xx or no answer)",
        "answers other than 2xx: " + unexpected_answers(phases),
        "",
        f"mix / health, {args.clients} clients: {mixed.rps / health.rps:.2f}x the requests/s, "
        f"{mixed.p50 / health.p50:.1f}x the p50",
        f"{args.clients} clients / 1 client, mix: {mixed.rps / solo.rps:.2f}x the requests/s, "
        f"{mixed.p50 / solo.p50:.1f}x the p50",
    ]
    return lines


def by_kind(samples: list[Sample]) -> list[tuple[str, list[Sample]]]:
    """The samples of each kind of the mix that was sent (a short run may leave one out)."""
    kinds = [(kind, [s for s in samples if s.kind == kind]) for kind in MIX]
    return [(kind, of_kind) for kind, of_kind in kinds if of_kind]


def unexpected_answers(phases: dict[str, tuple[list[Sample], float]]) -> str:
    """Every answer that is not a 2xx, by request kind and status ("no answer": timeout, reset)."""
    samples = [s for samples, _ in phases.values() for s in samples]
    counted = Counter(f"{s.kind} {s.status or 'no answer'}" for s in samples if not 200 <= s.status < 300)
    return ", ".join(f"{key} x{n}" for key, n in sorted(counted.items())) or "none"


@dataclass
class Stack:
    """One stack under test: its clients, the projects its teams must hold, its timed phases."""

    url: str
    clients: list[Client] = field(default_factory=list)
    expected: dict[str, list[str]] = field(default_factory=dict)
    phases: dict[str, tuple[list[Sample], float]] = field(default_factory=dict)

    def run(self, phase: str, clients: list[Client], plan: Callable[[int], list[str]]) -> None:
        """Runs a phase (or one more round of it) and adds its samples and wall time to the phase's."""
        samples, wall = run_phase(clients, plan, {} if phase == "health" else self.expected)
        before, before_wall = self.phases.get(phase, ([], 0.0))
        self.phases[phase] = (before + samples, before_wall + wall)


def measure(args: argparse.Namespace, stacks: list[Stack]) -> None:
    """The three phases on every stack; with two stacks, alternating (ABBA...) phase by phase and
    the mixed phase in rounds, so a change in the machine's load hits both alike."""

    def order(turn: int) -> list[Stack]:
        return stacks if turn % 2 == 0 else stacks[::-1]

    def mixed_round(index: int, number: int) -> list[str]:
        plan, size = schedule(args.requests, seed=index), -(-args.requests // args.rounds)
        return plan[number * size : (number + 1) * size]

    for stack in order(0):
        stack.run("health", stack.clients, lambda _: ["health"] * args.requests)
    solo_plan = schedule(args.requests, seed=-1)
    for stack in order(1):
        stack.run("solo", stack.clients[:1], lambda _: solo_plan)
    for number in range(args.rounds):
        for stack in order(number):
            stack.run("mixed", stack.clients, lambda index, n=number: mixed_round(index, n))


def meets_target(mixed: Summary, problems: list[str]) -> bool:
    return mixed.rps >= TARGET_RPS and mixed.p99 <= TARGET_P99 and not (mixed.server_errors or problems)


def verdict(args: argparse.Namespace, stack: Stack) -> tuple[list[str], bool]:
    """The report's last lines (lost writes, the target) and whether anything failed."""
    problems = check_writes(stack.clients, stack.expected)
    created = sum(len(ids) for ids in stack.expected.values()) - args.teams * args.seed_projects
    met = meets_target(summarize(*stack.phases["mixed"]), problems)
    lines = [
        f"lost writes: {len(problems)} problems over {created} projects answered 201 and "
        f"{args.teams * args.seed_projects} seeded" + "".join(f"\n  {p}" for p in problems),
        f"target for 20 clients x 50 (>= {TARGET_RPS:.0f} req/s, p99 <= {TARGET_P99:.0f} s, no 5xx, nothing lost): "
        + ("met" if met else "NOT met")
        + ("" if (args.clients, args.requests) == (20, 50) else " (this run is not that size)"),
    ]
    failed = bool(problems) or any(summarize(*phase).server_errors for phase in stack.phases.values())
    return lines, failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running stack (loopback only)")
    parser.add_argument("--baseline-url", help="a second running stack to compare with, e.g. the tree before a change")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="requests per client and phase")
    parser.add_argument("--rounds", type=int, help="the mixed phase in this many rounds (1; 5 with --baseline-url)")
    parser.add_argument("--teams", type=int, default=5)
    parser.add_argument("--seed-projects", type=int, default=5, help="projects each team holds before the run")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--stack-log", type=Path, help="the stack's output, for verification links")
    args = parser.parse_args(argv)
    if not 1 <= args.teams <= args.clients:
        parser.error("--teams must be between 1 and --clients")
    args.rounds = max(1, min(args.requests, args.rounds or (5 if args.baseline_url else 1)))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    stacks = [Stack(loopback_only(url)) for url in (args.url, args.baseline_url) if url]
    for stack in stacks:
        try:
            stack.clients, stack.expected = set_up(args, stack.url, uuid.uuid4().hex[:8])
        except requests.ConnectionError as error:
            raise SystemExit(f"no stack answers at {stack.url} (start one: EMAIL_VERIFICATION=off make run)") from error
    measure(args, stacks)
    failed = False
    for stack in stacks:
        lines, stack_failed = verdict(args, stack)
        print("\n".join(report(args, stack.url, stack.phases) + lines) + "\n")
        failed |= stack_failed
    if len(stacks) == 2:
        print(compare(*(summarize(*stack.phases["mixed"]) for stack in stacks), args.rounds))
    return 1 if failed else 0


def compare(this: Summary, baseline: Summary, rounds: int) -> str:
    return (
        f"this stack / baseline stack, mix in {rounds} alternating rounds: "
        f"{this.rps / baseline.rps:.2f}x the requests/s, {this.p50 / baseline.p50:.2f}x the p50, "
        f"{this.p99 / baseline.p99:.2f}x the p99"
    )


if __name__ == "__main__":
    sys.exit(main())
