"""Exposed containers on Docker reached through a real Traefik (dyrector §6 item 11): the labels the agent
writes route a request with the right Host header and path to the deployed container, across redeploys;
with `TRAEFIK_ENABLED` the agent runs that Traefik itself."""

from __future__ import annotations

import uuid

import pytest

from agent.runtime.docker import DockerRuntime
from agent.runtime.docker_traefik import CONFIG_LABEL, ensure_traefik
from agent.settings import DockerSettings, TraefikSettings
from tests.agent.test_docker_deploy import command, log_lines, workload
from tests.fixtures.node_tools import free_port, http_get
from tests.fixtures.waiting import wait_for

pytestmark = pytest.mark.agent

ROOT_DOMAIN = "nodes.test"
# busybox httpd serving "<greeting>" at / and "api <greeting>" at /v1/ from two ports.
SITE = (
    'mkdir -p /www/v1 && echo "$GREETING" > /www/index.html && echo "api $GREETING" > /www/v1/index.html '
    "&& httpd -p 9090 -h /www && exec httpd -f -p 8080 -h /www"
)


def site(image: str, greeting: str, **config):
    return workload(
        image,
        "web",
        ["sh", "-c", SITE],
        environment=[{"key": "GREETING", "value": greeting}],
        ports=[{"internal": 8080}, {"internal": 9090}],
        **config,
    )


def deploy(docker_client, request, settings=None):
    events: list = []
    ok = DockerRuntime(docker_client, settings or DockerSettings(root_domain=ROOT_DOMAIN)).deploy(
        request, events.extend, lambda sealed: sealed
    )
    return ok, events


def answers(port: int, host: str, path: str, body: str) -> bool:
    return http_get(f"http://127.0.0.1:{port}{path}", host=host) == (200, body + "\n")


@pytest.mark.timeout(180)
def test_a_request_with_the_host_and_path_reaches_the_container_through_traefik_and_survives_a_redeploy(
    docker_client, busybox_image, prefix, host_traefik
):
    # GIVEN an exposed container routed on <name>.<prefix>.<ROOT_DOMAIN> under /shop, the prefix stripped
    host = f"web.{prefix}.{ROOT_DOMAIN}"
    routing = {"path": "/shop", "stripPath": True, "uploadLimit": "1m"}
    ok, events = deploy(docker_client, command(prefix, site(busybox_image, "hello", expose="expose", routing=routing)))
    assert ok, log_lines(events)
    labels = docker_client.containers.get(f"{prefix}-web").labels
    assert labels[f"traefik.http.routers.{prefix}-web.rule"] == f"Host(`{host}`) && PathPrefix(`/shop`)"
    # WHEN a client asks Traefik for that host and path THEN the container answers (the path stripped)
    assert wait_for(lambda: answers(host_traefik, host, "/shop/", "hello"), 30, "traefik never routed to it")
    # and nothing else is routed there: another host, or the path outside the prefix
    assert http_get(f"http://127.0.0.1:{host_traefik}/shop/", host=f"other.{prefix}.{ROOT_DOMAIN}")[0] == 404
    assert http_get(f"http://127.0.0.1:{host_traefik}/", host=host)[0] == 404

    # WHEN it is redeployed (the container is replaced) THEN the new one is reachable the same way
    first = docker_client.containers.get(f"{prefix}-web").id
    ok, events = deploy(docker_client, command(prefix, site(busybox_image, "again", expose="expose", routing=routing)))
    assert ok, log_lines(events)
    assert docker_client.containers.get(f"{prefix}-web").id != first
    assert wait_for(
        lambda: answers(host_traefik, host, "/shop/", "again"), 30, "the redeployed container is not routed"
    )


@pytest.mark.timeout(180)
def test_routing_domain_and_port_pick_the_host_and_the_containers_port(
    docker_client, busybox_image, prefix, host_traefik
):
    domain = f"api-{prefix}.example.test"
    routing = {"domain": domain, "port": 9090}
    ok, events = deploy(docker_client, command(prefix, site(busybox_image, "v1", expose="expose", routing=routing)))
    assert ok, log_lines(events)
    assert wait_for(lambda: answers(host_traefik, domain, "/v1/", "api v1"), 30, "traefik never routed to port 9090")
    assert http_get(f"http://127.0.0.1:{host_traefik}/v1/", host=f"web.{prefix}.{ROOT_DOMAIN}")[0] == 404


@pytest.mark.parametrize(
    ("routing", "root_domain", "expected"),
    [
        ({}, None, "exposing the container needs a routing rule: set routing.domain or routing.path, or ROOT_DOMAIN"),
        ({"port": 7070}, ROOT_DOMAIN, "routing.port 7070 is not one of the container's internal ports (8080, 9090)"),
    ],
)
def test_an_exposed_container_that_cannot_be_routed_fails_the_deployment_before_it_is_created(
    docker_client, busybox_image, prefix, routing, root_domain, expected
):
    request = command(prefix, site(busybox_image, "x", expose="exposeWithTls", routing=routing))
    ok, events = deploy(docker_client, request, DockerSettings(root_domain=root_domain))
    assert not ok
    assert f"web: {expected}" in log_lines(events)
    assert docker_client.containers.list(all=True, filters={"name": f"{prefix}-web"}) == []


@pytest.fixture()
def own_traefik(docker_client, traefik_image):
    """The settings of an agent with TRAEFIK_ENABLED (a local Traefik image, a free port, its own name)."""
    settings = TraefikSettings(
        enabled=True, image=traefik_image, port=free_port(), container_name=f"traefik-{uuid.uuid4().hex[:8]}"
    )
    yield settings
    for container in docker_client.containers.list(all=True, filters={"name": settings.container_name}):
        container.remove(force=True)


@pytest.mark.timeout(240)
def test_with_traefik_enabled_the_agent_runs_its_own_traefik_on_the_host_network_and_routes_through_it(
    docker_client, busybox_image, prefix, own_traefik
):
    # WHEN the agent starts with TRAEFIK_ENABLED
    traefik = ensure_traefik(docker_client, own_traefik)
    traefik.reload()
    assert traefik.status == "running" and traefik.attrs["HostConfig"]["NetworkMode"] == "host"
    assert traefik.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert "--providers.docker.exposedByDefault=false" in traefik.attrs["Args"]
    # THEN an exposed deployment is reachable through it
    host = f"web.{prefix}.{ROOT_DOMAIN}"
    settings = DockerSettings(root_domain=ROOT_DOMAIN, traefik=own_traefik)
    ok, events = deploy(docker_client, command(prefix, site(busybox_image, "own", expose="expose")), settings)
    assert ok, log_lines(events)
    assert wait_for(lambda: answers(own_traefik.port, host, "/", "own"), 60, "the agent's traefik never routed")

    # A restarted agent keeps the running Traefik; other settings replace it.
    assert ensure_traefik(docker_client, own_traefik).id == traefik.id
    moved = TraefikSettings(**{**own_traefik.__dict__, "port": free_port()})
    replaced = ensure_traefik(docker_client, moved)
    assert replaced.id != traefik.id and replaced.labels[CONFIG_LABEL] != traefik.labels[CONFIG_LABEL]
    assert wait_for(lambda: answers(moved.port, host, "/", "own"), 60, "the replaced traefik never routed")
