"""The outbound guard's pure parts: which addresses may be reached (in every spelling), what a
redirect may carry, and where a registry's credentials may go. No request leaves the machine."""

from __future__ import annotations

import ipaddress

import pytest

from chalicelib.adapters import outbound
from chalicelib.adapters.registry_v2 import RegistryClient
from chalicelib.services.registries import auth_hosts

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
EVERYTHING = [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]

REFUSED_SPELLINGS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hex
    "0177.0.0.1",  # octal
    "127.1",  # short form
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped IPv6
    "::ffff:7f00:1",
    "64:ff9b::7f00:1",  # NAT64 of loopback
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "169.254.169.254",  # instance metadata
    "169.254.170.2",  # ECS task metadata
    "fd00:ec2::254",  # EC2 metadata over IPv6
    "fe80::1",
    "fc00::1",  # unique local
    "224.0.0.1",  # multicast
    "ff02::1",
    "0.0.0.0",
    "0",
    "::",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
]


@pytest.mark.parametrize("host", REFUSED_SPELLINGS)
def test_every_spelling_of_a_non_public_address_is_refused(host):
    address = outbound.literal_address(host)
    assert address is not None, host
    assert outbound.is_refused(address)


@pytest.mark.parametrize("host", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(host):
    assert not outbound.is_refused(outbound.literal_address(host))


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "127.1", "::1", "::ffff:127.0.0.1"])
def test_allowed_networks_let_loopback_through_in_every_spelling(host):
    assert not outbound.is_refused(outbound.literal_address(host), LOOPBACK)
    assert outbound.is_refused(outbound.literal_address("10.0.0.1"), LOOPBACK)


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "169.254.0.1", "fd00:ec2::254", "fe80::1", "::ffff:169.254.169.254", "0.0.0.0"]
)
def test_link_local_and_unspecified_stay_refused_whatever_is_allowed(host):
    assert outbound.is_refused(outbound.literal_address(host), EVERYTHING)


def test_names_are_not_literal_addresses():
    assert outbound.literal_address("registry.example.com") is None


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("none", []),
        ("", []),
        ("10.0.0.0/16, ::1/128", ["10.0.0.0/16", "::1/128"]),
        ("127.0.0.1", ["127.0.0.1/32"]),
        ("10.0.0.0/8,not-a-network", ["10.0.0.0/8"]),  # a typo is ignored (and logged), never a 500
    ],
)
def test_allowed_networks_setting(monkeypatch, setting, expected):
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", setting)
    assert [str(net) for net in outbound.allowed_networks()] == expected


@pytest.mark.parametrize(
    "url", ["http://2130706433/", "http://0x7f000001:5000/v2/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/"]
)
def test_resolve_refuses_before_connecting(monkeypatch, url):
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "none")
    with pytest.raises(outbound.Refused):
        outbound.resolve(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/", "http:///x"])
def test_resolve_refuses_other_schemes_and_userinfo(url):
    with pytest.raises(outbound.Refused):
        outbound.resolve(url)


def test_deeply_nested_json_is_a_bad_answer_not_a_crash():
    reply = outbound.Reply(200, {}, b"[" * 100_000, "http://r.example/")
    with pytest.raises(outbound.Unreachable):
        reply.json()


def test_a_post_is_never_redirected_to_another_origin():
    for status in (301, 302, 303, 307, 308):
        with pytest.raises(outbound.Refused):
            outbound.next_hop("POST", {}, b"{}", "https://hooks.example.com/a", "https://other.example.com/b", status)


def test_a_post_redirected_within_its_origin_keeps_its_body_only_for_307_and_308():
    headers = {"Content-Type": "application/json"}
    assert outbound.next_hop("POST", headers, b"{}", "http://a.example/x", "http://a.example/y", 307) == (
        "POST",
        headers,
        b"{}",
    )
    method, moved, body = outbound.next_hop("POST", headers, b"{}", "http://a.example/x", "http://a.example/y", 303)
    assert (method, moved, body) == ("GET", {}, None)


def test_credentials_do_not_cross_origins_on_redirect():
    headers = {"Authorization": "Basic c2VjcmV0", "Accept": "x"}
    _, same, _ = outbound.next_hop("GET", headers, None, "https://r.example/v2/", "https://r.example/v2/x", 307)
    assert same["Authorization"] == "Basic c2VjcmV0"
    for target in ("https://cdn.example/blob", "http://r.example/v2/x", "https://r.example:444/v2/x"):
        _, moved, _ = outbound.next_hop("GET", headers, None, "https://r.example/v2/", target, 302)
        assert moved == {"Accept": "x"}, target


def test_realm_credentials_go_only_to_the_registry_or_its_documented_auth_host():
    hub = RegistryClient("registry-1.docker.io", "u", "p", auth_hosts=auth_hosts("hub", {}))
    assert hub.may_authenticate("https://auth.docker.io/token")
    assert not hub.may_authenticate("http://auth.docker.io/token")  # never in clear to another host
    assert not hub.may_authenticate("https://evil.example/token")
    own = RegistryClient("https://registry.example.com", "u", "p")
    assert own.may_authenticate("https://registry.example.com/token")
    assert not own.may_authenticate("https://auth.docker.io/token")
    assert not own.may_authenticate("https://127.0.0.1/token")


@pytest.mark.parametrize(
    ("kind", "details", "hosts"),
    [
        ("hub", {}, {"auth.docker.io"}),
        ("github", {}, {"ghcr.io"}),
        ("gitlab", {}, {"gitlab.com"}),
        ("gitlab", {"url": "registry.git.example.com", "apiUrl": "https://git.example.com"}, {"git.example.com"}),
        ("google", {"url": "europe-docker.pkg.dev"}, {"europe-docker.pkg.dev"}),
        ("google", {"url": "evil.example"}, set()),
        ("v2", {"url": "https://registry.example.com"}, set()),
    ],
)
def test_auth_hosts_per_registry_type(kind, details, hosts):
    assert auth_hosts(kind, details) == hosts


@pytest.mark.parametrize(
    ("link", "following"),
    [
        ('</v2/_catalog?last=acme%2Fweb&n=100>; rel="next"', "/v2/_catalog?last=acme%2Fweb&n=100"),
        ("<https://registry.example.com/v2/acme/web/tags/list?last=9>; rel=next", "/v2/acme/web/tags/list?last=9"),
        ('<https://elsewhere.example/v2/_catalog?last=x>; rel="next"', None),  # credentials stay with the registry
        ('</v2/_catalog?last=x>; rel="prev"', None),
        ("", None),
    ],
)
def test_registry_lists_follow_next_links_on_the_registry_only(link, following):
    client = RegistryClient("https://registry.example.com", "u", "p")
    reply = outbound.Reply(200, {"link": link} if link else {}, b"{}", "https://registry.example.com/v2/_catalog")
    assert client._next_page(reply) == following
