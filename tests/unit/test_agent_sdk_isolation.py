"""A node installs only its own runtime's SDK (`docker` or `kubernetes`, see domain/install_scripts.py):
the agent must start with the other one missing.

Each check runs in a fresh interpreter in which importing the other SDK raises ImportError, as it
would on a node where it is not installed (the dev venv has both, which hid a k8s → docker import).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Makes `import <blocked>` (and its submodules) fail, as on a node without that package.
BLOCKER = """
import sys

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {blocked!r}:
            raise ImportError(f"No module named {{name!r}} (blocked by the test)")
        return None

sys.meta_path.insert(0, Missing())
"""

# The agent's real entry path: `python -m agent run ...`. With an empty data directory it builds the
# runtime, then stops at registration (no install token) with exit code 3, without any network.
RUN_AGENT = """
import runpy
sys.argv = ["agent", "run", "--url", "http://127.0.0.1:9", "--data-dir", {data_dir!r}, "--type", {node_type!r}]
runpy.run_module("agent", run_name="__main__", alter_sys=True)
"""

KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


def run_without(blocked: str, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER.format(blocked=blocked) + code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT / "no-home"), **(env or {})},
    )


def test_the_blocker_really_hides_the_package():
    result = run_without("docker", "import docker")
    assert result.returncode != 0 and "blocked by the test" in result.stderr


@pytest.mark.parametrize(
    ("blocked", "module"),
    [
        ("docker", "agent.runtime.kubernetes"),
        ("docker", "agent.runtime.k8s_objects"),
        ("docker", "agent.runtime.k8s_rollout"),
        ("docker", "agent.runtime.k8s_inspect"),
        ("kubernetes", "agent.runtime.docker"),
        ("kubernetes", "agent.runtime.docker_deploy"),
    ],
)
def test_a_runtime_imports_without_the_other_runtimes_sdk(blocked, module):
    result = run_without(blocked, f"import {module}\nprint('imported')")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_a_kubernetes_agent_starts_on_a_node_without_docker(tmp_path):
    # GIVEN a node with a kubeconfig and no `docker` package
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    code = RUN_AGENT.format(data_dir=str(tmp_path / "data"), node_type="k8s")
    # WHEN `python -m agent run --type k8s` starts
    result = run_without("docker", code, env={"KUBECONFIG": str(tmp_path / "kubeconfig")})
    # THEN it builds its Kubernetes runtime and gets as far as registration (refused: no install token)
    assert result.returncode == 3, result.stderr
    assert "registration refused" in result.stderr


@pytest.mark.agent  # the Docker SDK asks the engine for its API version when the runtime is built
def test_a_docker_agent_starts_on_a_node_without_kubernetes(docker_client, tmp_path):
    # GIVEN a Docker host (a running engine) without the `kubernetes` package
    code = RUN_AGENT.format(data_dir=str(tmp_path / "data"), node_type="docker")
    # WHEN `python -m agent run --type docker` starts
    engine = {"DOCKER_HOST": os.environ["DOCKER_HOST"]} if "DOCKER_HOST" in os.environ else {}
    result = run_without("kubernetes", code, env=engine)
    # THEN it builds its Docker runtime and gets as far as registration (refused: no install token)
    assert result.returncode == 3, result.stderr
    assert "registration refused" in result.stderr
