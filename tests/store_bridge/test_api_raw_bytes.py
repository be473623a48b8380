"""Bytes that are not UTF-8 in a request's head: a clear JSON error, nothing changed.

An HTTP client library will not send such bytes, so these requests are written to the
socket by hand. aiohttp keeps a header's bytes that are not UTF-8 as lone surrogates; a
byte like that in the ``Authorization`` header made the token check crash (500, "Internal
Server Error" as text). Like every other bad token it must get the 401 JSON answer and
change nothing; no event is written for an unauthenticated request, as for any other.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from store_bridge.web import _sent_bytes

from .test_api_input import CHECK_IN_OK, JSON_TYPE, TOKEN, UNAUTHORIZED, Shop, open_shop

pytestmark = pytest.mark.usefixtures("socket_enabled")

WAIT = 10.0


@pytest.fixture
async def shop(tmp_path: Path) -> AsyncIterator[Shop]:
    async with open_shop(tmp_path) as shop:
        yield shop


async def raw_post(shop: Shop, path: bytes, headers: list[bytes], body: bytes) -> tuple[int, Any]:
    """POST with exactly these header lines; the status and the JSON answer."""
    address = urlsplit(shop.url)
    assert address.hostname is not None
    assert address.port is not None
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        head = [
            b"POST " + path + b" HTTP/1.1",
            b"Host: " + address.netloc.encode(),
            *headers,
            b"Content-Length: " + str(len(body)).encode(),
            b"Connection: close",
        ]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    header_block, _, content = rest.partition(b"\r\n\r\n")
    assert f"Content-Type: {JSON_TYPE}".encode() in header_block, answer
    return int(status_line.split()[1]), json.loads(content)


JSON = b"Content-Type: application/json"
GOOD = b"Authorization: Bearer " + TOKEN.encode()
BAD_AUTHORIZATIONS = {
    "two bytes that are not UTF-8": b"Authorization: Bearer \xff\xfe",
    "the token and one more byte": GOOD + b"\xe9",
    "the token with its last byte replaced": GOOD[:-1] + b"\xff",
    "a broken scheme": b"Authorization: \xffearer " + TOKEN.encode(),
    "latin-1 text": b"Authorization: Bearer caf\xe9-" + TOKEN.encode(),
    "an overlong slash": b"Authorization: Bearer \xc0\xaf" + TOKEN.encode(),
    "a cut-off character": b"Authorization: Bearer " + TOKEN.encode() + b"\xe2\x82",
}
ENDPOINTS = {
    "check-in": (b"/v1/gates/entry_1/check-in", CHECK_IN_OK),
    "exit": (b"/v1/gates/exit_1/exit", b"{}"),
    "signal": (b"/v1/gates/entry_1/signal", b'{"kind": "opened"}'),
    "tap": (b"/v1/terminals/terminal_1/tap", CHECK_IN_OK),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS.values(), ids=BAD_AUTHORIZATIONS)
async def test_an_authorization_header_that_is_not_utf8_is_unauthorized(
    shop: Shop, endpoint: str, authorization: bytes
) -> None:
    path, body = ENDPOINTS[endpoint]
    before = await shop.state()

    answer = await raw_post(shop, path, [authorization, JSON], body)

    assert answer == (401, {"error": "unauthorized", "message": UNAUTHORIZED})
    assert await shop.state() == before


async def test_the_raw_requests_work_with_the_token(shop: Shop) -> None:
    """The control: the same hand-written request with the right header checks in; a byte
    that is not UTF-8 in a header the API does not read changes nothing."""
    status, answer = await raw_post(
        shop, ENDPOINTS["check-in"][0], [GOOD, JSON, b"X-Note: caf\xe9"], CHECK_IN_OK
    )
    assert (status, answer["opened"]) == (200, True)


async def test_other_bytes_that_are_not_utf8_in_the_head_are_refused_cleanly(
    shop: Shop,
) -> None:
    before = await shop.state()
    status, answer = await raw_post(
        shop, ENDPOINTS["check-in"][0], [GOOD, b"Content-Type: application/js\xf6n"], CHECK_IN_OK
    )
    assert (status, answer["error"]) == (415, "not_json")
    status, answer = await raw_post(
        shop, b"/v1/gates/entry_%FF/check-in", [GOOD, JSON], CHECK_IN_OK
    )
    assert (status, answer["error"]) == (404, "unknown_gate")
    assert await shop.state() == before


def test_a_header_text_that_no_bytes_could_make_is_no_token() -> None:
    """aiohttp only makes surrogates U+DC80-U+DCFF from bytes; any other is refused too."""
    assert _sent_bytes("Bearer caf\udce9") == b"Bearer caf\xe9"
    assert _sent_bytes("\ud800") is None
