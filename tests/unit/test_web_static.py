"""How `make run` answers outside /api (infra/web_static.py): the console's files, its page for
every screen address, 404 for a missing file, and /api never shadowed."""

from __future__ import annotations

import pytest

from infra import web_static


@pytest.fixture()
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "app-ABC123.js").write_text("export {}")
    (tmp_path / "assets" / "app-ABC123.css").write_text("body{}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("outside the console")
    return tmp_path


@pytest.mark.parametrize("target", ["/api", "/api/", "/api/health", "/api/acme/nodes?take=1"])
def test_the_api_keeps_every_path_under_api(target):
    assert web_static.is_api(target)


@pytest.mark.parametrize("target", ["/", "/apix", "/acme/api", "/assets/app.js", "/teams?x=/api/"])
def test_everything_else_is_the_consoles(target):
    assert not web_static.is_api(target)


def test_the_root_is_the_page_revalidated_on_every_load_with_a_strict_policy(dist, monkeypatch):
    monkeypatch.setenv("SOCKET_URL", "ws://127.0.0.1:8001/api")
    reply = web_static.reply_for("/", dist)
    assert reply.status == 200 and b"<title>console</title>" in reply.body
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert reply.headers["Cache-Control"] == "no-cache"
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "connect-src 'self' ws://127.0.0.1:8001;" in policy  # live events: the WebSocket API's origin only
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("target", ["/login", "/teams", "/acme/dashboard", "/acme/nodes/0b6f?tab=logs", "/acme/nodes/"])
def test_a_screen_address_gets_the_page(dist, target):
    reply = web_static.reply_for(target, dist)
    assert reply.status == 200 and b"<title>console</title>" in reply.body


def test_hashed_assets_are_cached_for_good_with_their_type(dist):
    script = web_static.reply_for("/assets/app-ABC123.js", dist)
    assert script.status == 200 and script.body == b"export {}"
    assert script.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert web_static.reply_for("/assets/app-ABC123.css", dist).headers["Content-Type"].startswith("text/css")
    icon = web_static.reply_for("/favicon.svg", dist)
    assert icon.headers["Content-Type"] == "image/svg+xml" and icon.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("target", ["/assets/app-OLD.js", "/robots.txt", "/acme/x.png"])
def test_a_missing_file_is_a_404_not_the_page(dist, target):
    reply = web_static.reply_for(target, dist)
    assert reply.status == 404 and b"console" not in reply.body


OUTSIDE = [
    "/../secret.txt",
    "/assets/../../secret.txt",
    "/%2e%2e/secret.txt",
    "/assets/%2E%2E/%2E%2E/secret.txt",
    "/a%00b",
]


@pytest.mark.parametrize("target", OUTSIDE)
def test_nothing_outside_the_build_is_served(dist, target):
    reply = web_static.reply_for(target, dist)
    assert b"outside the console" not in reply.body
    assert reply.status == 404


def test_an_unbuilt_console_says_how_to_build_it(tmp_path):
    reply = web_static.reply_for("/", tmp_path)
    assert reply.status == 503 and b"make web" in reply.body
