"""`python -m infra.backfill [--team ID ...]`: recomputes the counters kept in items and the audit log's
day counts and expiry, for a table written before they existed; then the counts kept on each user
(with `--team`: on those teams' members and invitees).

Run it once after deploying a version that added them (`docs/data-model.md`, "Counters"), against
the table the environment names (`TABLE_NAME`, `AWS_ENDPOINT_URL`, the usual AWS credentials).
It is idempotent: it sets recomputed values, so running it again is harmless and repairs a team
whose writes raced the previous run. Without `--team` it visits every team and every user.
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--team", action="append", default=[], help="only this team id (repeatable)")
    args = parser.parse_args(argv)

    from chalicelib.db import backfill, table

    table.configure()
    for team_id in args.team or backfill.team_ids():
        print(json.dumps({"team": team_id, **backfill.backfill_team(team_id)}), flush=True)
    for user_id in backfill.user_ids(args.team or None):
        print(json.dumps({"user": user_id, **backfill.backfill_user(user_id)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
