"""Properties of the app as a whole that API Gateway and Lambda depend on."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_importing_app_loads_no_agent_sdk_nor_powertools_and_makes_no_aws_client():
    # A fresh interpreter with no AWS endpoint: importing must neither reach AWS nor load agent SDKs, and
    # Powertools (with the X-Ray SDK) loads on a function's first invocation, not with the cold start's import.
    code = (
        "import sys, app; bad = [m for m in ('docker', 'kubernetes', 'aws_lambda_powertools', 'aws_xray_sdk') "
        "if m in sys.modules]; "
        "from chalicelib.adapters import aws; assert aws._client.cache_info().currsize == 0; print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_one_variable_name_per_path_level():
    """API Gateway rejects `/x/{a}` beside `/x/{b}`; Chalice does not check, so we do."""
    import app

    variables: dict[str, set[str]] = defaultdict(set)
    for path in app.app.routes:
        parts = path.strip("/").split("/")
        for depth, part in enumerate(parts):
            if part.startswith("{"):
                variables["/".join(parts[:depth])].add(part)
    clashes = {parent: names for parent, names in variables.items() if len(names) > 1}
    assert clashes == {}


def test_literal_segments_under_api_are_reserved_slugs():
    """Every literal first segment under /api must be refused as a team slug, or it would shadow the team."""
    import app
    from chalicelib import settings

    literals = {
        path.split("/")[2] for path in app.app.routes if path.count("/") >= 2 and not path.split("/")[2].startswith("{")
    }
    assert literals <= settings.RESERVED_SLUGS


def test_every_route_goes_through_the_router():
    import app
    from chalicelib.api.routing import all_routes

    declared = {(r.method, r.path) for r in all_routes()}
    served = {(method, path) for path, methods in app.app.routes.items() for method in methods}
    assert served == declared
