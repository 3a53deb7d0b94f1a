"""Test-only fault injection: named points where a worker can be made to crash.

Inert unless `DYRECTOR_FAULTS` is set, which no deployed stack does. The fault tests set it
(e.g. `DYRECTOR_FAULTS=dispatch.after-command:1`) on the local stack so that the first pass
through that point raises `SimulatedCrash`, as if the Lambda died there: SQS then sees no
delete and redelivers the message. This proves, on the real queue, that a crash between two
steps loses and duplicates nothing; patching our own modules would prove much less.
"""

from __future__ import annotations

import os
from collections import Counter

_fired: Counter[str] = Counter()


class SimulatedCrash(Exception):
    """Raised at an enabled fault point; never caught by the code under test."""


def point(name: str) -> None:
    """Raise `SimulatedCrash` the first N times `name` is reached, if `DYRECTOR_FAULTS` names it."""
    spec = os.environ.get("DYRECTOR_FAULTS")
    if not spec:
        return
    for entry in spec.split(","):
        point_name, _, times = entry.strip().partition(":")
        if point_name == name and _fired[name] < int(times or 1):
            _fired[name] += 1
            raise SimulatedCrash(f"fault injected at {name}")


def reset() -> None:
    """Forget which faults fired (tests that set `DYRECTOR_FAULTS` more than once per process)."""
    _fired.clear()
