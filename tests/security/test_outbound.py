"""SSRF and stored-credential tests against the running platform (security review F1, F4, F8, F9):
every request the platform makes to a user-given URL (registry checks, token realms, webhook tests)
goes through chalicelib/adapters/outbound.py, and these show what that holds from outside.

Two stacks: `refusing` runs with OUTBOUND_ALLOWED_NETWORKS=none (the AWS template's default), where
the loopback listeners stand in for internal services; `local` runs with `make run`'s default
(loopback allowed), where they stand in for a registry or receiver on this machine and for an
attacker's server (redirects, foreign token realms, slow and broken answers).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.fixtures.listeners import Answer, Listener, Seen
from tests.fixtures.local_stack import running_local_stack
from tests.security.conftest import signed_in

pytestmark = pytest.mark.timeout(300)

USER, SECRET = "ci", "S3CRET-registry-token"
BASIC = "Basic Y2k6UzNDUkVULXJlZ2lzdHJ5LXRva2Vu"  # ci:S3CRET-registry-token


@pytest.fixture(scope="module")
def refusing() -> Iterator[str]:
    with running_local_stack(env={"OUTBOUND_ALLOWED_NETWORKS": "none"}) as running:
        yield running.url


@pytest.fixture(scope="module")
def local() -> Iterator[str]:
    # An empty value counts as unset: infra/local.py then allows loopback, as `make run` does.
    with running_local_stack(env={"OUTBOUND_ALLOWED_NETWORKS": ""}) as running:
        yield running.url


def registry_body(url: str, token: str | None = SECRET, name: str | None = None, **details) -> dict:
    body = {"url": url, "user": USER, **details}
    if token:
        body["token"] = token
    return {"name": name or f"r-{uuid.uuid4().hex[:8]}", "type": "v2", "details": body}


def basic_registry(answers: dict[str, Answer] | None = None):
    """A registry that wants Basic ci:SECRET and then answers `answers` by path prefix (200 {} for /v2/)."""

    def script(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") != BASIC:
            return Answer(401, {"WWW-Authenticate": 'Basic realm="registry"'})
        for prefix, answer in (answers or {}).items():
            if seen.path.startswith(prefix):
                return answer
        return Answer(200, {"Content-Type": "application/json"}, b"{}")

    return script


def assert_clear_400(reply, prop: str) -> dict:
    assert reply.status_code == 400, (reply.status_code, reply.text)
    body = reply.json()
    assert body["message"] and body["property"] == prop, body
    return body


def webhook(api, slug: str, url: str, expect: int = 201):
    reply = api.call(
        "POST",
        f"/api/{slug}/notifications",
        {"type": "webhook", "name": f"n-{uuid.uuid4().hex[:8]}", "url": url, "enabledEvents": ["node-added"]},
    )
    assert reply.status_code == expect, reply.text
    return reply


# --- refused addresses: nothing leaves the platform ------------------------------------------------


def test_a_registry_at_a_refused_address_is_a_400_in_every_spelling_and_nothing_is_sent(refusing, listeners):
    # GIVEN an internal service on loopback and a platform that allows only public addresses
    internal: Listener = listeners()
    internal.on("/", Answer(200, {}, b"{}"))
    api, slug = signed_in(refusing)
    port = internal.port
    for url in (
        internal.url,
        f"http://2130706433:{port}",
        f"http://0x7f000001:{port}",
        f"http://127.1:{port}",
        f"http://localhost:{port}",
        "http://169.254.169.254",
    ):
        # WHEN a registry is created there THEN it is refused before any connection
        assert_clear_400(api.call("POST", f"/api/{slug}/registries", registry_body(url)), "details")
    assert internal.seen == []


def test_a_webhook_at_a_refused_address_is_refused_and_its_test_sends_nothing(refusing, listeners):
    internal: Listener = listeners()
    internal.on("/", Answer(204))
    api, slug = signed_in(refusing)
    # WHEN the URL is written as an address THEN create refuses it at once
    for url in (f"{internal.url}/hook", f"http://[::ffff:127.0.0.1]:{internal.port}/", "http://2130706433/"):
        assert_clear_400(webhook(api, slug, url, expect=400), "url")
    # WHEN it is a name that resolves to loopback THEN the test message is refused at delivery
    created = webhook(api, slug, f"http://localhost:{internal.port}/hook").json()
    assert_clear_400(api.call("POST", f"/api/{slug}/notifications/{created['id']}/test"), "url")
    assert internal.seen == []


def test_metadata_addresses_stay_refused_with_loopback_allowed(local, listeners):
    api, slug = signed_in(local)
    for url in ("http://169.254.169.254", "http://169.254.170.2", "http://10.0.0.1:5000"):
        assert_clear_400(api.call("POST", f"/api/{slug}/registries", registry_body(url)), "details")


# --- redirects and credentials ---------------------------------------------------------------------


def test_a_webhook_redirect_to_another_origin_does_not_repeat_the_post(local, listeners):
    # GIVEN an attacker's receiver that redirects to an internal service (another origin)
    attacker: Listener = listeners()
    internal: Listener = listeners()
    internal.on("/", Answer(204))
    attacker.on("/307", Answer(307, {"Location": f"{internal.url}/from-307"}))
    attacker.on("/302", Answer(302, {"Location": f"{internal.url}/from-302"}))
    attacker.on("/same", Answer(307, {"Location": "/final"}))
    attacker.on("/final", Answer(204))
    api, slug = signed_in(local)
    for path in ("/307", "/302"):
        created = webhook(api, slug, f"{attacker.url}{path}").json()
        # WHEN the test message is sent THEN it fails and the internal service sees nothing
        assert_clear_400(api.call("POST", f"/api/{slug}/notifications/{created['id']}/test"), "url")
    assert internal.seen == []
    # AND a redirect within the receiver's own origin still delivers (the body repeated there only)
    created = webhook(api, slug, f"{attacker.url}/same").json()
    assert api.call("POST", f"/api/{slug}/notifications/{created['id']}/test").status_code == 204
    final = [seen for seen in attacker.seen if seen.path == "/final"]
    assert len(final) == 1 and final[0].method == "POST" and json.loads(final[0].body)


def test_registry_credentials_do_not_follow_a_redirect_to_another_origin(local, listeners):
    registry: Listener = listeners()
    elsewhere: Listener = listeners()
    elsewhere.on("/", Answer(401, {"WWW-Authenticate": 'Basic realm="x"'}))
    registry.on("/v2/", basic_registry({"/v2/": Answer(307, {"Location": f"{elsewhere.url}/v2/"})}))
    api, slug = signed_in(local)
    assert_clear_400(api.call("POST", f"/api/{slug}/registries", registry_body(registry.url)), "details")
    assert elsewhere.seen and all("Authorization" not in seen.headers for seen in elsewhere.seen)


def test_a_token_realm_on_a_foreign_host_gets_no_credentials(local, listeners):
    # GIVEN a registry whose Bearer challenge names a realm on another host
    registry: Listener = listeners()
    realm: Listener = listeners()
    realm.on("/token", Answer(200, {"Content-Type": "application/json"}, b'{"token": "anonymous-token"}'))

    def challenge(seen: Seen) -> Answer:
        if seen.headers.get("Authorization") == "Bearer anonymous-token":
            return Answer(200, {"Content-Type": "application/json"}, b"{}")
        return Answer(401, {"WWW-Authenticate": f'Bearer realm="http://localhost:{realm.port}/token",service="r"'})

    registry.on("/v2/", challenge)
    api, slug = signed_in(local)
    # WHEN the registry is checked with its credentials
    api.call("POST", f"/api/{slug}/registries", registry_body(registry.url), expect=201)
    # THEN the foreign realm was asked without them
    assert [seen.path.split("?")[0] for seen in realm.seen] == ["/token"]
    assert "Authorization" not in realm.seen[0].headers
    assert all(SECRET not in json.dumps(seen.headers) for seen in realm.seen + registry.seen)


# --- slow, broken and odd answers: a clear 4xx in time, never a 500 --------------------------------


@pytest.mark.parametrize(
    "answer",
    [Answer(200, {}, b"{}", delay=20), Answer(200, {}, b"{" + b" " * 30 + b"}", drip=1)],
    ids=["silent", "drip"],
)
def test_a_slow_registry_gets_a_clear_400_within_the_deadline(local, listeners, answer):
    # GIVEN a registry that says nothing for 20 s, or drips its answer a byte a second (each read in time)
    slow: Listener = listeners()
    slow.on("/v2/", answer)
    api, slug = signed_in(local)
    started = time.monotonic()
    reply = api.call("POST", f"/api/{slug}/registries", registry_body(slow.url))
    # THEN one deadline ends the whole check: a clear 400 well inside API Gateway's 29 s
    assert_clear_400(reply, "details")
    assert time.monotonic() - started < 12


def test_odd_registry_answers_give_a_4xx_not_a_500(local, listeners):
    # GIVEN a registry that accepts the credentials and answers manifests with rubbish
    registry: Listener = listeners()
    registry.on(
        "/v2/",
        basic_registry(
            {
                "/v2/html/": Answer(200, {"Content-Type": "text/html"}, b"<html>hello</html>"),
                "/v2/list/": Answer(200, {"Content-Type": "application/json"}, b"[1, 2]"),
                "/v2/garbage/": Answer(200, {"Content-Type": "application/json"}, bytes(range(256))),
                "/v2/huge/": Answer(200, {"Content-Type": "application/json"}, b" " * (5 * 1024 * 1024)),
                "/v2/truncated/": Answer(
                    200, {"Content-Type": "application/json"}, b'{"config": {}}' * 10, truncate=True
                ),
                "/v2/badconfig/manifests/": Answer(200, {}, b'{"config": {"digest": "sha256:x"}}'),
                "/v2/badconfig/blobs/": Answer(200, {}, b'"just a string"'),
            }
        ),
    )
    api, slug = signed_in(local)
    registry_id = api.call("POST", f"/api/{slug}/registries", registry_body(registry.url), expect=201).json()["id"]
    project = api.call("POST", f"/api/{slug}/projects", {"type": "versioned", "name": "p"}, expect=201).json()
    version = api.call(
        "POST", f"/api/{slug}/projects/{project['id']}/versions", {"type": "incremental", "name": "1.0"}, expect=201
    ).json()
    images = f"/api/{slug}/projects/{project['id']}/versions/{version['id']}/images"
    for name in ("html", "list", "garbage", "huge", "truncated", "badconfig"):
        # WHEN an image is added from it THEN the answer is a clear 400
        reply = api.call("POST", images, [{"registryId": registry_id, "images": [f"{name}:1"]}])
        assert_clear_400(reply, "registryId")


def test_a_token_realm_answering_html_gives_a_400(local, listeners):
    registry: Listener = listeners()
    registry.on("/token", Answer(200, {"Content-Type": "text/html"}, b"<html>login</html>"))
    registry.on("/v2/", Answer(401, {"WWW-Authenticate": f'Bearer realm="{registry.url}/token"'}))
    api, slug = signed_in(local)
    assert_clear_400(api.call("POST", f"/api/{slug}/registries", registry_body(registry.url)), "details")


def test_closed_port_and_wrong_answers_read_the_same(local, listeners):
    # GIVEN a service that answers 500, and a port nobody listens on
    other: Listener = listeners()
    other.on("/", Answer(500))
    api, slug = signed_in(local)
    closed_url = f"http://127.0.0.1:{_closed_port()}"
    messages = {}
    for label, url in (("closed", closed_url), ("500", other.url)):
        body = assert_clear_400(api.call("POST", f"/api/{slug}/registries", registry_body(url)), "details")
        messages[label] = body["message"].replace(url, "URL")
    # THEN the messages differ only in the URL the user gave (no port/status oracle)
    assert messages["closed"] == messages["500"]


# --- stored secrets stay with their host (F4) ------------------------------------------------------


def test_the_stored_token_is_not_sent_to_a_changed_url(local, listeners):
    # GIVEN a registry created with its token
    registry: Listener = listeners()
    registry.on("/", basic_registry())
    attacker: Listener = listeners()
    attacker.on("/", Answer(401, {"WWW-Authenticate": 'Basic realm="give me"'}))
    api, slug = signed_in(local)
    created = api.call("POST", f"/api/{slug}/registries", registry_body(registry.url), expect=201).json()
    path = f"/api/{slug}/registries/{created['id']}"
    # WHEN its URL (or type) changes without the token THEN the token is asked for again
    for moved in (
        registry_body(attacker.url, token=None, name=created["name"]),
        registry_body(f"http://localhost:{registry.port}/elsewhere", token=None, name=created["name"]),
        {**registry_body(attacker.url, token=None, name=created["name"]), "type": "unchecked"},
    ):
        assert_clear_400(api.call("PUT", path, moved), "details.token")
    assert attacker.seen == []
    assert all(seen.path.startswith("/v2/") for seen in registry.seen)
    # AND with the same URL and user the stored token is still kept
    before = len(registry.seen)
    api.call("PUT", path, registry_body(registry.url, token=None, name=created["name"]), expect=204)
    assert any(seen.headers.get("Authorization") == BASIC for seen in registry.seen[before:])


def _closed_port() -> int:
    from tests.fixtures.local_stack import free_port

    return free_port()


# --- TLS to the pinned address keeps verifying the name ------------------------------------------


@pytest.fixture()
def tls_listener(tmp_path, monkeypatch):
    """An HTTPS server on 127.0.0.1 whose self-signed certificate names `localhost`, trusted as the
    only CA (certifi's bundle swapped for it); returns its port."""
    import datetime
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import certifi
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.handle_error = lambda *args: None
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    monkeypatch.setenv("OUTBOUND_ALLOWED_NETWORKS", "127.0.0.0/8")
    original = certifi.where
    yield server.server_address[1], lambda: monkeypatch.setattr(certifi, "where", lambda: str(cert_path))
    monkeypatch.setattr(certifi, "where", original)
    server.shutdown()
    server.server_close()


def test_https_to_the_vetted_address_verifies_the_certificate_against_the_name(tls_listener):
    from chalicelib.adapters import outbound

    port, trust = tls_listener
    # GIVEN a certificate no trusted CA signed THEN the request fails
    with pytest.raises(outbound.Unreachable):
        outbound.request("GET", f"https://localhost:{port}/")
    # WHEN it is trusted THEN the name it was issued for works, though the connection goes to the vetted IP
    trust()
    assert outbound.request("GET", f"https://localhost:{port}/").body == b"ok"
    # AND the same server reached by a name the certificate does not carry is refused
    with pytest.raises(outbound.Unreachable):
        outbound.request("GET", f"https://127.0.0.1:{port}/")
