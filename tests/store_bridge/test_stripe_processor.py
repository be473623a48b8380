"""The Stripe adapter against a real localstripe, through the real `stripe` library.

What the checkout relies on: a payment is created without moving money and confirmed once;
holds are captured (at most the hold) or released; refunds; declines; a processor that is down
or a connection that drops mid-request answers what the caller must do next, and `retrieve`
afterwards tells the truth. Server errors localstripe cannot produce (429, 5xx, 401) come from
a small stand-in Stripe server on 127.0.0.1.
"""

import logging
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from store_bridge.payments import (
    Accepted,
    Declined,
    PaymentState,
    RefundDone,
    Unavailable,
    Unknown,
)
from store_bridge.stripe_processor import (
    SecretKey,
    SecretKeyError,
    StripeProcessor,
    load_secret_key,
)
from tests.localstripe_server import (
    DECLINES_ON_ATTACH,
    DECLINES_ON_CHARGE,
    SECRET_KEY,
    AnswerDroppingProxy,
    LocalStripe,
    add_customer,
    free_port,
    payment_intents,
    terminal_hold,
)
from tests.waiting import until

KEY = SecretKey(SECRET_KEY)


@pytest.fixture
async def processor(localstripe: LocalStripe) -> AsyncIterator[StripeProcessor]:
    adapter = StripeProcessor(KEY, api_base=localstripe.url)
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def proxy(localstripe: LocalStripe) -> AsyncIterator[AnswerDroppingProxy]:
    between = AnswerDroppingProxy(localstripe.port)
    await between.start()
    try:
        yield between
    finally:
        await between.close()


async def _charge(processor: StripeProcessor, customer: str, amount: int = 1234) -> str:
    created = await processor.create_payment(
        customer=customer, amount=amount, currency="EUR", reference="co-1", idempotency_key="c1"
    )
    assert isinstance(created, Accepted)
    return created.payment


# --- off-session charges ---------------------------------------------------------------


async def test_a_charge_is_created_without_money_moving_then_confirmed_once(
    processor: StripeProcessor, localstripe: LocalStripe, stripe_client: Any
) -> None:
    customer, method = await add_customer(stripe_client)

    created = await processor.create_payment(
        customer=customer, amount=1234, currency="EUR", reference="co-7", idempotency_key="k1"
    )

    assert isinstance(created, Accepted)
    assert created.state is PaymentState.CREATED
    assert created.amount == 1234
    assert created.card_last4 is None
    [intent] = await payment_intents(stripe_client)
    assert intent["id"] == created.payment
    assert intent["status"] == "requires_confirmation"
    assert intent["latest_charge"] is None
    assert (intent["amount"], intent["currency"]) == (1234, "eur")
    assert intent["customer"] == customer
    assert intent["payment_method"] == method
    assert intent["metadata"] == {"checkout": "co-7"}
    assert localstripe.confirmations() == []

    confirmed = await processor.confirm_payment(created.payment, idempotency_key="k2")

    assert confirmed == Accepted(
        created.payment, PaymentState.CAPTURED, 1234, card_brand="visa", card_last4="4242"
    )
    assert localstripe.confirmations() == [{"payment": created.payment, "off_session": True}]
    [intent] = await payment_intents(stripe_client)
    assert intent["status"] == "succeeded"
    assert intent["latest_charge"]["amount"] == 1234
    assert intent["latest_charge"]["captured"] is True


async def test_retrieve_says_created_then_captured(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client)
    payment = await _charge(processor, customer)

    assert await processor.retrieve(payment) == Accepted(payment, PaymentState.CREATED, 1234)
    await processor.confirm_payment(payment, idempotency_key="k2")
    assert await processor.retrieve(payment) == Accepted(
        payment, PaymentState.CAPTURED, 1234, card_brand="visa", card_last4="4242"
    )


async def test_a_second_confirmation_is_refused_and_the_caller_told_to_look(
    processor: StripeProcessor, localstripe: LocalStripe, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client)
    payment = await _charge(processor, customer)
    await processor.confirm_payment(payment, idempotency_key="k2")

    again = await processor.confirm_payment(payment, idempotency_key="k3")

    assert isinstance(again, Unknown)
    assert again.payment == payment
    [intent] = await payment_intents(stripe_client)
    assert intent["latest_charge"]["amount"] == 1234  # charged once
    assert len(localstripe.confirmations()) == 2


async def test_the_first_saved_card_pays_when_the_customer_has_no_default(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    customer, method = await add_customer(stripe_client, default=False)

    payment = await _charge(processor, customer)

    [intent] = await payment_intents(stripe_client)
    assert (intent["id"], intent["payment_method"]) == (payment, method)


async def test_a_customer_without_a_saved_card_is_declined_and_nothing_created(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    customer = await stripe_client.v1.customers.create_async({"description": "no card"})

    answer = await processor.create_payment(
        customer=customer.id, amount=500, currency="eur", reference="co-1", idempotency_key="k"
    )

    assert answer == Declined("no_payment_method")
    assert await payment_intents(stripe_client) == []


async def test_an_unknown_customer_is_declined(processor: StripeProcessor) -> None:
    answer = await processor.create_payment(
        customer="cus_nobody", amount=500, currency="eur", reference="co-1", idempotency_key="k"
    )

    assert isinstance(answer, Declined)


async def test_a_declined_card_is_declined_and_the_payment_failed(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client, card=DECLINES_ON_CHARGE)
    payment = await _charge(processor, customer)

    answer = await processor.confirm_payment(payment, idempotency_key="k2")

    assert answer == Declined("card_declined", payment)
    assert await processor.retrieve(payment) == Accepted(payment, PaymentState.FAILED, 0)
    [intent] = await payment_intents(stripe_client)
    assert intent["latest_charge"]["status"] == "failed"


async def test_the_generic_decline_card_cannot_even_be_saved(stripe_client: Any) -> None:
    import stripe  # noqa: PLC0415

    with pytest.raises(stripe.CardError):
        await add_customer(stripe_client, card=DECLINES_ON_ATTACH)


# --- card holds (a terminal's payment) -------------------------------------------------


async def test_less_than_the_hold_is_captured(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=5000)
    assert await processor.retrieve(hold) == Accepted(hold, PaymentState.AUTHORISED, 5000)

    answer = await processor.capture_hold(hold, amount=3210, idempotency_key="cap")

    assert answer == Accepted(hold, PaymentState.CAPTURED, 3210, "visa", "4242")
    [intent] = await payment_intents(stripe_client)
    charge = intent["latest_charge"]
    assert charge["captured"] is True
    assert charge["amount"] - charge["amount_refunded"] == 3210  # localstripe's partial capture


async def test_more_than_the_hold_is_not_captured(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=5000)

    answer = await processor.capture_hold(hold, amount=5001, idempotency_key="cap")

    assert isinstance(answer, Unknown)  # localstripe refuses without a code: look
    assert await processor.retrieve(hold) == Accepted(hold, PaymentState.AUTHORISED, 5000)


async def test_a_hold_is_released(processor: StripeProcessor, stripe_client: Any) -> None:
    hold = await terminal_hold(stripe_client, amount=5000)

    answer = await processor.cancel_hold(hold, idempotency_key="cancel")

    assert answer == Accepted(hold, PaymentState.CANCELLED, 0)
    assert await processor.retrieve(hold) == Accepted(hold, PaymentState.CANCELLED, 0)
    [intent] = await payment_intents(stripe_client)
    assert intent["latest_charge"]["captured"] is False


# --- refunds ---------------------------------------------------------------------------


async def test_a_refund_returns_the_amount_once(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client)
    payment = await _charge(processor, customer, amount=2000)
    await processor.confirm_payment(payment, idempotency_key="k2")

    answer = await processor.refund(payment, amount=750, idempotency_key="refund-1")

    assert isinstance(answer, RefundDone)
    assert answer.amount == 750
    refunds = await stripe_client.v1.refunds.list_async({"limit": 10})
    assert [(r.id, r.amount) for r in refunds.data] == [(answer.refund, 750)]
    [intent] = await payment_intents(stripe_client)
    assert intent["latest_charge"]["amount_refunded"] == 750


# --- a processor that is down, a connection that drops ---------------------------------


async def test_a_processor_that_is_down_is_unavailable_for_every_call(socket_enabled: None) -> None:
    adapter = StripeProcessor(KEY, api_base=f"http://127.0.0.1:{free_port()}")
    try:
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: adapter.retrieve("pi_1"),
            lambda: adapter.create_payment(
                customer="cus_1", amount=1, currency="eur", reference="r", idempotency_key="k"
            ),
            lambda: adapter.confirm_payment("pi_1", idempotency_key="k"),
            lambda: adapter.capture_hold("pi_1", amount=1, idempotency_key="k"),
            lambda: adapter.cancel_hold("pi_1", idempotency_key="k"),
            lambda: adapter.refund("pi_1", amount=1, idempotency_key="k"),
        ]
        answers = [await call() for call in calls]
    finally:
        await adapter.close()

    assert answers == [Unavailable("unreachable")] * len(calls)


async def test_a_confirmation_cut_off_mid_request_is_unknown_and_retrieve_tells_the_truth(
    localstripe: LocalStripe, proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client)
    adapter = StripeProcessor(KEY, api_base=proxy.base)
    try:
        payment = await _charge(adapter, customer)
        dropped = proxy.drop_answer(f"/v1/payment_intents/{payment}/confirm")

        answer = await adapter.confirm_payment(payment, idempotency_key="k2")

        assert dropped.is_set()
        assert answer == Unknown("connection lost", payment)
        assert await adapter.retrieve(payment) == Unavailable("unreachable")  # proxy down
        await proxy.restore()
        truth = await adapter.retrieve(payment)
    finally:
        await adapter.close()

    assert truth == Accepted(payment, PaymentState.CAPTURED, 1234, "visa", "4242")
    assert localstripe.confirmations() == [{"payment": payment, "off_session": True}]


async def test_a_creation_cut_off_mid_request_leaves_an_orphan_that_never_charges(
    localstripe: LocalStripe, proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    customer, _ = await add_customer(stripe_client)
    adapter = StripeProcessor(KEY, api_base=proxy.base)
    proxy.drop_answer("POST /v1/payment_intents ")
    try:
        answer = await adapter.create_payment(
            customer=customer, amount=900, currency="eur", reference="co-9", idempotency_key="k"
        )
    finally:
        await adapter.close()

    assert answer == Unknown("connection lost")
    [orphan] = await payment_intents(stripe_client)
    assert orphan["status"] == "requires_confirmation"
    assert orphan["latest_charge"] is None
    assert localstripe.confirmations() == []


async def test_a_capture_that_times_out_is_unknown_and_retrieve_tells_the_truth(
    processor: StripeProcessor, proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=4000)
    impatient = StripeProcessor(KEY, api_base=proxy.base, timeout=1.0)
    try:
        silent = proxy.drop_answer(f"/v1/payment_intents/{hold}/capture", mode="hold")

        answer = await impatient.capture_hold(hold, amount=4000, idempotency_key="cap")
    finally:
        await impatient.close()

    assert silent.is_set()
    assert answer == Unknown("timeout", hold)
    truth = await processor.retrieve(hold)
    assert truth == Accepted(hold, PaymentState.CAPTURED, 4000, "visa", "4242")


async def test_a_read_cut_off_mid_request_is_unavailable(
    proxy: AnswerDroppingProxy, stripe_client: Any
) -> None:
    hold = await terminal_hold(stripe_client, amount=4000)
    adapter = StripeProcessor(KEY, api_base=proxy.base)
    proxy.drop_answer(f"GET /v1/payment_intents/{hold}")
    try:
        answer = await adapter.retrieve(hold)
    finally:
        await adapter.close()

    assert isinstance(answer, Unavailable)  # a read changes nothing: try again later


# --- what Stripe says that localstripe never does --------------------------------------


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


@pytest.fixture
async def stand_in(socket_enabled: None) -> AsyncIterator[tuple[StandIn, StripeProcessor]]:
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


@pytest.mark.parametrize(
    ("status", "body", "confirm_says", "retrieve_says"),
    [
        (429, _error("rate_limit"), Unavailable("rate limited"), Unavailable("rate limited")),
        (503, _error(None, "api_error"), Unavailable("processor error 503"), None),
        (500, _error(None, "api_error"), Unknown("processor error 500", "pi_1"), None),
        (401, _error(None), Unavailable("key refused"), Unavailable("key refused")),
        (403, _error(None), Unavailable("key refused"), Unavailable("key refused")),
        (
            400,
            _error("payment_intent_unexpected_state"),
            Unknown("payment_intent_unexpected_state", "pi_1"),
            None,
        ),
        (400, _error("amount_too_large"), Declined("amount_too_large", "pi_1"), None),
        (
            400,
            {"error": {"type": "idempotency_error", "message": "reused"}},
            Unknown("processor error 400", "pi_1"),
            Unavailable("processor error 400"),
        ),
        (402, _error("expired_card", "card_error"), Declined("expired_card", "pi_1"), None),
    ],
)
async def test_what_each_stripe_error_tells_the_caller(
    stand_in: tuple[StandIn, StripeProcessor],
    status: int,
    body: dict[str, Any],
    confirm_says: Any,
    retrieve_says: Any,
) -> None:
    fake, adapter = stand_in
    fake.answers = {CONFIRM: (status, body), RETRIEVE: (status, body)}

    confirmed = await adapter.confirm_payment("pi_1", idempotency_key="k")
    retrieved = await adapter.retrieve("pi_1")

    assert confirmed == confirm_says
    if retrieve_says is not None:
        assert retrieved == retrieve_says
    elif status >= 500:
        assert retrieved == Unavailable(f"processor error {status}")
    else:
        assert isinstance(retrieved, Declined)  # a read's refusal is no reason to look again


async def test_the_card_comes_from_the_charge_when_stripe_reports_it(
    stand_in: tuple[StandIn, StripeProcessor],
) -> None:
    fake, adapter = stand_in
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 900,
        "amount_received": 850,
        "latest_charge": {
            "id": "ch_1",
            "object": "charge",
            "payment_method_details": {"card_present": {"brand": "mastercard", "last4": "4444"}},
        },
    }
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
    stand_in: tuple[StandIn, StripeProcessor],
    method_answer: tuple[int, dict[str, Any]],
    card: tuple[str | None, str | None],
) -> None:
    fake, adapter = stand_in
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": 900,
        "payment_method": "pm_1",
        "latest_charge": {"id": "ch_1", "object": "charge", "amount_captured": 900},
    }
    fake.answers = {RETRIEVE: (200, intent), "/v1/payment_methods/pm_1": method_answer}

    answer = await adapter.retrieve("pi_1")

    assert answer == Accepted("pi_1", PaymentState.CAPTURED, 900, *card)
    assert fake.paths == [RETRIEVE, "/v1/payment_methods/pm_1"]


async def test_a_hold_is_what_stripe_says_can_be_captured(
    stand_in: tuple[StandIn, StripeProcessor],
) -> None:
    fake, adapter = stand_in
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": "requires_capture",
        "amount": 5000,
        "amount_capturable": 4500,
    }
    fake.answers = {RETRIEVE: (200, intent)}

    assert await adapter.retrieve("pi_1") == Accepted("pi_1", PaymentState.AUTHORISED, 4500)


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
    stand_in: tuple[StandIn, StripeProcessor], status: str, state: PaymentState
) -> None:
    fake, adapter = stand_in
    intent = {"id": "pi_1", "object": "payment_intent", "status": status, "amount": 700}
    fake.answers = {RETRIEVE: (200, intent)}

    answer = await adapter.retrieve("pi_1")

    assert isinstance(answer, Accepted)
    assert answer.state is state


# --- the secret key --------------------------------------------------------------------


def test_the_key_is_read_from_its_file(tmp_path: Path) -> None:
    path = tmp_path / "stripe.key"
    path.write_text(f"{SECRET_KEY}\n", encoding="utf-8")
    path.chmod(0o600)

    key = load_secret_key(path)

    assert key.value == SECRET_KEY
    assert SECRET_KEY not in repr(key)
    assert SECRET_KEY not in str(key)
    assert SECRET_KEY not in f"{key}"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"pk_test_publishable", "must hold one Stripe secret key"),
        (b"sk_test_a sk_test_b", "must hold one Stripe secret key"),
        (b"\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_an_unusable_key_file_is_refused_without_showing_it(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "stripe.key"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(SecretKeyError) as raised:
        load_secret_key(path)

    assert problem in str(raised.value)
    assert str(path) in str(raised.value)
    for word in (content or b"").decode(errors="replace").split():
        assert word not in str(raised.value)


def test_an_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyError, match="cannot read"):
        load_secret_key(tmp_path)  # a directory


def test_a_key_file_everybody_may_read_is_used_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "stripe.key"
    path.write_text(SECRET_KEY, encoding="utf-8")
    path.chmod(0o644)
    assert path.stat().st_mode & stat.S_IROTH

    key = load_secret_key(path)

    assert key.value == SECRET_KEY
    assert "can be read by every user" in caplog.text
    assert SECRET_KEY not in caplog.text


async def test_the_key_never_shows_in_logs_answers_or_repr(
    localstripe: LocalStripe, stripe_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer, _ = await add_customer(stripe_client, card=DECLINES_ON_CHARGE)
    adapter = StripeProcessor(KEY, api_base=localstripe.url)
    down = StripeProcessor(KEY, api_base=f"http://127.0.0.1:{free_port()}")
    try:
        payment = await _charge(adapter, customer)
        answers = [
            await adapter.confirm_payment(payment, idempotency_key="k2"),
            await adapter.retrieve(payment),
            await adapter.capture_hold(payment, amount=1, idempotency_key="k3"),
            await down.confirm_payment(payment, idempotency_key="k4"),
        ]
        shown = [repr(adapter), str(adapter), *map(repr, answers)]
    finally:
        await adapter.close()
        await down.close()

    assert any("stripe" in record.name for record in caplog.records)  # the library did log
    assert SECRET_KEY not in caplog.text
    assert not any(SECRET_KEY in text for text in shown)


async def test_close_closes_the_http_session(processor: StripeProcessor) -> None:
    await processor.retrieve("pi_missing")
    session = processor._http._cached_session
    assert session is not None
    assert not session.closed

    await processor.close()

    await until("the session is closed", lambda: session.closed)


async def test_a_captured_payment_that_names_no_card_has_none(
    stand_in: tuple[StandIn, StripeProcessor],
) -> None:
    fake, adapter = stand_in
    intent = {"id": "pi_1", "object": "payment_intent", "status": "succeeded", "amount": 700}
    fake.answers = {RETRIEVE: (200, intent)}

    answer = await adapter.retrieve("pi_1")

    assert answer == Accepted("pi_1", PaymentState.CAPTURED, 700)
    assert fake.paths == [RETRIEVE]
