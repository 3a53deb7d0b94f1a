"""`python -m agent run --url URL --data-dir DIR [--type docker|k8s]` (or `python agent.pyz run ...`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.runtime.base import Runtime


def runtime_for(node_type: str) -> Runtime:
    """Imported lazily so a Docker node needs no kubernetes package and vice versa."""
    if node_type == "k8s":
        from kubernetes import config as kube_config
        from kubernetes.client import ApiClient

        from agent.runtime.kubernetes import KubernetesRuntime
        from agent.settings import KubernetesSettings

        try:
            kube_config.load_incluster_config()  # type: ignore[no-untyped-call]  # untyped in the client
        except kube_config.ConfigException:
            kube_config.load_kube_config()  # type: ignore[no-untyped-call]
        return KubernetesRuntime(ApiClient(), KubernetesSettings.from_env())
    from agent.runtime.docker import DockerRuntime
    from agent.runtime.docker_traefik import ensure_traefik
    from agent.settings import DockerSettings

    runtime = DockerRuntime(settings=DockerSettings.from_env())
    if runtime.settings.traefik.enabled:  # as dagent: the node's own Traefik, before any deployment
        ensure_traefik(runtime.client, runtime.settings.traefik)
    return runtime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dyrector-agent", description="dyrector node agent")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="connect to the platform and execute its commands")
    run.add_argument("--url", required=True, help="the platform's base URL, e.g. https://deploy.example.com")
    run.add_argument("--data-dir", required=True, type=Path)
    run.add_argument("--type", choices=("docker", "k8s"), default="docker")
    run.add_argument("--name", default="", help="the node's name (informational)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from agent.app import Agent
    from agent.client import PlatformClient
    from agent.state import AgentState

    program = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0].endswith(".pyz") else None
    try:
        runtime = runtime_for(args.type)
    except Exception as error:  # noqa: BLE001 - a bad setting, an engine that refuses our Traefik...: say why, stop
        logging.getLogger("agent").error("the %s runtime cannot start: %s", args.type, error)
        return 1
    agent = Agent(PlatformClient(args.url), AgentState(args.data_dir), runtime, args.type, program)
    return agent.run()


if __name__ == "__main__":
    sys.exit(main())
