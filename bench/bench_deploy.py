"""Deploy latency: platform `start` → `successful` (pushed to a follower, as `cli deploy --wait` sees it)
against the bare Docker SDK, N = 1, 5, 10.

Runs `make run`'s stack (embedded moto, event pump), installs a real agent with the install
command, and deploys versions of N busybox containers from a local image (no pulls, so both
sides do the same engine work). The baseline creates and starts the same containers with the
docker SDK alone. Prints medians and the ratio platform / bare engine.

    .venv/bin/python -m bench.bench_deploy [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import docker

from cli.follow import Follower
from tests.fixtures.docker_engine import build_busybox
from tests.fixtures.local_stack import HttpApi, install_agent, running_local_stack

SIZES = (1, 5, 10)
# `make run`'s own health windows, not the integration tests' short ones (a sweep every 2 s).
RUN_DEFAULTS = {
    "LOCAL_SCHEDULE_SECONDS": "",
    "AGENT_PING_SECONDS": "",
    "AGENT_SEEN_EVERY_PINGS": "",
    "NODE_TIMEOUT_SECONDS": "",
    "DEPLOYMENT_TIMEOUT_SECONDS": "900",
}
COMMAND = ["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]


def bare_engine(client, image: str, n: int) -> float:
    prefix = f"bare{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    for i in range(n):
        container = client.containers.create(
            image, COMMAND, name=f"{prefix}-c{i}", labels={"org.dyrectorio.container.prefix": prefix}
        )
        container.start()
        while client.api.inspect_container(container.id)["State"]["Status"] != "running":
            time.sleep(0.02)
    elapsed = time.perf_counter() - started
    for container in client.containers.list(all=True, filters={"label": f"org.dyrectorio.container.prefix={prefix}"}):
        container.remove(force=True)
    return elapsed


def platform(api: HttpApi, slug: str, node_id: str, registry_id: str, image: str, n: int, client) -> float:
    project = api.call(
        "POST", f"/api/{slug}/projects", {"type": "versionless", "name": f"b{uuid.uuid4().hex[:8]}"}, expect=201
    ).json()
    version = api.call("GET", f"/api/{slug}/projects/{project['id']}").json()["versions"][0]
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    added = api.call("POST", images, [{"registryId": registry_id, "images": [image] * n}], expect=201).json()
    for i, item in enumerate(added):
        api.call(
            "PATCH",
            f"{images}/{item['id']}",
            {"config": {"name": f"c{i}", "commands": [{"key": c} for c in COMMAND[:2]], "args": [{"key": COMMAND[2]}]}},
            expect=204,
        )
    prefix = f"p{uuid.uuid4().hex[:8]}"
    deployment = api.call(
        "POST",
        f"/api/{slug}/deployments",
        {"versionId": version["id"], "nodeId": node_id, "prefix": prefix},
        expect=201,
    ).json()
    path = f"/api/{slug}/deployments/{deployment['id']}"
    with Follower(api.base, api.token, slug, deployment["id"]) as follower:  # pushed, as `cli deploy --wait`
        started = time.perf_counter()
        api.call("POST", f"{path}/start", expect=204)
        status = follower.wait_final(300, echo=lambda line: None)
        elapsed = time.perf_counter() - started
    if status != "successful":
        raise RuntimeError(f"deployment ended {status}: {api.call('GET', f'{path}/log?take=50').text}")
    for container in client.containers.list(all=True, filters={"label": f"org.dyrectorio.container.prefix={prefix}"}):
        container.remove(force=True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    client = docker.from_env()
    image = build_busybox(client, "bench")
    results = {}
    with running_local_stack(env=RUN_DEFAULTS) as stack, tempfile.TemporaryDirectory() as data_dir:
        api, slug, node, pid = install_agent(stack.url, Path(data_dir))
        try:
            while api.call("GET", f"/api/{slug}/nodes/{node['id']}").json()["status"] != "connected":
                time.sleep(0.2)
            registry = api.call(
                "POST",
                f"/api/{slug}/registries",
                {"type": "unchecked", "name": "local images", "details": {"local": True}},
                expect=201,
            ).json()
            for n in SIZES:
                ours, bare = [], []
                for _ in range(args.runs):  # interleaved, so a change in load hits both sides alike
                    ours.append(platform(api, slug, node["id"], registry["id"], image, n, client))
                    bare.append(bare_engine(client, image, n))
                results[n] = (statistics.median(ours), statistics.median(bare))
        finally:
            os.kill(pid, 15)
    print(f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, {args.runs} runs per size (medians)\n")
    print(f"{'containers':>10} {'platform s':>11} {'docker SDK s':>13} {'ratio':>7}")
    for n, (ours, bare) in results.items():
        print(f"{n:>10} {ours:>11.2f} {bare:>13.2f} {ours / bare:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
