"""`python -m bench.bench_import --before DIR [--runs N]`: `import app` of two trees, paired in one run.

Each round times a fresh interpreter's `python -c "import app"` in the other tree (`--before`, with its own
`.venv`), in this tree, and the framework floor (`import chalice, boto3, pynamodb.models, pydantic`), in
an order that rotates every round, so a busy neighbour slows all three alike. Prints medians, the paired
difference and each tree's ratio to the floor (bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "import chalice, boto3, pynamodb.models, pydantic"
ENV = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"}


def timed(python: str, tree: Path, code: str) -> float:
    began = time.perf_counter()
    subprocess.run([python, "-c", code], cwd=tree, env=ENV, check=True)
    return (time.perf_counter() - began) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the other tree (a worktree of main)")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    cases = {
        "before": (str(args.before / ".venv" / "bin" / "python"), args.before, "import app"),
        "after": (sys.executable, ROOT, "import app"),
        "floor": (sys.executable, ROOT, FLOOR),
    }
    for case in cases.values():  # warm the page cache and the .pyc files
        timed(*case)
    names = list(cases)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(args.runs):
        for name in names[round_ % 3 :] + names[: round_ % 3]:
            times[name].append(timed(*cases[name]))
    for name, values in times.items():
        print(f"{name:7} median {statistics.median(values):6.1f} ms  (min {min(values):.1f}, max {max(values):.1f})")
    paired = [a - b for a, b in zip(times["after"], times["before"], strict=True)]
    spread = f"{min(paired):+.1f} .. {max(paired):+.1f}"
    print(f"after - before, paired: median {statistics.median(paired):+.1f} ms ({spread})")
    for name in ("before", "after"):
        ratio = statistics.median(t / f for t, f in zip(times[name], times["floor"], strict=True))
        print(f"{name} / floor: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
