"""Security tests: the running platform (`make run`'s stack in a subprocess, tests/fixtures/local_stack.py)
probed over HTTP the way an attacker would, with scriptable listeners on 127.0.0.1 standing in for
internal services and attacker-controlled servers (tests/fixtures/listeners.py).

Each module starts the stacks it needs in module-scoped fixtures (with the environment the test is
about, e.g. OUTBOUND_ALLOWED_NETWORKS); `signed_in` gives a new user and team on one of them.
"""

from __future__ import annotations

import uuid

from tests.fixtures.listeners import listeners  # noqa: F401 - a fixture
from tests.fixtures.local_stack import HttpApi


def signed_in(base_url: str) -> tuple[HttpApi, str]:
    """A new user who owns a new team on the stack at `base_url`; returns (api, team slug)."""
    api = HttpApi(base_url)
    api.sign_in(f"sec-{uuid.uuid4().hex[:10]}@example.com")
    slug = f"s{uuid.uuid4().hex[:12]}"
    api.call("POST", "/api/teams", {"name": f"Sec {slug}", "slug": slug}, expect=201)
    return api, slug
