"""The local WebSocket gateway: a Chalice app's websocket handlers served as API Gateway + Lambda
would, over loopback, with a real `websockets` client and a real boto3 `apigatewaymanagementapi`."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from chalice import Chalice
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from infra.ws_gateway import Limits, WebSocketGateway, _fragments

TOKEN = "letmein"
REGION = "us-east-1"

app = Chalice(app_name="wsgwtest")
# What an app does on Lambda too: the session its management client is built from.
app.websocket_api.session = boto3.session.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
)

_events: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
_changed = threading.Condition()


def _record(kind: str, event: Any) -> None:
    with _changed:
        _events[(kind, event.connection_id)].append(event.to_dict())
        _changed.notify_all()


@app.on_ws_connect()
def ws_connect(event):
    _record("connect", event)
    token = event.to_dict()["headers"].get("x-token")
    if token == "boom":
        raise RuntimeError("connect handler failed")
    if token != TOKEN:
        return {"statusCode": 403}
    picked = event.to_dict()["headers"].get("x-pick-subprotocol")  # what the test asks $connect to select
    return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": picked}} if picked else {"statusCode": 200}


@app.on_ws_message()
def ws_message(event):
    _record("message", event)
    body = event.body
    if body == "whoami":
        app.websocket_api.send(event.connection_id, event.connection_id)
    elif body == "fail":
        raise RuntimeError("message handler failed")
    elif body == "info":
        info = app.websocket_api.info(event.connection_id)
        app.websocket_api.send(event.connection_id, json.dumps({"SourceIp": info["Identity"]["SourceIp"]}))
    elif body == "close-me":
        app.websocket_api.close(event.connection_id)
    else:
        if body.startswith("slow:"):
            time.sleep(float(body.split(":")[1]))
        app.websocket_api.send(event.connection_id, "echo:" + body)


@app.on_ws_disconnect()
def ws_disconnect(event):
    _record("disconnect", event)


# Key names of API Gateway's WebSocket events as captured from AWS (the sample events of
# aws-powertools/powertools-lambda-python tests/events/apiGatewayWebSocketApi{Connect,Message,Disconnect}.json).
SAMPLE_CONTEXT = {
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
}
SAMPLE_CONNECT = {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"}
SAMPLE_CONNECT_QUERY = {"queryStringParameters", "multiValueQueryStringParameters"}  # only with a query string
SAMPLE_MESSAGE = {"requestContext", "body", "isBase64Encoded"}
SAMPLE_DISCONNECT = {"headers", "multiValueHeaders", "requestContext", "isBase64Encoded"}
SAMPLE_DISCONNECT_HEADERS = {"Host", "x-api-key", "X-Forwarded-For", "x-restapi"}


def wait_events(kind: str, connection_id: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    with _changed:
        while len(_events[(kind, connection_id)]) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} event for {connection_id} within {timeout}s")
            _changed.wait(left)
        return list(_events[(kind, connection_id)])


@pytest.fixture
def start_gateway() -> Iterator[Callable[..., WebSocketGateway]]:
    started: list[WebSocketGateway] = []

    def start(**kwargs: Any) -> WebSocketGateway:
        gateway = WebSocketGateway(app, stage="dev", region=REGION, workers=4, **kwargs)
        gateway.start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(start_gateway) -> WebSocketGateway:
    return start_gateway()


def client(
    gateway: WebSocketGateway, token: str | None = TOKEN, query: str = "", pick: str | None = None, **kwargs: Any
) -> ClientConnection:
    """A connection; `pick`: the subprotocol the test app's $connect is to select."""
    headers = {"x-token": token} if token else {}
    if pick:
        headers["x-pick-subprotocol"] = pick
    return connect(
        gateway.url + query,
        additional_headers=headers,
        open_timeout=5,
        close_timeout=2,
        user_agent_header="wsgw-test/1",
        **kwargs,
    )


def management(gateway: WebSocketGateway) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client("apigatewaymanagementapi", endpoint_url=gateway.management_url)


def whoami(ws: ClientConnection) -> str:
    ws.send("whoami")
    return str(ws.recv(timeout=5))


def closed_with(ws: ClientConnection, timeout: float = 5.0) -> tuple[int | None, str | None]:
    """Wait for the server to close `ws`; its close code and reason."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            ws.recv(timeout=max(0.01, deadline - time.monotonic()))
    frame = closed.value.rcvd
    return (frame.code, frame.reason) if frame else (None, None)


@pytest.mark.timeout(30)
def test_connect_handler_rejects_the_handshake(gateway):
    with pytest.raises(InvalidStatus) as rejected:
        client(gateway, token=None)
    assert rejected.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as failed:
        client(gateway, token="boom")
    assert failed.value.response.status_code == 502  # a failed Lambda integration
    with pytest.raises(InvalidStatus) as wrong_stage:
        connect(gateway.url.replace("/dev", "/prod"), additional_headers={"x-token": TOKEN}, open_timeout=5)
    assert wrong_stage.value.response.status_code == 403
    assert gateway.stats()["rejected_total"] == 2


@pytest.mark.timeout(30)
def test_echo_and_events_in_api_gateways_shape(gateway):
    with client(gateway, query="?agent=a1&agent=a2&x=") as ws:
        connection_id = whoami(ws)
        ws.send("hello")
        assert ws.recv(timeout=5) == "echo:hello"
        ws.close(1000, "bye")
    [connected] = wait_events("connect", connection_id)
    [disconnected] = wait_events("disconnect", connection_id)
    messages = wait_events("message", connection_id, 2)

    assert set(connected) == SAMPLE_CONNECT | SAMPLE_CONNECT_QUERY
    assert set(connected["requestContext"]) == SAMPLE_CONTEXT
    context = connected["requestContext"]
    assert (context["routeKey"], context["eventType"], context["messageDirection"]) == ("$connect", "CONNECT", "IN")
    assert context["stage"] == "dev" and context["identity"] == {"sourceIp": "127.0.0.1"}
    assert isinstance(context["connectedAt"], int) and context["requestTimeEpoch"] >= context["connectedAt"]
    assert connected["headers"]["x-token"] == TOKEN and connected["multiValueHeaders"]["x-token"] == [TOKEN]
    assert connected["queryStringParameters"] == {"agent": "a2", "x": ""}
    assert connected["multiValueQueryStringParameters"] == {"agent": ["a1", "a2"], "x": [""]}

    message = messages[1]
    assert set(message) == SAMPLE_MESSAGE
    assert set(message["requestContext"]) == SAMPLE_CONTEXT | {"messageId"}
    assert message["body"] == "hello" and message["isBase64Encoded"] is False
    assert (message["requestContext"]["routeKey"], message["requestContext"]["eventType"]) == ("$default", "MESSAGE")
    assert message["requestContext"]["connectedAt"] == context["connectedAt"]

    assert set(disconnected) == SAMPLE_DISCONNECT
    assert set(disconnected["headers"]) == SAMPLE_DISCONNECT_HEADERS
    assert set(disconnected["requestContext"]) == SAMPLE_CONTEXT | {"disconnectStatusCode", "disconnectReason"}
    assert disconnected["requestContext"]["eventType"] == "DISCONNECT"
    assert (
        disconnected["requestContext"]["disconnectStatusCode"],
        disconnected["requestContext"]["disconnectReason"],
    ) == (1000, "bye")


def raw_handshake(gateway: WebSocketGateway, *headers: str) -> str:
    """The status line and headers a hand-written upgrade request gets (for what clients refuse to send)."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = ["GET /dev HTTP/1.1", "Host: gw", "Upgrade: websocket", "Connection: Upgrade", *headers]
    if not any(h.lower().startswith("sec-websocket-key") for h in headers):
        lines.append(f"Sec-WebSocket-Key: {key}")
    with socket.create_connection((gateway.host, gateway.ports.websocket), timeout=5) as raw:
        raw.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = raw.recv(4096)
            if not chunk:
                break
            head += chunk
    return head.decode("latin-1").split("\r\n\r\n")[0]


def connect_events() -> int:
    with _changed:
        return sum(len(events) for (kind, _), events in _events.items() if kind == "connect")


@pytest.mark.timeout(30)
def test_subprotocols_are_offered_to_connect_and_only_its_answer_selects_one(gateway):
    # GIVEN a client offering two subprotocols WHEN $connect names one THEN the handshake selects it
    offer = ["bearer", "eyJhbGciOi.J9.x-y_z"]
    with client(gateway, subprotocols=offer, pick="bearer") as ws:
        assert ws.subprotocol == "bearer"
        connection_id = whoami(ws)
    [connected] = wait_events("connect", connection_id)
    assert connected["headers"]["Sec-WebSocket-Protocol"] == "bearer, eyJhbGciOi.J9.x-y_z"  # as sent
    assert connected["multiValueHeaders"]["Sec-WebSocket-Protocol"] == ["bearer, eyJhbGciOi.J9.x-y_z"]

    # WHEN $connect names none THEN none is selected (API Gateway's behaviour: a browser then gives up)
    with client(gateway, subprotocols=offer) as ws:
        assert ws.subprotocol is None and "Sec-WebSocket-Protocol" not in ws.response.headers

    # An offer the WebSocket library would refuse to parse is still $connect's to judge
    answer = raw_handshake(
        gateway, "Sec-WebSocket-Version: 13", f"x-token: {TOKEN}", "x-pick-subprotocol: bearer",
        "Sec-WebSocket-Protocol: bearer, padded==",
    )  # fmt: skip
    assert answer.startswith("HTTP/1.1 101") and "Sec-WebSocket-Protocol: bearer" in answer


@pytest.mark.timeout(30)
def test_a_malformed_upgrade_is_refused_before_connect_runs(gateway):
    before = connect_events()
    assert raw_handshake(gateway, f"x-token: {TOKEN}").startswith("HTTP/1.1 400")  # no Sec-WebSocket-Version
    assert raw_handshake(gateway, "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: short").startswith("HTTP/1.1 400")
    assert connect_events() == before
    assert gateway.stats()["open_connections"] == 0


@pytest.mark.timeout(30)
def test_server_push_info_and_gone_through_boto3(gateway):
    api = management(gateway)
    with client(gateway) as ws:
        connection_id = whoami(ws)
        api.post_to_connection(ConnectionId=connection_id, Data=b"pushed")
        assert ws.recv(timeout=5) == "pushed"
        info = api.get_connection(ConnectionId=connection_id)
        assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "wsgw-test/1"}
        assert info["LastActiveAt"] >= info["ConnectedAt"]
        ws.send("info")  # the app's own websocket_api.info and send
        assert json.loads(ws.recv(timeout=5)) == {"SourceIp": "127.0.0.1"}
    wait_events("disconnect", connection_id)
    for call in (
        lambda: api.post_to_connection(ConnectionId=connection_id, Data=b"late"),
        lambda: api.get_connection(ConnectionId=connection_id),
        lambda: api.delete_connection(ConnectionId=connection_id),
    ):
        with pytest.raises(api.exceptions.GoneException):
            call()
    with pytest.raises(api.exceptions.GoneException):
        api.post_to_connection(ConnectionId="NeverConnected=", Data=b"x")


@pytest.mark.timeout(30)
def test_delete_closes_and_runs_disconnect(gateway):
    api = management(gateway)
    with client(gateway) as ws:
        connection_id = whoami(ws)
        api.delete_connection(ConnectionId=connection_id)
        assert closed_with(ws) == (1000, "Connection deleted")
    [event] = wait_events("disconnect", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1000
    with client(gateway) as ws:  # the app closing a connection itself
        connection_id = whoami(ws)
        ws.send("close-me")
        assert closed_with(ws)[0] == 1000
    wait_events("disconnect", connection_id)


@pytest.mark.timeout(30)
def test_client_going_away_without_a_close_frame_runs_disconnect(gateway):
    with client(gateway) as ws:
        connection_id = whoami(ws)
        ws.socket.close()  # no close frame: what a killed agent does
        [event] = wait_events("disconnect", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1006


@pytest.mark.timeout(30)
def test_messages_of_one_connection_arrive_in_order(gateway):
    with client(gateway) as ws:
        connection_id = whoami(ws)
        bodies = [f"slow:0.01:{i}" if i % 7 == 0 else f"n:{i}" for i in range(40)]
        for body in bodies:
            ws.send(body)
        assert [ws.recv(timeout=5) for _ in bodies] == ["echo:" + body for body in bodies]
    received = [event["body"] for event in wait_events("message", connection_id, 41)]
    assert received == ["whoami", *bodies]


@pytest.mark.timeout(30)
def test_a_slow_handler_does_not_block_other_connections(gateway):
    with client(gateway) as slow, client(gateway) as quick:
        slow.send("slow:3")
        time.sleep(0.1)
        started = time.monotonic()
        quick.send("hi")
        assert quick.recv(timeout=5) == "echo:hi"
        assert time.monotonic() - started < 2.5  # well before the slow handler is done
        assert slow.recv(timeout=5) == "echo:slow:3"


@pytest.mark.timeout(30)
def test_a_failing_handler_is_reported_to_the_client_and_the_connection_stays(gateway):
    with client(gateway) as ws:
        connection_id = whoami(ws)
        ws.send("fail")
        error = json.loads(ws.recv(timeout=5))
        assert error["message"] == "Internal server error" and error["connectionId"] == connection_id
        assert error["requestId"]
        ws.send("still here")
        assert ws.recv(timeout=5) == "echo:still here"
    assert gateway.stats()["handler_errors"] >= 1


@pytest.mark.timeout(30)
def test_binary_frames_close_with_1003(gateway):
    with client(gateway) as ws:
        connection_id = whoami(ws)
        ws.send(b"\x00\x01")
        assert closed_with(ws)[0] == 1003
    wait_events("disconnect", connection_id)


@pytest.mark.timeout(30)
def test_message_and_frame_limits(start_gateway):
    gateway = start_gateway(limits=Limits(max_message_bytes=1024, max_frame_bytes=256))
    with client(gateway) as ws:  # within both limits, sent in frames of 250: delivered
        body = "m" * 1000
        ws.send([body[i : i + 250] for i in range(0, 1000, 250)])
        assert ws.recv(timeout=5) == "echo:" + body  # 1005 bytes back, which the gateway split into frames
    with client(gateway) as ws:  # frames within the limit, message over it
        ws.send(["x" * 250] * 5)
        assert closed_with(ws)[0] == 1009
    with client(gateway) as ws:  # message within the limit, one frame over it
        ws.send("y" * 300)
        assert closed_with(ws)[0] == 1009
    api = management(gateway)
    with client(gateway) as ws:
        connection_id = whoami(ws)
        with pytest.raises(api.exceptions.PayloadTooLargeException):
            api.post_to_connection(ConnectionId=connection_id, Data=b"z" * 1025)
        api.post_to_connection(ConnectionId=connection_id, Data="é".encode() * 512)  # 1024 bytes, 5 frames
        assert ws.recv(timeout=5) == "é" * 512


@pytest.mark.timeout(30)
def test_idle_timeout_counts_messages_either_way(start_gateway):
    gateway = start_gateway(limits=Limits(idle_seconds=1.0))
    api = management(gateway)
    with client(gateway) as ws:
        connection_id = whoami(ws)
        for _ in range(3):  # server pushes alone keep it open past the idle limit
            time.sleep(0.6)
            api.post_to_connection(ConnectionId=connection_id, Data=b"tick")
            assert ws.recv(timeout=5) == "tick"
        started = time.monotonic()
        assert closed_with(ws) == (1001, "Going away")
        assert 0.5 < time.monotonic() - started < 4
    [event] = wait_events("disconnect", connection_id)
    assert event["requestContext"]["disconnectStatusCode"] == 1001


@pytest.mark.timeout(30)
def test_maximum_connection_duration(start_gateway):
    gateway = start_gateway(limits=Limits(idle_seconds=1.0, max_connection_seconds=2.0))
    with client(gateway) as ws:
        started = time.monotonic()
        connection_id = whoami(ws)
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(20):  # busy, never idle
                ws.send("ping")
                assert ws.recv(timeout=5) == "echo:ping"
                time.sleep(0.3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
        assert 1.5 < time.monotonic() - started < 5
    wait_events("disconnect", connection_id)


@pytest.mark.timeout(30)
def test_connection_cap_and_stats(start_gateway):
    gateway = start_gateway(limits=Limits(max_connections=2))
    with client(gateway) as first, client(gateway) as second:
        with pytest.raises(InvalidStatus) as refused:
            client(gateway)
        assert refused.value.response.status_code == 429
        first.send("a")
        second.send("bb")
        assert (first.recv(timeout=5), second.recv(timeout=5)) == ("echo:a", "echo:bb")
        # A message is counted once its send returns, which may be just after the client has it.
        deadline = time.monotonic() + 5
        while gateway.stats()["messages_out"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        stats = gateway.stats()
        assert stats["open_connections"] == 2 and stats["connections_total"] == 2
        assert (stats["messages_in"], stats["messages_out"]) == (2, 2)
        assert stats["bytes_in"] == 3 and stats["rss_bytes"] > 0
    deadline = time.monotonic() + 5
    while gateway.stats()["open_connections"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gateway.stats()["open_connections"] == 0


@pytest.mark.timeout(30)
def test_stop_closes_connections_runs_disconnect_and_restores_the_app():
    before = app.websocket_api._endpoint
    gateway = WebSocketGateway(app, stage="dev", region=REGION)
    ports = gateway.start()
    assert ports.websocket != ports.management
    assert app.websocket_api._endpoint == f"http://127.0.0.1:{ports.management}/dev"
    with client(gateway) as ws:
        connection_id = whoami(ws)
        gateway.stop()
        assert closed_with(ws)[0] == 1001
    wait_events("disconnect", connection_id)
    assert app.websocket_api._endpoint == before


def test_limits_from_environment():
    limits = Limits.from_env({"WS_IDLE_SECONDS": "1.5", "WS_MAX_MESSAGE_BYTES": "2048", "WS_MAX_CONNECTIONS": "10"})
    assert (limits.idle_seconds, limits.max_message_bytes, limits.max_connections) == (1.5, 2048, 10)
    assert (limits.max_frame_bytes, limits.max_connection_seconds) == (32 * 1024, 7200.0)


def test_fragments_split_text_on_character_boundaries():
    text = "aé€😀" * 100
    pieces = _fragments(text, 32)
    assert "".join(pieces) == text and all(len(p.encode()) <= 32 for p in pieces)
    assert _fragments("short", 32) == ["short"]
    assert b"".join(_fragments(b"\xff" * 70, 32)) == b"\xff" * 70


@pytest.mark.timeout(30)
def test_make_run_starts_it_only_for_an_app_with_websocket_handlers(monkeypatch, capsys):
    from types import SimpleNamespace

    from infra import local

    monkeypatch.setattr(local, "_account_id", lambda: "123456789012")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the app's sends must not go there
    monkeypatch.setenv("WS_PORT", "0")
    monkeypatch.setenv("WS_IDLE_SECONDS", "5")
    for name in ("SOCKET_URL", "SOCKET_MANAGEMENT_URL"):  # set by the gateway's start; restored after
        monkeypatch.setenv(name, os.environ.get(name, ""))
    config = SimpleNamespace(api_gateway_stage="api", lambda_timeout=None, lambda_memory_size=None)
    assert local._start_websockets(Chalice(app_name="plain"), config) is None
    gateway = local._start_websockets(app, config)
    try:
        assert gateway.url.endswith("/api") and gateway.limits.idle_seconds == 5.0
        local._banner(SimpleNamespace(server_address=("127.0.0.1", 8000)), {}, gateway)
        assert f"WebSocket {gateway.url}" in capsys.readouterr().out
        with connect(gateway.url, additional_headers={"x-token": TOKEN}, open_timeout=5) as ws:
            ws.send("over make run")
            assert ws.recv(timeout=5) == "echo:over make run"
    finally:
        local._stop(gateway, None, None, None)
