"""Card terminals: a tap checks in at the terminal's entry gate with the processor's token.

The card terminal and its payment processor are the edge of the world: the test (or the
`SimulatedTerminal`) sends what the processor's integration would send.
"""

from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from store_bridge.bridge import UnknownGateError
from store_bridge.config import ConfigError
from store_bridge.terminals import (
    CardTap,
    SimulatedTerminal,
    UnknownTerminalError,
    WebhookTerminals,
)
from store_bridge.web import make_app

from .conftest import API_TOKEN, AUTH, Store, StoreFactory
from .test_config import Folder, folder  # noqa: F401 - the fixture

TERMINALS = {"terminal_1": "entry_1"}


async def _client(store: Store) -> TestClient[Any, Any]:
    client = TestClient(TestServer(make_app(store.bridge, API_TOKEN, TERMINALS)))
    await client.start_server()
    return client


async def test_a_tap_checks_in_at_the_terminals_gate(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    client = await _client(store)
    try:
        answer = await client.post(
            "/v1/terminals/terminal_1/tap", json={"card_token": "pm_1Q2w3E4r5T6y7U8i"}, headers=AUTH
        )
        assert answer.status == 200
        body = await answer.json()
        assert (body["gate"], body["opened"], body["occupancy"]) == ("entry_1", True, 1)
        check_in = store.outbox()[0]
        assert (check_in["type"], check_in["portal"], check_in["source"]) == (
            "check_in",
            "entry_1",
            "payment_card",
        )

        refused = await client.post(
            "/v1/terminals/terminal_1/tap", json={"card_token": "4242424242424242"}, headers=AUTH
        )
        assert refused.status == 403
        assert (await refused.json())["reason"] == "card_number_refused"
        assert store.entry.commands == 1
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "error"),
    [
        (
            "/v1/terminals/nowhere/tap",
            {"card_token": "pm_1Q2w3E4r5T6y7U8i"},
            AUTH,
            404,
            "unknown_terminal",
        ),
        ("/v1/terminals/terminal_1/tap", {}, AUTH, 400, "bad_request"),
        ("/v1/terminals/terminal_1/tap", {"card_token": 7}, AUTH, 400, "bad_request"),
        (
            "/v1/terminals/terminal_1/tap",
            {"card_token": "pm_x", "qr": "y"},
            AUTH,
            400,
            "bad_request",
        ),
        (
            "/v1/terminals/terminal_1/tap",
            {"card_token": "pm_1Q2w3E4r5T6y7U8i"},
            {},
            401,
            "unauthorized",
        ),
    ],
    ids=["unknown terminal", "no token", "token a number", "unknown field", "no api token"],
)
async def test_a_bad_tap_changes_nothing(
    make_store: StoreFactory,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    store: Store = await make_store()
    client = await _client(store)
    try:
        answer = await client.post(path, json=body, headers=headers)
        assert answer.status == status
        assert (await answer.json())["error"] == error
    finally:
        await client.close()
    assert store.outbox() == []
    assert store.entry.commands == 0
    assert store.bridge.occupancy == 0


async def test_a_simulated_terminal_taps_through_the_bridge(make_store: StoreFactory) -> None:
    store: Store = await make_store()
    terminals = WebhookTerminals(store.bridge, TERMINALS)
    terminal = SimulatedTerminal("terminal_1", terminals.tap)
    decision = await terminal.tap()
    assert getattr(decision, "opened", False) is True
    assert terminal.taps == 1
    with pytest.raises(UnknownTerminalError):
        await terminals.tap(CardTap("terminal_9", "pm_1Q2w3E4r5T6y7U8i"))
    with pytest.raises(UnknownGateError):
        WebhookTerminals(store.bridge, {"terminal_2": "nowhere"})
    assert "pm_" not in repr(CardTap("terminal_1", "pm_1Q2w3E4r5T6y7U8i"))


def test_terminals_in_the_configuration(folder: Folder) -> None:  # noqa: F811
    config = folder.load(terminals='[[terminals]]\nid = "terminal_1"\ngate = "entry_1"\n')
    assert config.terminals == {"terminal_1": "entry_1"}
    assert folder.load().terminals == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('terminals = "t"', "terminals: use [[terminals]] tables"),
        ("terminals = [1]", "terminals[0]: must be a table"),
        (
            '[[terminals]]\nid = "t"\ngate = "exit_1"\n',
            "terminals[0].gate: 'exit_1' is not an entry gate",
        ),
        (
            '[[terminals]]\nid = "t"\ngate = "nowhere"\n',
            "terminals[0].gate: 'nowhere' is not an entry gate",
        ),
        ('[[terminals]]\nid = "t"\n', "terminals[0].gate: must be a non-empty text"),
        (
            '[[terminals]]\nid = "t"\ngate = "entry_1"\nmodel = "x"\n',
            "terminals[0]: unknown key(s) model",
        ),
        (
            '[[terminals]]\nid = "t"\ngate = "entry_1"\n' * 2,
            "terminals[1].id: 't' is used by another terminal",
        ),
    ],
    ids=[
        "not tables",
        "not a table",
        "exit gate",
        "unknown gate",
        "no gate",
        "unknown key",
        "twice",
    ],
)
def test_terminal_mistakes_are_named(folder: Folder, text: str, message: str) -> None:  # noqa: F811
    with pytest.raises(ConfigError) as error:
        folder.load(terminals=text)
    assert str(error.value) == message
