"""The Stripe adapter's answers to what Stripe says and localstripe never does.

A small stand-in Stripe server on 127.0.0.1 answers each path with a status and a JSON body,
so every error the checkout must tell apart (429, 5xx, 401/403, the card's own refusals, the
store's mistakes) and every refund status (pending, failed …) reaches the real ``stripe``
library and the adapter. What each means is `store_bridge/stripe_answers.py`.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from store_bridge.payments import (
    Accepted,
    Declined,
    ListedRefund,
    Misconfigured,
    PaymentState,
    RefundDone,
    RefundStatus,
    Unavailable,
    Unknown,
)
from store_bridge.stripe_processor import SecretKey, StripeProcessor
from tests.localstripe_server import SECRET_KEY

KEY = SecretKey(SECRET_KEY)


class StandIn:
    """A stand-in Stripe server: answers each path with a status and a JSON body."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.paths: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        status, body = self.answers.get(request.path, (404, _error("resource_missing")))
        return web.json_response(body, status=status)


def _error(code: str | None, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": "stand-in"}}


Stand = tuple[StandIn, StripeProcessor]
"""The stand-in server and the adapter that talks to it."""


@pytest.fixture
async def stand_in(socket_enabled: None) -> AsyncIterator[Stand]:
    fake = StandIn()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    adapter = StripeProcessor(KEY, api_base=str(server.make_url("")).rstrip("/"))
    try:
        yield fake, adapter
    finally:
        await adapter.close()
        await server.close()


CONFIRM = "/v1/payment_intents/pi_1/confirm"
RETRIEVE = "/v1/payment_intents/pi_1"


def _intent(status: str, amount: int, **more: Any) -> dict[str, Any]:
    """A payment intent as Stripe answers it: pi_1 in `status` for `amount`, and `more`."""
    return {"id": "pi_1", "object": "payment_intent", "status": status, "amount": amount, **more}


def _wrong(code: str) -> Misconfigured:
    return Misconfigured(code, "pi_1")


@pytest.mark.parametrize(
    ("status", "body", "confirm_says", "retrieve_says"),
    [
        (429, _error("rate_limit"), Unavailable("rate limited"), Unavailable("rate limited")),
        (503, _error(None, "api_error"), Unavailable("processor error 503"), None),
        (500, _error(None, "api_error"), Unknown("processor error 500", "pi_1"), None),
        # a key reused with other parameters: the bridge's mistake, refused at every retry
        (
            400,
            {"error": {"type": "idempotency_error", "message": "reused"}},
            _wrong("idempotency_error"),
            _wrong("idempotency_error"),
        ),
        # the same key's first request still under way: it ends soon
        (
            409,
            {"error": {"type": "idempotency_error", "message": "in progress"}},
            Unknown("processor error 409", "pi_1"),
            Unavailable("processor error 409"),
        ),
        # the request may have taken effect already: look
        (
            400,
            _error("payment_intent_unexpected_state"),
            Unknown("payment_intent_unexpected_state", "pi_1"),
            _wrong("payment_intent_unexpected_state"),
        ),
        (
            400,
            _error("charge_already_captured"),
            Unknown("charge_already_captured", "pi_1"),
            _wrong("charge_already_captured"),
        ),
        # the card's or the customer's own refusal: the shopper owes the amount
        *(
            (402, _error(code, "card_error"), Declined(code, "pi_1"), Declined(code, "pi_1"))
            for code in (
                "card_declined",
                "expired_card",
                "insufficient_funds",
                "incorrect_cvc",
                "processing_error",
                "authentication_required",
            )
        ),
        (
            400,
            _error("payment_intent_authentication_failure"),
            Declined("payment_intent_authentication_failure", "pi_1"),
            Declined("payment_intent_authentication_failure", "pi_1"),
        ),
        # the store's mistake: never the shopper's decline
        *(
            (400, _error(code), _wrong(code), _wrong(code))
            for code in (
                "amount_too_small",
                "amount_too_large",
                "parameter_invalid_integer",
                "parameter_missing",
                "parameter_unknown",
                "livemode_mismatch",
            )
        ),
        (404, _error("resource_missing"), _wrong("resource_missing"), _wrong("resource_missing")),
        (404, _error(None), _wrong("resource_missing"), _wrong("resource_missing")),
        (401, _error(None), _wrong("api_key_invalid"), _wrong("api_key_invalid")),
        (401, _error("api_key_expired"), _wrong("api_key_expired"), _wrong("api_key_expired")),
        (403, _error(None), _wrong("api_key_not_permitted"), _wrong("api_key_not_permitted")),
    ],
)
async def test_what_each_stripe_error_tells_the_caller(
    stand_in: Stand, status: int, body: dict[str, Any], confirm_says: Any, retrieve_says: Any
) -> None:
    fake, adapter = stand_in
    fake.answers = {CONFIRM: (status, body), RETRIEVE: (status, body)}

    confirmed = await adapter.confirm_payment("pi_1", idempotency_key="k")
    retrieved = await adapter.retrieve("pi_1")

    assert confirmed == confirm_says
    assert retrieved == (retrieve_says or Unavailable(f"processor error {status}"))


CUSTOMER = "/v1/customers/cus_1"
METHODS = "/v1/payment_methods"
INTENTS = "/v1/payment_intents"


@pytest.mark.parametrize(
    ("answers", "says"),
    [
        ({}, Misconfigured("resource_missing")),  # no such customer
        (
            {CUSTOMER: (200, {"id": "cus_1", "object": "customer"})},
            Misconfigured("resource_missing"),  # no such payment method list: the URL is ours
        ),
        (
            {
                CUSTOMER: (200, {"id": "cus_1", "object": "customer"}),
                METHODS: (200, {"object": "list", "data": [], "has_more": False}),
            },
            Declined("no_payment_method"),  # the shopper saved no card
        ),
        (
            {
                CUSTOMER: (200, {"id": "cus_1", "object": "customer"}),
                METHODS: (200, {"object": "list", "data": [{"id": "pm_1"}], "has_more": False}),
                INTENTS: (400, _error("amount_too_small")),
            },
            Misconfigured("amount_too_small"),  # below Stripe's minimum charge
        ),
        (
            {
                CUSTOMER: (200, {"id": "cus_1", "object": "customer"}),
                METHODS: (200, {"object": "list", "data": [{"id": "pm_1"}], "has_more": False}),
                INTENTS: (400, _error("parameter_invalid_string_empty")),
            },
            Misconfigured("parameter_invalid_string_empty"),  # e.g. an unknown currency
        ),
    ],
)
async def test_a_payment_the_store_cannot_create_is_not_the_shoppers_decline(
    stand_in: Stand,
    answers: dict[str, tuple[int, dict[str, Any]]],
    says: Any,
) -> None:
    fake, adapter = stand_in
    fake.answers = answers

    answer = await adapter.create_payment(
        customer="cus_1", amount=10, currency="eur", reference="co-1", idempotency_key="k"
    )

    assert answer == says
    assert not isinstance(answer, Declined) or answer.code == "no_payment_method"


# --- refunds: what Stripe says decides ---------------------------------------------------

REFUNDS = "/v1/refunds"


def _refund(status: str, amount: int | None = 700, reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "re_1",
        "object": "refund",
        "payment_intent": "pi_1",
        "amount": amount,
        "status": status,
        "failure_reason": reason,
    }


@pytest.mark.parametrize(
    ("refund", "says"),
    [
        (_refund("succeeded"), RefundDone("re_1", 700)),  # as Stripe reports, not as asked
        (_refund("succeeded", amount=None), Unknown("refund amount not reported", "pi_1", "re_1")),
        (_refund("pending"), Unknown("refund pending", "pi_1", "re_1")),
        (_refund("requires_action"), Unknown("refund requires_action", "pi_1", "re_1")),
        (_refund("something_new"), Unknown("refund something_new", "pi_1", "re_1")),
        (
            _refund("failed", reason="expired_or_canceled_card"),
            Declined("expired_or_canceled_card", "pi_1"),
        ),
        (_refund("failed"), Declined("failed", "pi_1")),
        (_refund("canceled"), Declined("canceled", "pi_1")),
    ],
)
async def test_a_refund_is_what_stripe_says_it_is(
    stand_in: Stand, refund: dict[str, Any], says: Any
) -> None:
    fake, adapter = stand_in
    fake.answers = {REFUNDS: (200, refund), f"{REFUNDS}/re_1": (200, refund)}

    made = await adapter.refund("pi_1", amount=750, idempotency_key="r1")
    looked = await adapter.retrieve_refund("re_1")

    assert made == says
    assert looked == says
    assert fake.paths == [REFUNDS, f"{REFUNDS}/re_1"]


@pytest.mark.parametrize(
    ("status", "body", "refund_says", "retrieve_says"),
    [
        (400, _error("amount_too_large"), _wrong("amount_too_large"), None),
        (400, _error("charge_already_refunded"), Unknown("charge_already_refunded", "pi_1"), None),
        (500, _error(None, "api_error"), Unknown("processor error 500", "pi_1"), None),
        # a refund answered 503 may have been made: looked up, never sent again blindly
        (503, _error(None, "api_error"), Unknown("processor error 503", "pi_1"), None),
        (502, _error(None, "api_error"), Unknown("processor error 502", "pi_1"), None),
        (401, _error(None), _wrong("api_key_invalid"), Misconfigured("api_key_invalid")),
    ],
)
async def test_what_a_refused_refund_tells_the_caller(
    stand_in: Stand, status: int, body: dict[str, Any], refund_says: Any, retrieve_says: Any
) -> None:
    fake, adapter = stand_in
    fake.answers = {REFUNDS: (status, body), f"{REFUNDS}/re_1": (status, body)}

    assert await adapter.refund("pi_1", amount=750, idempotency_key="r1") == refund_says
    looked = await adapter.retrieve_refund("re_1")
    if retrieve_says is not None:
        assert looked == retrieve_says
    else:
        assert isinstance(looked, Misconfigured | Unavailable)  # a read: nothing happened


async def test_the_card_comes_from_the_charge_when_stripe_reports_it(
    stand_in: Stand,
) -> None:
    fake, adapter = stand_in
    intent = _intent(
        "succeeded",
        900,
        amount_received=850,
        latest_charge={
            "id": "ch_1",
            "object": "charge",
            "payment_method_details": {"card_present": {"brand": "mastercard", "last4": "4444"}},
        },
    )
    fake.answers = {RETRIEVE: (200, intent)}

    answer = await adapter.retrieve("pi_1")

    assert answer == Accepted("pi_1", PaymentState.CAPTURED, 850, "mastercard", "4444")
    assert fake.paths == [RETRIEVE]  # no second look


@pytest.mark.parametrize(
    ("method_answer", "card"),
    [
        ((404, _error("resource_missing")), (None, None)),
        ((200, {"id": "pm_1", "object": "payment_method", "type": "sepa_debit"}), (None, None)),
        (
            (200, {"id": "pm_1", "object": "payment_method", "card": {"last4": "0005"}}),
            ("unknown", "0005"),
        ),
        (
            (
                200,
                {
                    "id": "pm_1",
                    "object": "payment_method",
                    "card": {"brand": "amex", "last4": "0005"},
                },
            ),
            ("amex", "0005"),
        ),
    ],
)
async def test_the_card_is_looked_up_when_the_answer_does_not_name_it(
    stand_in: Stand,
    method_answer: tuple[int, dict[str, Any]],
    card: tuple[str | None, str | None],
) -> None:
    fake, adapter = stand_in
    intent = _intent(
        "succeeded",
        900,
        payment_method="pm_1",
        latest_charge={"id": "ch_1", "object": "charge", "amount_captured": 900},
    )
    fake.answers = {RETRIEVE: (200, intent), "/v1/payment_methods/pm_1": method_answer}

    answer = await adapter.retrieve("pi_1")

    assert answer == Accepted("pi_1", PaymentState.CAPTURED, 900, *card)
    assert fake.paths == [RETRIEVE, "/v1/payment_methods/pm_1"]


async def test_a_hold_is_what_stripe_says_can_be_captured(
    stand_in: Stand,
) -> None:
    fake, adapter = stand_in
    intent = _intent("requires_capture", 5000, amount_capturable=4500)
    fake.answers = {RETRIEVE: (200, intent)}

    assert await adapter.retrieve("pi_1") == Accepted("pi_1", PaymentState.AUTHORISED, 4500)


async def test_a_terminals_card_is_recognised_by_the_fingerprint_stripe_reports(
    stand_in: Stand,
) -> None:
    fake, adapter = stand_in
    present = {"card_present": {"brand": "visa", "last4": "0005", "fingerprint": "fp_term"}}
    intent = {
        "id": "pi_1",
        "status": "requires_capture",
        "amount_capturable": 4500,
        "latest_charge": {"id": "ch_1", "payment_method_details": present},
        "payment_method": {"id": "pm_1", "card": {"fingerprint": "fp_method"}},
    }
    fake.answers = {RETRIEVE: (200, intent)}

    held = await adapter.retrieve("pi_1")

    assert isinstance(held, Accepted)
    assert held.card_fingerprint == "fp_term"  # the charge's details first
    assert "fp_term" not in repr(held)
    fake.answers = {RETRIEVE: (200, {**intent, "latest_charge": None})}
    assert getattr(await adapter.retrieve("pi_1"), "card_fingerprint", None) == "fp_method"
    fake.answers = {RETRIEVE: (200, {**intent, "latest_charge": None, "payment_method": "pm_1"})}
    assert getattr(await adapter.retrieve("pi_1"), "card_fingerprint", 0) is None


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("requires_payment_method", PaymentState.CREATED),
        ("requires_action", PaymentState.FAILED),
        ("processing", PaymentState.PROCESSING),
        ("something_new", PaymentState.PROCESSING),
    ],
)
async def test_stripe_statuses_as_payment_states(
    stand_in: Stand, status: str, state: PaymentState
) -> None:
    fake, adapter = stand_in
    intent = _intent(status, 700)
    fake.answers = {RETRIEVE: (200, intent)}

    answer = await adapter.retrieve("pi_1")

    assert isinstance(answer, Accepted)
    assert answer.state is state


async def test_a_captured_payment_that_names_no_card_has_none(
    stand_in: Stand,
) -> None:
    fake, adapter = stand_in
    intent = _intent("succeeded", 700)
    fake.answers = {RETRIEVE: (200, intent)}

    answer = await adapter.retrieve("pi_1")

    assert answer == Accepted("pi_1", PaymentState.CAPTURED, 700)
    assert fake.paths == [RETRIEVE]


async def test_a_payments_refunds_are_listed_page_by_page_with_their_keys(
    stand_in: Stand,
) -> None:
    fake, adapter = stand_in
    page = {
        "data": [
            {"amount": 5, "status": "succeeded"},  # no id: not a refund it can name
            {"id": "re_2", "amount": 300, "status": "pending", "metadata": {"bridge_key": "k"}},
            {"id": "re_1", "amount": 100, "status": "canceled", "metadata": {}},
        ],
        "has_more": False,
    }
    fake.answers = {REFUNDS: (200, page)}

    assert await adapter.list_refunds("pi_1") == [
        ListedRefund("re_2", 300, RefundStatus.PENDING, "k"),
        ListedRefund("re_1", 100, RefundStatus.FAILED, None),
    ]
    fake.answers = {REFUNDS: (200, {**page, "has_more": True})}  # a stuck "next page"
    assert len(await adapter.list_refunds("pi_1")) == 2
    assert fake.paths.count(REFUNDS) == 3  # asked for the next page once, then stopped
    fake.answers = {REFUNDS: (503, _error(None, "api_error"))}
    assert await adapter.list_refunds("pi_1") == Unavailable("processor error 503")
    fake.answers = {REFUNDS: (402, _error("card_declined", "card_error"))}
    assert await adapter.list_refunds("pi_1") == Misconfigured("list_refused")
