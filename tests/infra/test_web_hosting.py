"""The web console on AWS (infra/web_hosting.py): the CloudFront function that keeps client-side
routes working, and the upload of web/dist with the cache headers the distribution relies on.
What the packaged template holds is checked in test_template.py (it needs `chalice package`)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from infra import web_hosting
from tests.infra.conftest import unique_prefix


@pytest.mark.skipif(not shutil.which("node"), reason="node is not installed (.ci/run installs it)")
def test_the_cloudfront_function_gives_screens_the_page_and_files_themselves():
    # GIVEN the viewer-request function, run by node as CloudFront's JavaScript runtime would call it
    uris = ["/", "/login", "/acme/nodes", "/acme/nodes/", "/acme/nodes/0b6f", "/assets/app-X1.js", "/favicon.svg"]
    script = web_hosting.REWRITE_FUNCTION + (
        f"console.log(JSON.stringify({json.dumps(uris)}.map((uri) => handler({{request: {{uri}}}}).uri)));"
    )

    # WHEN each address is requested
    ran = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)

    # THEN addresses of screens become /index.html and files stay what they are
    assert dict(zip(uris, json.loads(ran.stdout), strict=True)) == {
        "/": "/index.html",
        "/login": "/index.html",
        "/acme/nodes": "/index.html",
        "/acme/nodes/": "/index.html",
        "/acme/nodes/0b6f": "/index.html",
        "/assets/app-X1.js": "/assets/app-X1.js",
        "/favicon.svg": "/favicon.svg",
    }


def test_upload_puts_the_build_with_types_and_cache_headers(aws, tmp_path):
    # GIVEN a built console and its bucket
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "app-X1.js").write_text("export {}")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    s3 = aws("s3")
    bucket = unique_prefix("web")
    s3.create_bucket(Bucket=bucket)

    # WHEN it is uploaded
    keys = web_hosting.upload(bucket, tmp_path, s3=s3)

    # THEN the page goes last, hashed assets are cached for good and the rest is revalidated
    assert keys[-1] == "index.html" and set(keys) == {"index.html", "assets/app-X1.js", "favicon.svg"}
    page = s3.head_object(Bucket=bucket, Key="index.html")
    assert page["ContentType"] == "text/html; charset=utf-8" and page["CacheControl"] == "no-cache"
    script = s3.head_object(Bucket=bucket, Key="assets/app-X1.js")
    assert script["ContentType"] == "text/javascript; charset=utf-8"
    assert script["CacheControl"] == "public, max-age=31536000, immutable"
    assert s3.head_object(Bucket=bucket, Key="favicon.svg")["ContentType"] == "image/svg+xml"


def test_upload_refuses_an_unbuilt_console(tmp_path):
    with pytest.raises(SystemExit, match="make web"):
        web_hosting.upload("any-bucket", tmp_path, s3=object())
