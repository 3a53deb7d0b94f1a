"""The agent's deployment report: batches that name their first event's position in the try."""

from __future__ import annotations

import pytest
import requests

from agent.app import BufferedReport
from chalicelib.contracts.agent import DeploymentEvent


def log(text: str) -> DeploymentEvent:
    return DeploymentEvent(type="log", log=[text])


def test_a_batch_the_platform_did_not_confirm_is_resent_from_the_same_position():
    sent: list[tuple[list[str], int]] = []
    refuse = {"next": False}

    def send(events, seq):
        if refuse["next"]:
            refuse["next"] = False
            raise requests.ConnectionError("platform unreachable")
        sent.append(([e.log[0] for e in events], seq))

    report = BufferedReport(send, interval=3600, deliver=lambda call: call())
    report([log("a"), log("b")])
    report._flush()
    # WHEN the next batch is refused (it may have been stored: the reply was lost) and more events follow
    report([log("c")])
    refuse["next"] = True
    with pytest.raises(requests.ConnectionError):
        report._flush()
    report([log("d")])
    report.close()
    # THEN it is resent with what followed, from the position it had: the platform can tell what it holds
    assert sent == [(["a", "b"], 0), (["c", "d"], 2)]
