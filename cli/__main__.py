"""`python -m cli seal` / `python -m cli set-secret`: secret values sealed for a node's agent.

Secret values never reach the platform in clear text: they are sealed (libsodium sealed box)
to the public key of the agent on the deployment's node, and only that agent can open them.

  python -m cli seal --public-key KEY [VALUE]          print the sealed value (VALUE or stdin)
  python -m cli set-secret --url URL --token TOKEN --team SLUG --deployment ID --instance ID \\
                           --key NAME [VALUE]          seal and store it on the instance
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
    secrets.append({"key": key, "value": seal(public_key, value), "encrypted": True, "publicKey": public_key,
                    "required": False})
    reply = session.patch(f"{base}/instances/{instance}", json={"config": {"secrets": secrets}}, timeout=30)
    if reply.status_code != 204:
        raise SystemExit(f"the platform refused: {reply.status_code} {reply.text}")


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
    args = parser.parse_args(argv)
    value = args.value if args.value is not None else sys.stdin.read().rstrip("\n")
    if args.command == "seal":
        print(seal(args.public_key, value))
    else:
        set_secret(args.url, args.token, args.team, args.deployment, args.instance, args.key, value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
