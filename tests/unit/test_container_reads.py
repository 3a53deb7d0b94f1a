"""A container's log and inspection as the agent reports them (agent/runtime/container_logs.py,
inspection.py, the Docker and Kubernetes builders), checked without an engine: bounded, decoded
safely, ordered, secret values masked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from kubernetes.client import ApiClient

from agent.runtime import inspection
from agent.runtime.container_logs import LINE_BYTES, READ_BYTES, LineReader, Masker, render
from agent.runtime.docker import DockerRuntime, _inspection, _secret_values
from agent.runtime.k8s_inspect import build, current_pod
from chalicelib.contracts.agent import (
    INSPECT_MAX_BYTES,
    LOG_MAX_BYTES,
    MASKED,
    CommandResult,
    ContainerInspection,
    ContainerLog,
    EnvironmentVariable,
)
from chalicelib.contracts.naming import SECRET_KEYS_LABEL
from chalicelib.domain.nodes import container_reads_error

T0 = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)


def stamp(moment: datetime) -> bytes:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f").encode() + b"123Z "


def read(data: bytes, tail: int = 100, stream=None, chunk: int = 7) -> LineReader:
    """`data` fed in small chunks, as an engine's stream arrives (lines split across chunks)."""
    reader = LineReader(tail, stream)
    for start in range(0, len(data), chunk):
        reader.feed(data[start : start + chunk])
    return reader


def texts(log: ContainerLog) -> list[str]:
    return [line.text for line in log.lines]


# --- lines: split, timestamps, decoding ------------------------------------------------------------


def test_lines_keep_their_time_and_text_and_a_last_line_without_a_break_counts():
    data = stamp(T0) + b"first\r\n" + stamp(T0 + timedelta(seconds=1)) + b"second"
    log = render([read(data)], 100, [], None)
    assert texts(log) == ["first", "second"] and not log.truncated
    assert [line.time for line in log.lines] == [T0, T0 + timedelta(seconds=1)]


def test_invalid_utf8_is_replaced_and_valid_text_kept():
    log = render([read(stamp(T0) + b"caf\xc3\xa9 \xff\xfe ok\n")], 100, [], None)
    assert texts(log) == ["café \ufffd\ufffd ok"]
    assert json.loads(CommandResult(ok=True, log=log).model_dump_json())["log"]["lines"][0]["text"] == texts(log)[0]


def test_a_line_without_a_timestamp_is_kept_without_time():
    log = render([read(b"plain\n")], 100, [], None)
    assert [(line.time, line.text) for line in log.lines] == [(None, "plain")]


def test_two_streams_are_merged_by_time_and_say_which_wrote_each_line():
    out = stamp(T0) + b"o1\n" + stamp(T0 + timedelta(seconds=2)) + b"o2\n"
    err = stamp(T0 + timedelta(seconds=1)) + b"e1\n"
    log = render([read(out, stream="stdout"), read(err, stream="stderr")], 100, [], None)
    assert [(line.stream, line.text) for line in log.lines] == [("stdout", "o1"), ("stderr", "e1"), ("stdout", "o2")]


def test_tail_keeps_the_newest_lines_across_streams_and_since_drops_older_ones():
    out = b"".join(stamp(T0 + timedelta(seconds=i)) + f"o{i}\n".encode() for i in range(0, 10, 2))
    err = b"".join(stamp(T0 + timedelta(seconds=i)) + f"e{i}\n".encode() for i in range(1, 10, 2))
    readers = [read(out, tail=3, stream="stdout"), read(err, tail=3, stream="stderr")]
    assert texts(render(readers, 3, [], None)) == ["e7", "o8", "e9"]
    since = T0 + timedelta(seconds=8)
    assert texts(render([read(out, stream="stdout")], 100, [], since)) == ["o8"]


# --- bounds --------------------------------------------------------------------------------------------


def test_a_long_line_is_cut_at_16_kib_and_the_answer_says_so():
    log = render(
        [read(stamp(T0) + b"x" * (3 * LINE_BYTES) + b"\n" + stamp(T0) + b"short\n", chunk=5000)], 100, [], None
    )
    assert texts(log)[1] == "short" and len(texts(log)[0]) == LINE_BYTES - len(stamp(T0))
    assert log.truncated


def test_the_answer_keeps_the_newest_lines_within_the_byte_budget_escapes_included():
    # Control characters take 6 bytes each as JSON: the budget counts what is sent, not what was read.
    line = b"\x01" * 8000
    log = render([read((stamp(T0) + line + b"\n") * 100, chunk=65536)], 1000, [], None)
    sent = len(CommandResult(ok=True, log=log).model_dump_json().encode())
    assert log.truncated and 0 < len(log.lines) < 100
    assert sent <= LOG_MAX_BYTES + 1024
    assert len(json.dumps(CommandResult(ok=True, log=log).dump())) <= LOG_MAX_BYTES + 1024  # ASCII-escaped too


def test_reading_a_huge_stream_keeps_bounded_memory_and_the_newest_lines():
    reader = LineReader(1000)
    for i in range(20000):
        reader.feed(stamp(T0) + f"{i:05d} ".encode() + b"y" * 1500 + b"\n")
    kept = reader.close()
    assert sum(len(line.data) for line in kept) <= READ_BYTES and reader.dropped
    assert kept[-1].data.split(b" ")[1] == b"19999"


# --- secrets -------------------------------------------------------------------------------------------


def test_secret_values_are_masked_in_every_line_and_each_line_of_a_multiline_secret():
    pem = "-----BEGIN KEY-----\nAAAAsecretbody\n-----END KEY-----"
    data = stamp(T0) + b"password=hunter22 and again hunter22\n" + stamp(T0) + b"key line AAAAsecretbody\n"
    log = render([read(data)], 100, ["hunter22", pem, ""], None)
    assert texts(log) == [f"password={MASKED} and again {MASKED}", f"key line {MASKED}"]


def test_a_cut_line_never_shows_the_start_of_a_secret_that_straddles_the_cut():
    secret = "s3cr3t-value-that-is-long"
    head = b"z" * (LINE_BYTES - len(stamp(T0)) - 10)
    log = render([read(stamp(T0) + head + secret.encode() + b"tail\n", chunk=4096)], 100, [secret], None)
    [text] = texts(log)
    assert text == head.decode() and secret[:10] not in text


def test_masker_leaves_text_alone_without_secrets():
    assert Masker([])("anything", cut=True) == "anything"


# --- inspections ---------------------------------------------------------------------------------------


DOCKER_ATTRS = {
    "Created": "2024-05-01T10:00:00.123456789Z",
    "Image": "sha256:abc",
    "RestartCount": 2,
    "State": {
        "Status": "running",
        "StartedAt": "2024-05-01T10:00:01.5Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
        "Health": {"Status": "healthy"},
    },
    "Config": {
        "Image": "registry.example/acme/web:1.0",
        "Env": ["MODE=prod", "DB_PASSWORD=hunter22", "EMPTY=", "PATH=/bin"],
        "Labels": {"org.dyrectorio.container.prefix": "shop", "org.dyrectorio.container.name": "web"}
        | {SECRET_KEYS_LABEL: "DB_PASSWORD"},
        "Cmd": ["sh"],
    },
    "Mounts": [
        {"Type": "volume", "Name": "shop-web-data", "Source": "/var/lib/docker/x", "Destination": "/data", "RW": True},
        {"Type": "bind", "Source": "/etc/app", "Destination": "/conf", "RW": False},
    ],
    "NetworkSettings": {"Ports": {"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "18080"}]}},
    "HostConfig": {},
}


def test_a_docker_inspection_is_curated_and_masks_the_labelled_secret():
    container = SimpleNamespace(attrs=DOCKER_ATTRS, name="shop-web")
    found = _inspection(DockerRuntime._info(container), DOCKER_ATTRS)
    assert (found.prefix, found.name, found.state, found.status, found.exit_code) == (
        "shop",
        "web",
        "running",
        "running",
        None,
    )
    assert (found.image, found.image_id, found.restart_count, found.health) == (
        "registry.example/acme/web:1.0",
        "sha256:abc",
        2,
        "healthy",
    )
    assert found.started_at == datetime(2024, 5, 1, 10, 0, 1, 500000, tzinfo=UTC) and found.finished_at is None
    assert [(p.internal, p.external) for p in found.ports] == [(8080, 18080)]
    assert [(m.type, m.source, m.destination, m.read_only) for m in found.mounts] == [
        ("volume", "shop-web-data", "/data", False),
        ("bind", "/etc/app", "/conf", True),
    ]
    assert [(v.key, v.value, v.secret) for v in found.environment] == [
        ("MODE", "prod", False),
        ("DB_PASSWORD", MASKED, True),
        ("EMPTY", "", False),
        ("PATH", "/bin", False),
    ]
    assert "hunter22" not in found.model_dump_json() and not found.truncated
    assert _secret_values(DOCKER_ATTRS) == ["hunter22"]


def test_an_inspection_too_large_is_cut_to_fit_and_says_so():
    huge = ContainerInspection(
        prefix="p",
        name="n",
        state="running",
        labels={f"label-{i}": "\x01" * 5000 for i in range(300)},
        environment=[EnvironmentVariable(key=f"K{i}", value="v" * 20000) for i in range(500)],
    )
    fitted = inspection.fit(huge)
    assert fitted.truncated and len(fitted.environment) == inspection.MAX_ENTRIES
    assert len(json.dumps(fitted.dump())) <= INSPECT_MAX_BYTES
    small = ContainerInspection(prefix="p", name="n", state="exited", labels={"a": "b"})
    assert inspection.fit(small) == small


def k8s(kind: str, body: dict):
    client = ApiClient()
    return client.deserialize(json.dumps(body), kind, "application/json")


def test_a_kubernetes_inspection_reads_the_deployment_and_its_pod():
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "containers": [
                {
                    "name": "web",
                    "image": "img:1",
                    "ports": [{"containerPort": 80}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                    "volumeMounts": [{"name": "web-data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/t"}],
                }
            ],
            "volumes": [
                {"name": "web-data", "persistentVolumeClaim": {"claimName": "web-data"}},
                {"name": "tmp", "emptyDir": {}},
            ],
        },
    }
    deployment = k8s(
        "V1Deployment",
        {
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
    )
    status = {
        "name": "web",
        "image": "img:1",
        "imageID": "img@sha256:1",
        "ready": False,
        "started": True,
        "restartCount": 4,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m"}},
    }
    pod = k8s("V1Pod", {"metadata": {"name": "web-1"}, "status": {"containerStatuses": [status]}})
    found = build(deployment, pod, "waiting", [])
    assert (found.status, found.error, found.restart_count, found.health, found.image_id) == (
        "CrashLoopBackOff",
        "back-off 5m",
        4,
        "unhealthy",
        "img@sha256:1",
    )
    assert [(m.type, m.source, m.destination) for m in found.mounts] == [
        ("persistentVolumeClaim", "web-data", "/data"),
        ("emptyDir", "", "/t"),
    ]
    stopped = build(deployment, None, "exited", [])
    assert (stopped.status, stopped.health, stopped.restart_count) == ("no pod running", None, 0)


def test_the_current_pod_is_of_the_current_template_ready_first_then_newest():
    stamp = "crane.dyrector.io/restartedAt"
    template = {
        "metadata": {"labels": {"app": "web"}, "annotations": {stamp: "2"}},
        "spec": {"containers": [{"name": "web", "image": "img:1"}]},
    }
    deployment = k8s(
        "V1Deployment",
        {
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
        },
    )

    def pod(name: str, deploy: str, minute: int, ready: bool, going: bool = False):
        meta = {"name": name, "annotations": {stamp: deploy}, "creationTimestamp": f"2024-05-01T10:{minute:02d}:00Z"}
        if going:
            meta["deletionTimestamp"] = "2024-05-01T11:00:00Z"
        status = {"name": "web", "image": "img:1", "imageID": "", "ready": ready, "restartCount": 0}
        return k8s("V1Pod", {"metadata": meta, "status": {"containerStatuses": [{**status, "state": {}}]}})

    serving, new = pod("old", "1", 1, True), pod("new", "2", 2, False)
    # the previous deploy's pod serves on while the new one is not ready: the new one is the container now
    assert current_pod(deployment, [serving, new]).metadata.name == "new"
    # until the controller has made the new one, the previous one stands in
    assert current_pod(deployment, [serving]).metadata.name == "old"
    # of the current template's pods, a ready one before a newer one; one going away only if all are
    newer = pod("newer", "2", 3, False)
    assert current_pod(deployment, [newer, pod("ready", "2", 2, True)]).metadata.name == "ready"
    assert current_pod(deployment, [new, newer]).metadata.name == "newer"
    assert current_pod(deployment, [pod("going", "2", 4, True, going=True), serving]).metadata.name == "old"
    assert current_pod(deployment, [pod("going", "2", 4, True, going=True)]).metadata.name == "going"
    assert current_pod(deployment, []) is None


@pytest.mark.parametrize(
    ("version", "refused"), [("0.4.0", False), ("0.4.1-abc", False), ("0.3.0", True), (None, True), ("x", True)]
)
def test_agents_before_0_4_cannot_read_containers(version, refused):
    assert bool(container_reads_error(version)) is refused


def test_the_commands_and_their_results_round_trip_through_json_as_each_side_reads_them():
    from chalicelib.contracts import agent as contract

    for command in (
        contract.ReadContainerLog(id="c1", prefix="shop", name="web", tail=5, since=T0),
        contract.InspectContainer(id="c2", prefix="", name="solo"),
    ):
        assert contract.read_command(json.loads(json.dumps(command.dump()))) == command
    log = render([read(stamp(T0) + b"hello\n", stream="stdout")], 100, [], None)
    found = ContainerInspection(prefix="shop", name="web", state="running", health="starting")
    for result in (CommandResult(ok=True, log=log), CommandResult(ok=True, inspection=found)):
        assert CommandResult.model_validate(json.loads(json.dumps(result.dump()))) == result
