"""The Kubernetes runtime through the official client, against an HTTP API stand-in."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes.client import ApiClient, Configuration, V1Deployment, V1Secret
from kubernetes.client.exceptions import ApiException

from agent.runtime.base import ContainerNotFound
from agent.runtime.kubernetes import KubernetesRuntime
from agent.settings import KubernetesSettings
from chalicelib.contracts.agent import Deploy, StorageSource, Workload
from tests.agent.fake_kubernetes import FakeKubernetes, Pods
from tests.agent.test_kubernetes_objects import FULL, LOADER, STORAGE, build_objects

pytestmark = pytest.mark.agent


@pytest.fixture()
def cluster():
    fake = FakeKubernetes()
    config = Configuration(host=fake.url)
    settings = KubernetesSettings(
        root_domain="apps.example",
        rclone_image="mirror.example/rclone:1.57.0",
        poll_seconds=0.01,
        poll_max_seconds=0.05,
    )
    yield fake, KubernetesRuntime(ApiClient(config), settings)
    fake.stop()


def test_apply_creates_every_object_and_a_second_apply_updates_them(cluster):
    fake, runtime = cluster
    runtime.apply(build_objects("shop", "web", "img:1", FULL, {"K": "v"}))
    assert fake.names("deployments", "shop") == {"web"}
    assert fake.names("persistentvolumeclaims", "shop") == {"web-data", "web-shared", "web-conf"}
    assert fake.names("services", "shop") == {"web"} and fake.names("ingresses", "shop") == {"web"}
    changed = {**FULL, "environment": [{"id": "m", "key": "MODE", "value": "staging"}]}
    runtime.apply(build_objects("shop", "web", "img:2", changed, {"K": "v"}))
    assert fake.get("configmaps", "shop", "web")["data"]["MODE"] == "staging"
    assert fake.get("deployments", "shop", "web")["spec"]["template"]["spec"]["containers"][0]["image"] == "img:2"


def test_list_start_stop_restart_delete_and_delete_prefix(cluster):
    fake, runtime = cluster
    for name in ("web", "worker"):
        runtime.apply(build_objects("shop", name, "127.0.0.1:5000/acme/web:1.0", {"ports": [{"internal": 80}]}, {}))
    listed = {c.name: c for c in runtime.list_containers("shop")}
    assert set(listed) == {"web", "worker"} and listed["web"].state == "running"
    assert (listed["web"].image_name, listed["web"].image_tag) == ("127.0.0.1:5000/acme/web", "1.0")
    assert [p.internal for p in listed["web"].ports] == [80]
    runtime.container_command("shop", "web", "stop")
    assert fake.get("deployments", "shop", "web")["spec"]["replicas"] == 0
    assert {c.name: c.state for c in runtime.list_containers("shop")}["web"] == "exited"
    runtime.container_command("shop", "web", "start")
    assert fake.get("deployments", "shop", "web")["spec"]["replicas"] == 1
    before = fake.get("deployments", "shop", "web")["spec"]["template"]["metadata"]["annotations"]
    stamp = before["crane.dyrector.io/restartedAt"]
    runtime.container_command("shop", "web", "restart")
    after = fake.get("deployments", "shop", "web")["spec"]["template"]["metadata"]["annotations"]
    assert after["crane.dyrector.io/restartedAt"] != stamp
    runtime.delete_container("shop", "worker")
    assert fake.names("deployments", "shop") == {"web"} and "worker" not in fake.names("services", "shop")
    with pytest.raises(ContainerNotFound):
        runtime.delete_container("shop", "worker")
    with pytest.raises(ContainerNotFound):
        runtime.container_command("shop", "worker", "start")
    assert {c.name for c in runtime.list_containers(None)} == {"web"}
    runtime.delete_prefix("shop")
    assert runtime.list_containers("shop") == [] and fake.get("namespaces", "", "shop") is None
    runtime.delete_prefix("shop")  # idempotent


def test_deploy_applies_each_workload_with_opened_secrets(cluster):
    fake, runtime = cluster
    events = []
    request = Deploy(
        deployment_id="d",
        attempt=1,
        prefix="shop",
        workloads=[
            Workload(
                instance_id="i1",
                name="web",
                image="img:1",
                config={"ports": [{"internal": 80}], "secrets": [{"key": "PW", "value": "sealed"}]},
            )
        ],
    )
    assert runtime.deploy(request, events.extend, lambda sealed: "opened-" + sealed) is True
    assert base64.b64decode(fake.get("secrets", "shop", "web")["data"]["PW"]).decode() == "opened-sealed"
    bad = Deploy(
        deployment_id="d",
        attempt=2,
        prefix="shop",
        workloads=[Workload(instance_id="i2", name="Bad_Name", image="img:1", config={})],
    )
    assert runtime.deploy(bad, events.extend, str) is False
    assert any("DNS-1123" in line for e in events if e.type == "log" for line in e.log or [])


def deploy(runtime, config: dict, attempt: int = 1, storage: StorageSource | None = None) -> list:
    events: list = []
    request = Deploy(
        deployment_id="d",
        attempt=attempt,
        prefix="shop",
        workloads=[Workload(instance_id="i1", name="web", image="img:1", config=config, storage=storage)],
    )
    assert runtime.deploy(request, events.extend, lambda sealed: "opened-" + sealed), events
    return events


def kv(key, value):
    return {"key": key, "value": value}


def test_a_redeploy_removes_the_labels_annotations_variables_and_ports_the_config_dropped(cluster):
    fake, runtime = cluster
    # GIVEN a container deployed with two of each
    deploy(
        runtime,
        {
            "environment": [kv("KEEP", "1"), kv("DROP", "2")],
            "ports": [{"internal": 8080}, {"internal": 9090}],
            "labels": {"deployment": [kv("tier", "web"), kv("old", "x")], "service": [kv("svc", "old")]},
            "annotations": {"deployment": [kv("note", "old")]},
        },
    )
    # WHEN it is deployed again with one of each
    deploy(
        runtime,
        {
            "environment": [kv("KEEP", "1")],
            "ports": [{"internal": 8080}],
            "labels": {"deployment": [kv("tier", "web")]},
        },
        attempt=2,
    )
    # THEN the cluster holds only what the new config sets
    deployment = fake.get("deployments", "shop", "web")
    assert "old" not in deployment["metadata"]["labels"] and deployment["metadata"]["labels"]["tier"] == "web"
    template = deployment["spec"]["template"]["metadata"]
    assert "old" not in template["labels"] and "note" not in template["annotations"]
    assert "annotations" not in deployment["metadata"]
    assert [p["containerPort"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]] == [8080]
    assert fake.get("configmaps", "shop", "web")["data"] == {"KEEP": "1"}
    service = fake.get("services", "shop", "web")
    assert [p["port"] for p in service["spec"]["ports"]] == [8080] and "svc" not in service["metadata"]["labels"]
    assert deployment["metadata"]["uid"] and deployment["status"]["availableReplicas"] == 1  # the server's fields stay


def test_a_redeploy_deletes_the_objects_the_config_no_longer_needs(cluster):
    fake, runtime = cluster
    deploy(
        runtime,
        {
            "ports": [{"internal": 80}],
            "expose": "expose",
            "routing": {"domain": "web.example.com"},
            "secrets": [{"key": "PW", "value": "sealed"}],
        },
    )
    assert fake.get("services", "shop", "web") and fake.get("ingresses", "shop", "web")
    deploy(runtime, {}, attempt=2)
    assert fake.names("services", "shop") == set() and fake.names("ingresses", "shop") == set()
    assert fake.names("secrets", "shop") == set() and fake.names("deployments", "shop") == {"web"}


def test_metrics_become_a_service_monitor_where_the_cluster_has_the_kind(cluster):
    fake, runtime = cluster
    config = {"ports": [{"internal": 8080}], "metrics": {"enabled": True, "path": "/stats"}}
    # a cluster without the Prometheus Operator: the deployment goes on and says why there is no monitor
    events = deploy(runtime, config)
    assert any("no ServiceMonitor kind" in line for e in events if e.type == "log" for line in e.log or [])
    fake.install_crd("servicemonitors.monitoring.coreos.com")
    deploy(runtime, config, attempt=2)
    monitor = fake.get("servicemonitors", "shop", "web")
    assert monitor["spec"]["endpoints"] == [{"targetPort": 8080, "path": "/stats"}]
    deploy(runtime, {"ports": [{"internal": 8080}]}, attempt=3)
    assert fake.get("servicemonitors", "shop", "web") is None


def test_the_stand_in_refuses_an_object_its_kinds_schema_does_not_hold(cluster):
    _, runtime = cluster
    with pytest.raises(ApiException) as refused:
        runtime.apply(
            [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}, "dta": {}}]
        )
    assert refused.value.status == 400


def typed(obj: dict, model: type):
    """The stored object read through the official client's model of its kind (as the agent's client would)."""
    return ApiClient().deserialize(json.dumps(obj), model.__name__, "application/json")


PRIVATE = StorageSource(url="minio.lan:9000", sealed_access_key="AKIA", sealed_secret_key="s3cr3t")
FILLED = {
    "volumes": [
        {"name": "data", "path": "/srv/data", "type": "rwo"},
        {"name": "conf", "path": "/etc/app", "type": "tmp"},
    ],
    "configContainer": {**LOADER, "volume": "conf"},
    "storage": STORAGE,
    "initContainers": [{"name": "migrate", "image": "acme/migrate:1", "volumes": [{"name": "data", "path": "/d"}]}],
}


def test_a_deploy_runs_the_config_loader_and_the_storage_import_before_the_container(cluster):
    fake, runtime = cluster
    # WHEN a config with a config container, a private storage and an init container is deployed
    deploy(runtime, FILLED, storage=PRIVATE)
    # THEN the Deployment's pod runs, in order, the config loader, the import and the config's own
    pod = typed(fake.get("deployments", "shop", "web"), V1Deployment).spec.template.spec
    loader, importer, migrate = pod.init_containers
    assert [loader.name, importer.name, migrate.name] == ["config-loader", "import", "migrate"]
    assert [(m.name, m.mount_path) for m in loader.volume_mounts] == [("web-conf", "/targetconfig")]
    assert loader.command == ["rsync", "-a", "--delete", "/config/", "/targetconfig"]
    assert importer.image == "mirror.example/rclone:1.57.0" and importer.args == [
        "sync",
        "s3:assets/site",
        "/data/output",
    ]
    assert [(m.name, m.mount_path) for m in importer.volume_mounts] == [("web-data", "/data/output")]
    assert [(m.name, m.mount_path) for m in migrate.volume_mounts] == [("web-data", "/d")]
    # the container mounts what they filled
    assert {(m.name, m.mount_path) for m in pod.containers[0].volume_mounts} == {
        ("web-data", "/srv/data"),
        ("web-conf", "/etc/app"),
    }
    # AND the storage's keys are in the Secret web-import, which only the import reads
    assert [e.secret_ref.name for e in importer.env_from] == ["web-import"]
    assert {e.name for e in importer.env} == {
        "RCLONE_CONFIG_S3_TYPE",
        "RCLONE_CONFIG_S3_PROVIDER",
        "RCLONE_CONFIG_S3_ENDPOINT",
    }
    secret = typed(fake.get("secrets", "shop", "web-import"), V1Secret)
    assert {k: base64.b64decode(v).decode() for k, v in secret.data.items()} == {
        "RCLONE_CONFIG_S3_ACCESS_KEY_ID": "opened-AKIA",
        "RCLONE_CONFIG_S3_SECRET_ACCESS_KEY": "opened-s3cr3t",
    }
    assert "opened-" not in json.dumps(fake.get("deployments", "shop", "web"))


def test_a_redeploy_without_the_storage_removes_the_import_and_its_secret(cluster):
    fake, runtime = cluster
    deploy(runtime, FILLED, storage=PRIVATE)
    # WHEN the config no longer names a storage
    deploy(runtime, {**FILLED, "storage": None}, attempt=2)
    # THEN server-side apply drops the import from the pod and its Secret is deleted
    pod = typed(fake.get("deployments", "shop", "web"), V1Deployment).spec.template.spec
    assert [c.name for c in pod.init_containers] == ["config-loader", "migrate"]
    assert fake.get("secrets", "shop", "web-import") is None
    # WHEN neither a config container nor init containers remain THEN the pod has none at all
    deploy(runtime, {"volumes": FILLED["volumes"]}, attempt=3)
    assert "initContainers" not in fake.get("deployments", "shop", "web")["spec"]["template"]["spec"]
    # a public storage imports without a Secret
    deploy(runtime, {**FILLED, "configContainer": None}, attempt=4, storage=StorageSource(url="minio.lan:9000"))
    pod = typed(fake.get("deployments", "shop", "web"), V1Deployment).spec.template.spec
    assert [c.name for c in pod.init_containers] == ["import", "migrate"] and pod.init_containers[0].env_from is None
    assert fake.get("secrets", "shop", "web-import") is None


def test_deleting_the_container_deletes_its_import_secret(cluster):
    fake, runtime = cluster
    deploy(runtime, FILLED, storage=PRIVATE)
    runtime.delete_container("shop", "web")
    assert fake.names("secrets", "shop") == set() and fake.names("deployments", "shop") == set()


def test_an_import_into_a_volume_the_container_lacks_fails_the_deployment_before_anything_is_applied(cluster):
    fake, runtime = cluster
    events: list = []
    request = Deploy(
        deployment_id="d",
        attempt=1,
        prefix="shop",
        workloads=[Workload(instance_id="i1", name="web", image="img:1", config={"storage": STORAGE}, storage=PRIVATE)],
    )
    assert runtime.deploy(request, events.extend, str) is False
    assert any("storage.path 'data' names no volume" in line for e in events for line in e.log or [])
    assert fake.names("deployments", "shop") == set() and fake.names("secrets", "shop") == set()


# -- the rollout: a deploy reports what the pods did ---------------------------------------------


def attempt(runtime, config: dict, storage: StorageSource | None = None, names=("web",)) -> tuple[bool, list]:
    """Deploys the workloads `names` with `config`; whether it succeeded, and its events."""
    events: list = []
    request = Deploy(
        deployment_id="d",
        attempt=1,
        prefix="shop",
        workloads=[
            Workload(instance_id=f"i-{name}", name=name, image="img:1", config=config, storage=storage)
            for name in names
        ],
    )
    return runtime.deploy(request, events.extend, lambda sealed: "opened-" + sealed), events


def lines(events: list, level: str | None = None) -> list[str]:
    return [line for e in events if e.type == "log" and level in (None, e.level) for line in e.log or []]


def states(events: list) -> list[tuple[str, str | None]]:
    return [(e.state, e.reason) for e in events if e.type == "container-state"]


def test_a_deploy_waits_until_the_pod_is_ready_and_reports_it_running(cluster):
    fake, runtime = cluster
    # GIVEN pods that become ready on the third look
    fake.pods("shop", "web", Pods(ready_after=3))
    # WHEN the workload is deployed
    ok, events = attempt(runtime, {"ports": [{"internal": 80}]})
    # THEN the deploy waited for them and reports the container running
    assert ok, events
    assert fake.reads[("shop", "web")] == 3
    assert states(events) == [("waiting", None), ("running", None)]
    assert any("waiting up to 120 s for its pod" in line for line in lines(events))
    assert any("rolled out" in line for line in lines(events))


@pytest.mark.parametrize("init", ["config-loader", "import", "migrate"])
def test_an_init_container_that_exits_non_zero_fails_the_deploy_with_its_last_lines(cluster, init):
    fake, runtime = cluster
    # GIVEN a pod whose init container (the config loader, the storage import or the config's own) exits 1
    output = "\n".join(f"line {n}" for n in range(30)) + "\nERROR : s3: AccessDenied\n"
    fake.pods("shop", "web", Pods(init_fails=(init, 1), log=output))
    # WHEN the workload is deployed
    ok, events = attempt(runtime, FILLED, storage=PRIVATE)
    # THEN the deploy fails naming the init container, its exit code and its last output lines
    assert not ok
    errors = lines(events, "error")
    assert errors[0] == f"web: init container {init} exited with code 1"
    assert errors[-1] == f"{init} | ERROR : s3: AccessDenied" and len(errors) == 11
    assert states(events)[-1] == ("waiting", f"init container {init} exited with code 1")
    assert fake.log_reads("shop", "web") == [(init, True)]  # the failed run, before the kubelet's retry


def test_an_init_failure_is_reported_without_its_log_where_the_agent_may_not_read_logs(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(init_fails=("migrate", 2), log=None))
    ok, events = attempt(runtime, FILLED, storage=PRIVATE)
    assert not ok
    assert lines(events, "error") == ["web: init container migrate exited with code 2"]


@pytest.mark.parametrize("container", ["web", "migrate"])
def test_an_image_that_cannot_be_pulled_fails_the_deploy(cluster, container):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(pull_fails=container))
    ok, events = attempt(runtime, FILLED, storage=PRIVATE)
    assert not ok
    [error] = lines(events, "error")
    said = 'ImagePullBackOff (Back-off pulling image "'
    assert error.startswith(f"web: init container {container}: {said}" if container == "migrate" else f"web: {said}")
    assert states(events)[-1][0] == "waiting" and "ImagePullBackOff" in states(events)[-1][1]


def test_a_crash_looping_container_fails_the_deploy_with_its_last_lines(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(crash=3, log="starting\npanic: DATABASE_URL is not set\n"))
    ok, events = attempt(runtime, {})
    assert not ok
    assert lines(events, "error") == [
        "web: CrashLoopBackOff: the container exited with code 3",
        "web | starting",
        "web | panic: DATABASE_URL is not set",
    ]
    assert states(events)[-1] == ("exited", "CrashLoopBackOff: the container exited with code 3")


PROBED = {
    "ports": [{"internal": 8080}],
    "healthCheckConfig": {"readinessProbe": "/ready"},
    "expectedState": {"state": "running", "timeout": 1},
}


def test_a_pod_that_never_becomes_ready_fails_the_deploy_at_the_expected_states_timeout(cluster):
    fake, runtime = cluster
    # GIVEN a pod whose readiness probe never passes
    fake.pods(
        "shop", "web", Pods(ready_after=None, warning="Readiness probe failed: HTTP probe failed with statuscode: 503")
    )
    # WHEN it is deployed with a timeout of 1 s
    began = time.monotonic()
    ok, events = attempt(runtime, PROBED)
    # THEN the deploy fails after 1 s with what the pod last showed
    assert not ok and 1 <= time.monotonic() - began < 3
    [error] = lines(events, "error")
    assert error.startswith("web: not available within 1 s: pod web-") and " is Running: " in error
    assert error.endswith(
        "container web running, not ready; last warning: Unhealthy: Readiness probe failed: "
        "HTTP probe failed with statuscode: 503"
    )
    assert states(events)[-1][0] == "waiting"
    # AND the cluster holds the Deployment to the same deadline
    assert fake.get("deployments", "shop", "web")["spec"]["progressDeadlineSeconds"] == 1


def test_a_pod_no_node_can_take_fails_the_deploy_at_the_timeout_with_the_schedulers_reason(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(unschedulable="0/3 nodes are available: 3 Insufficient memory."))
    ok, events = attempt(runtime, PROBED)
    assert not ok
    [error] = lines(events, "error")
    assert error.startswith("web: not available within 1 s: pod web-")
    assert error.endswith(" is Pending: PodScheduled Unschedulable: 0/3 nodes are available: 3 Insufficient memory.")


def test_a_deployment_the_controller_never_gets_to_times_out_saying_so(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(observed_after=1000))
    ok, events = attempt(runtime, PROBED)
    assert not ok
    assert lines(events, "error") == [
        "web: not available within 1 s: no pod of this deploy yet; "
        "the Deployment controller has not seen the new spec yet"
    ]


def test_a_rollout_past_its_progress_deadline_fails_at_once(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(ready_after=None, stalls=True))
    ok, events = attempt(runtime, {"expectedState": {"state": "running", "timeout": 60}})
    assert not ok
    [error] = lines(events, "error")
    assert error.startswith("web: the rollout exceeded its progress deadline (60 s): pod web-")


def test_a_redeploy_waits_for_the_new_generation_not_the_old_ready_pod(cluster):
    fake, runtime = cluster
    deploy(runtime, {"ports": [{"internal": 80}]})
    before = fake.reads[("shop", "web")]
    # GIVEN a controller that sees the new spec on the second look and a new pod ready two looks later,
    # while the previous deploy's pod stays ready (RollingUpdate)
    fake.pods("shop", "web", Pods(observed_after=2, ready_after=2))
    # WHEN it is deployed again
    events = deploy(runtime, {"ports": [{"internal": 80}]}, attempt=2)
    # THEN it is running only once the new pod is: the old one's availability did not count
    assert fake.reads[("shop", "web")] - before == 4
    assert states(events)[-1] == ("running", None)


def test_a_redeploy_whose_new_pod_fails_fails_although_the_old_pod_still_serves(cluster):
    fake, runtime = cluster
    deploy(runtime, {})
    fake.pods("shop", "web", Pods(crash=1))
    ok, events = attempt(runtime, {})
    assert not ok and states(events)[-1][0] == "exited"
    status = fake.get("deployments", "shop", "web")["status"]
    assert status["availableReplicas"] == 1 and status["replicas"] == 2  # the old pod, and the new one failing


def test_the_first_workload_that_fails_ends_the_deploy(cluster):
    fake, runtime = cluster
    fake.pods("shop", "web", Pods(pull_fails="web"))
    ok, events = attempt(runtime, {}, names=("web", "api"))
    assert not ok
    assert fake.names("deployments", "shop") == {"web"}  # api was never applied
    assert [e.instance_id for e in events if e.type == "container-state"] == ["i-web", "i-web"]


def test_an_expected_exited_state_is_refused_before_anything_is_applied(cluster):
    fake, runtime = cluster
    ok, events = attempt(runtime, {"expectedState": {"state": "exited", "exitCode": 0}})
    assert not ok
    [error] = lines(events, "error")
    assert "expectedState exited cannot be met on Kubernetes" in error
    assert fake.names("deployments", "shop") == set()


def test_a_redeploy_whose_new_pod_never_gets_ready_times_out_showing_the_new_pod_not_the_old(cluster):
    fake, runtime = cluster
    deploy(runtime, PROBED)
    # GIVEN the previous deploy's pod ready and serving, and a new pod whose readiness probe never passes
    fake.pods("shop", "web", Pods(ready_after=None))
    # WHEN it is deployed again THEN it fails at the timeout with the new pod's state
    ok, events = attempt(runtime, PROBED)
    assert not ok
    [error] = lines(events, "error")
    assert error.startswith("web: not available within 1 s: pod web-") and error.endswith(
        "container web running, not ready"
    )
    new_pod = [p["metadata"]["name"] for p, rollout in fake.pod_list("shop") if rollout]
    assert f"pod {new_pod[0]} is Running" in error


# --- a container's log and inspection ---------------------------------------------------------------


def test_the_log_is_the_pods_newest_lines_with_secret_values_masked(cluster):
    fake, runtime = cluster
    deploy(runtime, {"environment": [kv("MODE", "prod")], "secrets": [{"key": "PW", "value": "sealed"}]})
    # GIVEN the pod wrote lines, one holding the opened secret and one not valid UTF-8
    earlier = datetime.now(UTC) - timedelta(minutes=10)
    fake.write_log("shop", "web", "old line", at=earlier)
    fake.write_log("shop", "web", "starting", "password is opened-sealed", b"bad \xff byte")
    # WHEN the log is read THEN the lines come oldest first, timed, decoded, the secret masked
    log = runtime.container_log("shop", "web", 100, None)
    assert [line.text for line in log.lines] == ["old line", "starting", "password is ******", "bad \ufffd byte"]
    assert all(line.time and line.stream is None for line in log.lines) and not log.truncated
    assert "opened-sealed" not in log.model_dump_json()
    # tail and since are the API server's (and the agent's to the second)
    assert [line.text for line in runtime.container_log("shop", "web", 2, None).lines] == [
        "password is ******",
        "bad \ufffd byte",
    ]
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert len(runtime.container_log("shop", "web", 100, since).lines) == 3
    assert runtime.container_log("shop", "web", 100, datetime.now(UTC) + timedelta(hours=1)).lines == []


def test_a_stopped_or_waiting_container_has_an_empty_log_and_an_unknown_one_none(cluster):
    fake, runtime = cluster
    deploy(runtime, {})
    pod = fake.pod_of("shop", "web")
    pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
    assert runtime.container_log("shop", "web", 100, None).lines == []
    runtime.container_command("shop", "web", "stop")
    assert fake.pod_of("shop", "web") is None
    assert runtime.container_log("shop", "web", 100, None).lines == []
    with pytest.raises(ContainerNotFound):
        runtime.container_log("shop", "nope", 100, None)
    with pytest.raises(ContainerNotFound):
        runtime.inspect_container("elsewhere", "web")


def test_during_a_rollout_the_log_and_inspection_are_the_new_pods_not_the_old_one_still_serving(cluster):
    fake, runtime = cluster
    # GIVEN a deployed container whose pod wrote a line
    deploy(runtime, PROBED)
    serving = fake.pod_of("shop", "web")["metadata"]["name"]
    fake.write_log("shop", "web", "the old pod serves")
    assert [line.text for line in runtime.container_log("shop", "web", 100, None).lines] == ["the old pod serves"]
    # WHEN a redeploy's new pod never becomes ready, so the old one serves on (RollingUpdate)
    fake.pods("shop", "web", Pods(ready_after=None))
    ok, _ = attempt(runtime, PROBED)
    assert not ok
    assert {p["metadata"]["name"] for p, _ in fake.pod_list("shop")} == {
        serving,
        fake.pod_of("shop", "web")["metadata"]["name"],
    }
    fake.write_log("shop", "web", "the new pod waits for the database")
    # THEN the log and the inspection are the new pod's: what the container is now, and why it is not ready
    assert [line.text for line in runtime.container_log("shop", "web", 100, None).lines] == [
        "the new pod waits for the database"
    ]
    found = runtime.inspect_container("shop", "web")
    assert (found.state, found.status, found.health) == ("running", "running", "unhealthy")


def test_inspect_reads_the_deployment_its_pod_and_masks_the_secret_variables(cluster):
    fake, runtime = cluster
    deploy(
        runtime,
        {
            "environment": [kv("MODE", "prod")],
            "secrets": [{"key": "PW", "value": "sealed"}],
            "ports": [{"internal": 8080}],
            "volumes": [{"name": "data", "path": "/data", "type": "rwo"}],
            "healthCheckConfig": {"port": 8080, "readinessProbe": "/ready"},
        },
    )
    pod = fake.pod_of("shop", "web")
    pod["status"]["containerStatuses"][0]["restartCount"] = 3
    found = runtime.inspect_container("shop", "web")
    assert (found.prefix, found.name, found.state, found.status) == ("shop", "web", "running", "running")
    assert (found.image, found.restart_count, found.health) == ("img:1", 3, "healthy")
    assert found.image_id.startswith("img:1@sha256:") and found.started_at and found.created_at
    assert [p.internal for p in found.ports] == [8080]
    assert [(m.type, m.source, m.destination) for m in found.mounts] == [("persistentVolumeClaim", "web-data", "/data")]
    assert [(v.key, v.value, v.secret) for v in found.environment] == [("MODE", "prod", False), ("PW", "******", True)]
    assert found.labels["app"] == "web" and "opened-sealed" not in found.model_dump_json()
    # WHEN it is stopped THEN it is exited, scaled to 0, without a pod
    runtime.container_command("shop", "web", "stop")
    stopped = runtime.inspect_container("shop", "web")
    assert (stopped.state, stopped.status, stopped.health, stopped.restart_count) == ("exited", "scaled to 0", None, 0)
