"""`python -m infra.local` as a user runs it (`make run`): a subprocess on free ports.

The child gets a clean AWS environment (no inherited endpoint or resource names from other
fixtures in this session), so it starts its own moto and creates the stack itself.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from infra import stack

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60
STOP_TIMEOUT = 15


@dataclass
class LocalStack:
    url: str
    aws_endpoint: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """Ctrl-C, as a user would; returns the exit code (kills and fails after STOP_TIMEOUT)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"local stack ignored SIGINT for {STOP_TIMEOUT}s; log:\n{self.log()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _child_environment(port: int, moto_port: int, endpoint: str | None,
                       extra: dict[str, str] | None = None) -> dict[str, str]:
    inherited = {"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN", "PUBLIC_URL"}
    inherited |= {stack.env_name(key) for key in stack.template()["Outputs"]}
    env = {k: v for k, v in os.environ.items() if k not in inherited}
    env.update(PORT=str(port), MOTO_PORT=str(moto_port), PYTHONUNBUFFERED="1")
    env.setdefault("PASSWORD_HASH_PROFILE", "test")  # sign-ups at the cheapest argon2id cost
    # Short health windows so the failure paths (a silent agent, a stuck deployment) show in seconds.
    env.update(LOCAL_SCHEDULE_SECONDS="2", AGENT_HEARTBEAT_SECONDS="4", NODE_TIMEOUT_SECONDS="20",
               DEPLOYMENT_TIMEOUT_SECONDS="25")
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(extra or {})
    return env


@contextmanager
def running_local_stack(endpoint: str | None = None, env: dict[str, str] | None = None) -> Iterator[LocalStack]:
    """`python -m infra.local` on free ports; with `endpoint`, against that emulator instead of its own;
    `env` adds to its environment (e.g. LOCAL_VISIBILITY_TIMEOUT, DYRECTOR_FAULTS)."""
    port, moto_port = free_port(), free_port()
    with tempfile.NamedTemporaryFile("w", prefix="local-stack-", suffix=".log", delete=False) as log_file:
        process = subprocess.Popen([sys.executable, "-m", "infra.local"], cwd=ROOT,
                                   env=_child_environment(port, moto_port, endpoint, env),
                                   stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
    aws_endpoint = endpoint or f"http://127.0.0.1:{moto_port}"
    running = LocalStack(f"http://127.0.0.1:{port}", aws_endpoint, process, Path(log_file.name))
    try:
        _wait_until_healthy(running)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        running.log_path.unlink(missing_ok=True)


def _wait_until_healthy(running: LocalStack) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            pytest.fail(f"local stack exited with {running.process.returncode}; log:\n{running.log()}")
        try:
            status, body = http_get(f"{running.url}/api/health", timeout=2)
            if status == 200:
                json.loads(body)
                return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"local stack not healthy after {START_TIMEOUT}s; log:\n{running.log()}")


@pytest.fixture(scope="session")
def local_stack_process() -> Iterator[LocalStack]:
    """The running local stack; on teardown Ctrl-C must stop it cleanly (exit 0)."""
    with running_local_stack() as running:
        yield running
        code = running.stop()
        assert code == 0, f"local stack exited with {code} on SIGINT; log:\n{running.log()}"


@pytest.fixture(scope="session")
def local_stack(local_stack_process: LocalStack) -> str:
    """Base URL of the running local stack, e.g. http://127.0.0.1:PORT."""
    return local_stack_process.url


class HttpApi:
    """The platform over real HTTP, as a user's CLI or CI job calls it."""

    def __init__(self, base_url: str) -> None:
        import requests

        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.token: str | None = None

    def call(self, method: str, path: str, body=None, expect: int | None = None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        reply = self.session.request(method, self.base + path, json=body, headers=headers, timeout=60)
        if expect is not None:
            assert reply.status_code == expect, f"{method} {path}: {reply.status_code} {reply.text}"
        return reply

    def sign_in(self, email: str, password: str = "correct horse battery") -> None:
        self.call("POST", "/api/auth/signup", {"email": email, "password": password, "firstName": "Ops"}, expect=201)
        self.token = self.call("POST", "/api/auth/login", {"email": email, "password": password},
                               expect=200).json()["token"]


def wait_for(predicate, timeout: float, message: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s: {message}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie child of ours counts as gone
        return stat.read().split()[2] != "Z"


def agent_log(data_dir) -> str:
    path = data_dir / "agent.log"
    return path.read_text() if path.exists() else "(no agent log)"


def run_install_command(command: str, data_dir: Path) -> int:
    """Runs an install one-liner on this machine (the agent on this venv's Python); returns the agent's pid."""
    env = {**os.environ, "DYRECTOR_AGENT_PYTHON": sys.executable, "DYRECTOR_AGENT_DATA": str(data_dir)}
    ran = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return int((Path(data_dir) / "agent.pid").read_text())


def install_agent(base_url: str, data_dir: Path) -> tuple[HttpApi, str, dict, int]:
    """A new user and team with a node whose agent is installed on this machine by its install
    command; returns (api, team slug, node, agent pid)."""
    api = HttpApi(base_url)
    api.sign_in(f"ops-{uuid.uuid4().hex[:8]}@example.com")
    slug = f"n{uuid.uuid4().hex[:10]}"
    api.call("POST", "/api/teams", {"name": f"Ops {slug}", "slug": slug}, expect=201)
    node = api.call("POST", f"/api/{slug}/nodes", {"name": "this-host"}, expect=201).json()
    install = api.call("POST", f"/api/{slug}/nodes/{node['id']}/script",
                       {"type": "docker", "scriptType": "shell"}, expect=201).json()
    # WHEN the operator pastes the one-line command on the node (here: this machine)
    return api, slug, node, run_install_command(install["command"], data_dir)


def stop_agent(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


@pytest.fixture()
def installed_node(local_stack, tmp_path):
    """A team with a node whose agent was installed on this machine by running the install command."""
    data_dir = tmp_path / "agent"
    api, slug, node, pid = install_agent(local_stack, data_dir)
    try:
        yield api, slug, node, pid, data_dir
    finally:
        stop_agent(pid)
