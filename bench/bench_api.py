"""Import cost of `app` and in-process latency of two hot API calls, each against a baseline.

Why: `app` is what every Lambda cold start imports, so it must stay light (no docker or
kubernetes SDK), and `GET /api/teams` / `POST /api/tokens` are the calls clients make
most. Wall-clock numbers depend on the machine, so nothing here is asserted; every figure
is printed next to a baseline measured in the same run:

* import: fresh `python -c "import app"` vs the framework floor
  (`import chalice, boto3, pynamodb.models, pydantic`) and a bare interpreter;
* latency: API calls through `chalice.test.Client` vs a raw DynamoDB `get_item` on the
  same moto server, i.e. "how many DynamoDB round trips is one API call worth".

moto runs as a separate process so its request handling does not share our GIL.

    python -m bench.bench_api [--calls 300] [--imports 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/bench_api.py` puts bench/, not the repo, on sys.path
    sys.path.insert(0, str(ROOT))

FLOOR = "import chalice, boto3, pynamodb.models, pydantic"
AGENT_SDKS = ("docker", "kubernetes")
AWS_ENV = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


def summary(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), q[89], q[98]


def import_cost(runs: int) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_DEFAULT_REGION": "us-east-1"}
    codes = {"bare python": "pass", "framework floor": FLOOR, "import app": "import app"}

    def once(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
        return time.perf_counter() - start

    for code in codes.values():  # warm the .pyc caches and the page cache
        once(code)
    times: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):  # interleaved, so drift on the machine hits all three alike
        for name, code in codes.items():
            times[name].append(once(code))
    check = f"import sys, json, app; print(json.dumps({{m: m in sys.modules for m in {AGENT_SDKS!r}}}))"
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", check], cwd=ROOT, env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"import cost: fresh interpreter, median of {runs} runs")
    for name in codes:
        print(f"  {name:<16}{ms(med[name])} ms")
    print(
        f"  app / floor     {med['import app'] / med['framework floor']:8.2f} x   "
        f"(app - floor = {(med['import app'] - med['framework floor']) * 1000:.1f} ms)"
    )
    print("  " + "   ".join(f"{m} in sys.modules: {v}" for m, v in loaded.items()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
    proc = subprocess.Popen(
        [*cmd, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    endpoint, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 30
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                return proc, endpoint
            except urllib.error.HTTPError:  # any HTTP answer means it is serving
                return proc, endpoint
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not answer within 30 s (exit code {proc.poll()})")
    except BaseException:
        stop_moto(proc)
        raise


def stop_moto(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def timed(n: int, call, after=None, offset: int = 0) -> list[float]:
    """Times `call(i)` n times; `after(result)` runs untimed after each call."""
    samples = []
    for i in range(offset, offset + n):
        start = time.perf_counter()
        result = call(i)
        samples.append(time.perf_counter() - start)
        if after:
            after(result)
    return samples


def latency(calls: int) -> None:
    from infra import stack

    stack.export_outputs(stack.create_stack())
    stack.verify_mail_sender()
    from chalicelib.db import keys, table

    table.configure()
    from chalice.test import Client

    import app

    with Client(app.app) as client:

        def call(method: str, path: str, body=None, token=None, expect=200):
            headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
            response = getattr(client.http, method)(
                path, headers=headers, body=json.dumps(body) if body is not None else None
            )
            assert response.status_code == expect, (method, path, response.status_code, response.body)
            return json.loads(response.body) if response.body else None

        email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "correct horse battery"
        call("post", "/api/auth/signup", {"email": email, "password": password, "firstName": "Bench"}, expect=201)
        token = call("post", "/api/auth/login", {"email": email, "password": password})["token"]
        run = uuid.uuid4().hex[:6]
        for i in range(3):
            call("post", "/api/teams", {"name": f"Bench {run} {i}", "slug": f"b{run}{i}"}, token, expect=201)
        dynamodb = stack.client("dynamodb")
        key = {"PK": {"S": keys.META}, "SK": {"S": keys.SIGNING_KEY}}  # written by the login above
        assert "Item" in dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key)
        # Each new token is revoked (untimed) right away: moto deep-copies the whole table on every
        # TransactWriteItems, so a growing table would make later calls slower for moto's sake only.
        revoke = lambda created: call("delete", f"/api/tokens/{created['id']}", token=token, expect=204)  # noqa: E731
        cases = {
            "DynamoDB get_item": (lambda i: dynamodb.get_item(TableName=os.environ["TABLE_NAME"], Key=key), None),
            "GET /api/teams": (lambda i: call("get", "/api/teams", token=token), None),
            "POST /api/tokens": (
                lambda i: call(
                    "post",
                    "/api/tokens",
                    token=token,
                    expect=201,
                    body={"name": f"bench-{run}-{i}", "expirationInDays": 30},
                ),
                revoke,
            ),
        }
        assert len(call("get", "/api/teams", token=token)) == 3
        for fn, after in cases.values():  # warm-up; token names stay unique (offset past the timed ones)
            timed(max(10, calls // 10), fn, after, offset=calls)
        results = {name: summary(timed(calls, fn, after)) for name, (fn, after) in cases.items()}

    base = results["DynamoDB get_item"][0]
    print(f"\nlatency: {calls} calls each, in-process chalice.test.Client, moto_server in its own process")
    print(f"  {'call':<20}{'median':>8}{'p90':>9}{'p99':>9}  {'x get_item (median)':>20}")
    for name, (med, p90, p99) in results.items():
        print(f"  {name:<20}{ms(med)} {ms(p90)} {ms(p99)}  {med / base:18.1f} x")
    print("  (times in ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300, help="timed calls per API case (default 300)")
    parser.add_argument("--imports", type=int, default=15, help="fresh interpreters per import case (default 15)")
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}, nproc {len(os.sched_getaffinity(0))}\n")
    import_cost(args.imports)
    for name, value in AWS_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("EMAIL_VERIFICATION", "off")  # a scripted run: its user logs in straight after sign-up
    os.environ.pop("AWS_PROFILE", None)
    proc, endpoint = start_moto()
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        latency(args.calls)
    finally:
        stop_moto(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
