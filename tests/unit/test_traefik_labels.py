"""The Traefik labels of an exposed container on Docker (agent/runtime/traefik.py), one rule at a time,
and the command of the agent's own Traefik (dyrector §6 item 11; dagent's traefik_test.go)."""

from __future__ import annotations

import pytest

from agent.runtime.docker_spec import DeployError
from agent.runtime.traefik import RoutingError, routing_labels, size_in_bytes, traefik_arguments


def labels(**given):
    inputs = {
        "prefix": "pre",
        "name": "name",
        "expose": "expose",
        "domain": None,
        "path": None,
        "strip_path": False,
        "upload_limit": None,
        "port": None,
        "internal_ports": [8888],
        "root_domain": "root.domain",
    }
    return routing_labels(**{**inputs, **given})


@pytest.mark.parametrize("expose", [None, "none"])
def test_a_container_that_is_not_exposed_gets_no_traefik_label(expose):
    assert labels(expose=expose, root_domain=None) == {}


def test_without_a_domain_the_host_is_name_prefix_root_domain_and_the_router_and_service_are_prefix_name():
    assert labels() == {
        "traefik.enable": "true",
        "traefik.http.routers.pre-name.rule": "Host(`name.pre.root.domain`)",
        "traefik.http.routers.pre-name.entrypoints": "web",
        "traefik.http.routers.pre-name.service": "pre-name",
        "traefik.http.services.pre-name.loadbalancer.server.port": "8888",
    }


def test_routing_domain_is_the_host_whatever_the_root_domain():
    for root in ("root.domain", None):
        assert labels(domain="shop.example.com", root_domain=root)["traefik.http.routers.pre-name.rule"] == (
            "Host(`shop.example.com`)"
        )


def test_a_path_adds_a_path_prefix_and_alone_is_a_rule_too():
    assert labels(path="/app")["traefik.http.routers.pre-name.rule"] == (
        "Host(`name.pre.root.domain`) && PathPrefix(`/app`)"
    )
    assert labels(path="app", root_domain=None)["traefik.http.routers.pre-name.rule"] == "PathPrefix(`/app`)"


def test_no_domain_no_root_domain_and_no_path_is_a_deployment_error_saying_what_to_set():
    with pytest.raises(RoutingError, match="routing.domain or routing.path, or ROOT_DOMAIN") as raised:
        labels(root_domain=None)
    assert isinstance(raised.value, DeployError)  # the deployment fails with it in its log


def test_strip_path_adds_a_stripprefix_middleware_on_the_router_only_with_a_path():
    got = labels(path="/app", strip_path=True)
    assert got["traefik.http.middlewares.pre-name-stripper.stripprefix.prefixes"] == "/app"
    assert got["traefik.http.routers.pre-name.middlewares"] == "pre-name-stripper"
    assert not any("middlewares" in key for key in labels(strip_path=True))


def test_routing_port_must_be_an_internal_port_and_becomes_the_service_port():
    got = labels(port=9090, internal_ports=[8080, 9090])
    assert got["traefik.http.services.pre-name.loadbalancer.server.port"] == "9090"
    with pytest.raises(RoutingError, match=r"routing.port 7070 is not one of the container's internal ports \(8080"):
        labels(port=7070, internal_ports=[8080, 9090])
    with pytest.raises(RoutingError, match=r"\(none\)"):
        labels(port=80, internal_ports=[])


def test_without_routing_port_the_first_internal_port_is_the_service_and_without_ports_traefik_picks():
    assert labels(internal_ports=[8080, 9090])["traefik.http.services.pre-name.loadbalancer.server.port"] == "8080"
    bare = labels(internal_ports=[])
    assert not any(".services." in key or key.endswith(".service") for key in bare)


@pytest.mark.parametrize(
    ("limit", "size"), [("16384", 16384), ("16k", 16384), ("16KB", 16384), ("1Mi", 1048576), ("2 g", 2 << 30)]
)
def test_upload_limit_caps_the_request_body_through_the_routers_own_middleware(limit, size):
    got = labels(upload_limit=limit)
    assert got["traefik.http.middlewares.pre-name-limit.buffering.maxRequestBodyBytes"] == str(size)
    assert got["traefik.http.routers.pre-name.middlewares"] == "pre-name-limit"
    assert size_in_bytes(limit) == size


@pytest.mark.parametrize("limit", ["lots", "16q", "-1", "1.5m"])
def test_an_upload_limit_that_is_no_size_is_a_deployment_error(limit):
    with pytest.raises(RoutingError, match="uploadLimit"):
        labels(upload_limit=limit)


def test_expose_with_tls_adds_a_secure_router_on_websecure_with_the_le_resolver_and_the_same_middlewares():
    got = labels(expose="exposeWithTls", path="/app", strip_path=True, upload_limit="16k")
    secure = {k.removeprefix("traefik.http.routers.pre-name-secure."): v for k, v in got.items() if "-secure." in k}
    assert secure == {
        "rule": "Host(`name.pre.root.domain`) && PathPrefix(`/app`)",
        "entrypoints": "websecure",
        "tls": "true",
        "tls.certresolver": "le",
        "middlewares": "pre-name-stripper,pre-name-limit",
        "service": "pre-name",
    }
    assert got["traefik.http.routers.pre-name.entrypoints"] == "web"  # plain HTTP stays routed, as on dagent


@pytest.mark.parametrize(("field", "value"), [("domain", "a`b.example"), ("path", "/a b"), ("domain", "x y")])
def test_values_that_would_break_out_of_a_rule_are_refused(field, value):
    with pytest.raises(RoutingError, match=f"routing.{field}"):
        labels(**{field: value})


def test_without_a_prefix_the_names_are_the_container_name():
    got = labels(prefix="")
    assert got["traefik.http.routers.name.rule"] == "Host(`name.root.domain`)"


def test_the_agents_own_traefik_watches_opted_in_containers_on_web_and_with_tls_adds_websecure_and_acme():
    plain = traefik_arguments(port=80, tls=False, tls_port=443, acme_email=None, log_level="INFO")
    assert plain == [
        "--providers.docker=true",
        "--providers.docker.exposedByDefault=false",
        "--entryPoints.web.address=:80",
        "--log.level=INFO",
    ]
    tls = traefik_arguments(port=8000, tls=True, tls_port=8443, acme_email="ops@example.com", log_level="DEBUG")
    assert tls[:4] == [*plain[:2], "--entryPoints.web.address=:8000", "--log.level=DEBUG"]
    assert tls[4:] == [
        "--entryPoints.websecure.address=:8443",
        "--certificatesResolvers.le.acme.httpChallenge.entryPoint=web",
        "--certificatesResolvers.le.acme.storage=/letsencrypt/acme.json",
        "--certificatesResolvers.le.acme.email=ops@example.com",
    ]
