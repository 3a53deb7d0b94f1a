"""`python -m cli`: operator helpers — secrets sealed for a node's agent, and deploys CI can wait on.

Secret values never reach the platform in clear text: they are sealed (libsodium sealed box)
to the public key of the agent on the deployment's node, and only that agent can open them.
`deploy --wait` follows the deployment on the platform's WebSocket API (no polling) and exits
0 when it is successful, 1 when it failed, 2 when it did not finish within --timeout.

  python -m cli seal --public-key KEY [VALUE]          print the sealed value (VALUE or stdin)
  python -m cli set-secret --url URL --token TOKEN --team SLUG --deployment ID --instance ID \\
                           --key NAME [VALUE]          seal and store it on the instance
  python -m cli deploy --url URL --token TOKEN --team SLUG --deployment ID [--wait] [--timeout S]
                                                       start it; with --wait, stream its events
"""

from __future__ import annotations

import argparse
import base64
import sys

import requests
from nacl.public import PublicKey, SealedBox


def seal(public_key: str, value: str) -> str:
    return base64.b64encode(SealedBox(PublicKey(base64.b64decode(public_key))).encrypt(value.encode())).decode()


def set_secret(url: str, token: str, team: str, deployment: str, instance: str, key: str, value: str) -> None:
    """Reads the node's key from the deployment, seals the value and PATCHes the instance's secrets."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = f"{url.rstrip('/')}/api/{team}/deployments/{deployment}"
    details = session.get(base, timeout=30)
    details.raise_for_status()
    public_key = details.json().get("publicKey")
    if not public_key:
        raise SystemExit("the deployment's node has no connected agent (no public key) yet")
    current = session.get(f"{base}/instances/{instance}", timeout=30)
    current.raise_for_status()
    secrets = [s for s in current.json()["config"].get("secrets") or [] if s["key"] != key]
    secrets.append(
        {"key": key, "value": seal(public_key, value), "encrypted": True, "publicKey": public_key, "required": False}
    )
    reply = session.patch(f"{base}/instances/{instance}", json={"config": {"secrets": secrets}}, timeout=30)
    if reply.status_code != 204:
        raise SystemExit(f"the platform refused: {reply.status_code} {reply.text}")


def deploy(url: str, token: str, team: str, deployment: str, wait: bool, timeout: float) -> int:
    """Starts the deployment; with `wait`, streams its events and returns its exit status."""
    from cli.follow import Follower

    start = f"{url.rstrip('/')}/api/{team}/deployments/{deployment}/start"
    if not wait:
        _start(start, token)
        return 0
    with Follower(url, token, team, deployment) as follower:
        _start(start, token)  # after subscribing: no event of this run can be missed
        status = follower.wait_final(timeout, echo=lambda line: print(line, flush=True))
    if status is None:
        print(f"the deployment did not finish within {timeout:g} s", file=sys.stderr)
        return 2
    print(f"deployment {status}")
    return 0 if status == "successful" else 1


def _start(url: str, token: str) -> None:
    reply = requests.post(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if reply.status_code != 204:
        raise SystemExit(f"the platform refused to start it: {reply.status_code} {reply.text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sealer = sub.add_parser("seal", help="print a value sealed to a public key")
    sealer.add_argument("--public-key", required=True)
    sealer.add_argument("value", nargs="?")
    setter = sub.add_parser("set-secret", help="seal a value and store it as an instance secret")
    for name in ("url", "token", "team", "deployment", "instance", "key"):
        setter.add_argument(f"--{name}", required=True)
    setter.add_argument("value", nargs="?")
    deployer = sub.add_parser("deploy", help="start a deployment (with --wait: until it ends)")
    for name in ("url", "token", "team", "deployment"):
        deployer.add_argument(f"--{name}", required=True)
    deployer.add_argument("--wait", action="store_true", help="stream its events; exit 0 on success, 1 on failure")
    deployer.add_argument("--timeout", type=float, default=1800, help="seconds to wait at most (exit 2 after)")
    args = parser.parse_args(argv)
    if args.command == "deploy":
        return deploy(args.url, args.token, args.team, args.deployment, args.wait, args.timeout)
    value = args.value if args.value is not None else sys.stdin.read().rstrip("\n")
    if args.command == "seal":
        print(seal(args.public_key, value))
    else:
        set_secret(args.url, args.token, args.team, args.deployment, args.instance, args.key, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
