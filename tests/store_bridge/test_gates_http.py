"""The HTTP gate against a real HTTP server on 127.0.0.1.

The controller on the far side is the edge of the world: an aiohttp application written
here stands in for it (like ControlID's ``/execute_actions.fcgi``, it answers an open
request with a status and nothing else the gate needs). The gate's requests go over real
sockets and are checked as the controller receives them.
"""

import asyncio
import logging
import socket
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from store_bridge.gates.base import Gate, GateError, GateRole, GateSignal, SignalKind
from store_bridge.gates.http_gate import HttpGate

pytestmark = pytest.mark.usefixtures("socket_enabled")

WAIT = 10.0
TOKEN = "s3cr3t-token-4711"


class Controller:
    """The HTTP controller: records each request, answers with `status`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.release = asyncio.Event()  # the slow endpoint answers once this is set
        self.url = self.slow_url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "authorization": request.headers.get("Authorization"),
                "content_type": request.content_type,
                "body": await request.json(),
            }
        )
        return web.json_response({}, status=self.status)

    async def slow(self, _request: web.Request) -> web.Response:
        await self.release.wait()
        return web.json_response({})


@pytest.fixture
async def controller(aiohttp_server):
    controller = Controller()
    app = web.Application()
    app.router.add_route("*", "/execute_actions.fcgi", controller.handle)
    app.router.add_post("/slow", controller.slow)
    server = await aiohttp_server(app)
    controller.url = str(server.make_url("/execute_actions.fcgi"))
    controller.slow_url = str(server.make_url("/slow"))
    yield controller
    controller.release.set()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_open_posts_the_default_body_with_the_token(controller, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    gate: Gate = HttpGate("entry_1", GateRole.ENTRY, controller.url, token=TOKEN)
    await gate.start(lambda _signal: None)
    await gate.open()
    await gate.stop()

    assert controller.requests == [
        {
            "method": "POST",
            "path": "/execute_actions.fcgi",
            "query": {},
            "authorization": f"Bearer {TOKEN}",
            "content_type": "application/json",
            "body": {"action": "open", "gate": "entry_1"},
        }
    ]
    assert (gate.gate_id, gate.role) == ("entry_1", GateRole.ENTRY)
    assert TOKEN not in caplog.text


async def test_method_body_and_url_are_the_configured_ones(controller) -> None:
    body = {"actions": [{"action": "catra", "parameters": "allow=clockwise"}]}
    gate = HttpGate(
        "exit_1", GateRole.EXIT, f"{controller.url}?session=abc", method="put", body=body
    )
    await gate.start(lambda _signal: None)
    await gate.open()
    await gate.stop()

    [request] = controller.requests
    assert request["method"] == "PUT"
    assert request["query"] == {"session": "abc"}
    assert request["authorization"] is None  # no token, no header
    assert request["body"] == body


async def test_a_refusing_controller(controller) -> None:
    controller.status = 500
    gate = HttpGate("entry_1", GateRole.ENTRY, controller.url, token=TOKEN)
    await gate.start(lambda _signal: None)
    with pytest.raises(GateError) as error:
        await gate.open()
    await gate.stop()
    assert (error.value.reason, error.value.detail) == ("gate_refused", "HTTP 500")
    assert len(controller.requests) == 1


async def test_a_controller_that_does_not_answer(controller) -> None:
    gate = HttpGate("entry_1", GateRole.ENTRY, controller.slow_url, token=TOKEN, timeout=0.3)
    await gate.start(lambda _signal: None)
    with pytest.raises(GateError) as error:
        await gate.open()
    await gate.stop()
    assert error.value.reason == "gate_no_answer"
    assert "0.3 s" in error.value.detail
    assert TOKEN not in str(error.value)


async def test_a_controller_that_is_not_there(closed_port, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{closed_port}/execute_actions.fcgi?session={TOKEN}"
    gate = HttpGate("entry_1", GateRole.ENTRY, url, token=TOKEN)
    await gate.start(lambda _signal: None)
    with pytest.raises(GateError) as error:
        await gate.open()
    await gate.stop()
    assert error.value.reason == "gate_unreachable"
    assert f"127.0.0.1:{closed_port}/execute_actions.fcgi" in error.value.detail
    assert TOKEN not in str(error.value)
    assert TOKEN not in caplog.text


def test_the_token_and_url_secrets_stay_out_of_the_repr() -> None:
    url = f"https://admin:{TOKEN}@gate.example:8443/open?session={TOKEN}#{TOKEN}"
    gate = HttpGate("entry_1", GateRole.ENTRY, url, token=TOKEN)
    assert repr(gate) == (
        "HttpGate(gate_id='entry_1', role='entry', method='POST', "
        "url='https://gate.example:8443/open', token=<hidden>)"
    )
    assert TOKEN not in repr(gate)
    assert "token=None" in repr(HttpGate("entry_1", GateRole.ENTRY, "http://gate/open"))


def test_a_bad_configuration_is_refused() -> None:
    for url, timeout in (("ftp://gate/open", 2.0), ("http:///open", 2.0), ("http://gate", 0)):
        with pytest.raises(ValueError, match="http"):
            HttpGate("entry_1", GateRole.ENTRY, url, timeout=timeout)


async def test_a_shared_session_is_used_and_left_open(controller) -> None:
    async with aiohttp.ClientSession() as session:
        gate = HttpGate("entry_1", GateRole.ENTRY, controller.url, session=session)
        await gate.start(lambda _signal: None)
        await gate.open()
        await gate.stop()
        assert not session.closed
        await gate.open()  # the shared session still works after stop
    assert len(controller.requests) == 2


async def test_its_own_session_is_closed_by_stop(controller) -> None:
    gate = HttpGate("entry_1", GateRole.ENTRY, controller.url)
    with pytest.raises(GateError) as error:
        await gate.open()  # not started: no session yet
    assert error.value.reason == "gate_unreachable"

    await gate.start(lambda _signal: None)
    session = gate._session
    assert session is not None
    await gate.stop()
    assert session.closed
    with pytest.raises(GateError):
        await gate.open()
    assert controller.requests == []


async def test_report_forwards_passages_while_started() -> None:
    gate = HttpGate("entry_1", GateRole.ENTRY, "http://gate/open")
    received: list[GateSignal] = []
    gate.report(SignalKind.OPENED)  # not started: dropped
    await gate.start(received.append)
    gate.report(SignalKind.OPENED)
    gate.report(SignalKind.CLOSED)
    await gate.stop()
    gate.report(SignalKind.OPENED)  # stopped: dropped
    assert received == [
        GateSignal("entry_1", SignalKind.OPENED),
        GateSignal("entry_1", SignalKind.CLOSED),
    ]
