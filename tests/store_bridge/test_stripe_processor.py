"""The Stripe adapter against a real localstripe, through the real `stripe` library.

What the checkout relies on: a payment is created without moving money and confirmed once;
holds are captured (at most the hold) or released; refunds; declines; a processor that is down
or a connection that drops mid-request answers what the caller must do next, and `retrieve`
afterwards tells the truth; an unknown customer is the store's mistake, never the shopper's
decline; the library logs no personal data, and the key travels in clear text to this machine
only. Answers localstripe cannot give (429, 5xx, 401, refund statuses other than succeeded)
are in `test_stripe_answers.py`, from a small stand-in Stripe server.
"""

import logging
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import stripe

from store_bridge.payments import (
    Accepted,
    Declined,
    Misconfigured,
    PaymentState,
    RefundDone,
    Unavailable,
    Unknown,
)
from store_bridge.stripe_processor import (
    ApiBaseError,
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


async def test_an_unknown_customer_is_the_stores_mistake_not_the_shoppers_decline(
    processor: StripeProcessor, stripe_client: Any
) -> None:
    answer = await processor.create_payment(
        customer="cus_nobody", amount=500, currency="eur", reference="co-1", idempotency_key="k"
    )

    assert answer == Misconfigured("resource_missing")
    assert await payment_intents(stripe_client) == []


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
    assert [(r.id, r.amount, r.status) for r in refunds.data] == [(answer.refund, 750, "succeeded")]
    [intent] = await payment_intents(stripe_client)
    assert intent["latest_charge"]["amount_refunded"] == 750
    assert await processor.retrieve_refund(answer.refund) == answer


async def test_an_unknown_refund_is_the_stores_mistake(processor: StripeProcessor) -> None:
    assert await processor.retrieve_refund("re_nothing") == Misconfigured("resource_missing")


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
            lambda: adapter.retrieve_refund("re_1"),
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

    assert any(r.name.startswith("store_bridge.stripe") for r in caplog.records)  # it did log
    assert SECRET_KEY not in caplog.text
    assert not any(SECRET_KEY in text for text in shown)


# --- no personal data in the logs ----------------------------------------------------------

EMAIL = "erika.mustermann@example.org"
NAME = "Erika Mustermann"


async def test_the_stripe_library_logs_no_personal_data_at_debug(
    localstripe: LocalStripe,
    stripe_client: Any,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    customer, method = await add_customer(stripe_client, email=EMAIL, name=NAME)
    monkeypatch.setattr(stripe, "log", "debug")  # the library's own switches, both on
    monkeypatch.setattr(stripe._util, "STRIPE_LOG", "debug")
    caplog.set_level(logging.DEBUG)  # the root logger, as `store-bridge -v` sets it
    caplog.clear()  # what the rig's own set-up logged is not the adapter's
    capsys.readouterr()
    adapter = StripeProcessor(KEY, api_base=localstripe.url)
    monkeypatch.setattr(stripe, "log", "debug")  # turned on again after the adapter started
    logging.getLogger("stripe").setLevel(logging.DEBUG)  # and its logger too
    try:
        payment = await _charge(adapter, customer)
        confirmed = await adapter.confirm_payment(payment, idempotency_key="k2")
        await adapter.retrieve(payment)
        refund = await adapter.refund(payment, amount=100, idempotency_key="r1")
        assert isinstance(refund, RefundDone)
        await adapter.retrieve_refund(refund.refund)
        await adapter.create_payment(  # refused: the adapter logs its own warning
            customer="cus_nobody", amount=1, currency="eur", reference="r", idempotency_key="k"
        )
    finally:
        await adapter.close()
        logging.getLogger("stripe").setLevel(logging.WARNING)
    printed = capsys.readouterr()

    assert confirmed == Accepted(payment, PaymentState.CAPTURED, 1234, "visa", "4242")
    assert "Stripe: misconfigured (resource_missing)" in caplog.text
    shown = caplog.text + printed.err + printed.out
    for personal in (customer, "cus_nobody", method, EMAIL, NAME, SECRET_KEY, "last4"):
        assert personal not in shown


def test_a_stripe_child_logger_set_to_debug_is_pinned_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    child = logging.getLogger("stripe.rig_child")
    child.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)

    StripeProcessor(KEY)  # nothing sent: no session to close
    child.debug("customer=cus_child")
    logging.getLogger("stripe").info("customer=cus_parent")
    child.warning("a warning still shows")

    assert "cus_" not in caplog.text
    assert "a warning still shows" in caplog.text


# --- where the key may travel ------------------------------------------------------------


@pytest.mark.parametrize(
    "api_base",
    [
        "https://api.stripe.com",
        "https://10.0.0.5:8443",
        "http://127.0.0.1:12111",
        "http://[::1]:12111",
        "http://localhost:12111",
        "http://LOCALHOST",
        "http://127.0.0.2:12111",  # loopback too, as the configuration allows
    ],
)
def test_https_anywhere_and_plain_http_to_this_machine_are_allowed(api_base: str) -> None:
    assert api_base in repr(StripeProcessor(KEY, api_base=api_base))


@pytest.mark.parametrize(
    ("api_base", "problem"),
    [
        ("http://api.stripe.com", "plain http:// is allowed only to this machine"),
        ("http://10.0.0.5:12111", "plain http:// is allowed only to this machine"),
        ("http://192.168.1.1", "plain http:// is allowed only to this machine"),
        ("http://[fe80::1]:12111", "plain http:// is allowed only to this machine"),
        ("http://localhost.example.com", "plain http:// is allowed only to this machine"),
        ("http://user:sk_live_secret@api.example.com", "plain http:// is allowed only"),
        ("ftp://127.0.0.1", "not an http:// or https:// address"),
        ("api.stripe.com", "not an http:// or https:// address"),
        ("http://", "not an http:// or https:// address"),
        ("https://", "not an http:// or https:// address"),
        ("http://[::1", "not an http:// or https:// address"),
    ],
)
def test_the_key_never_travels_in_clear_text_to_another_host(api_base: str, problem: str) -> None:
    with pytest.raises(ApiBaseError) as raised:
        StripeProcessor(KEY, api_base=api_base)

    said = str(raised.value)
    assert problem in said
    assert said in {  # the setting, never its value
        (
            "payments.api_base: plain http:// is allowed only to this machine (127.0.0.1, ::1, "
            "localhost); use https:// for any other host"
        ),
        "payments.api_base: not an http:// or https:// address",
    }


async def test_close_closes_the_http_session(processor: StripeProcessor) -> None:
    await processor.retrieve("pi_missing")
    session = processor._http._cached_session
    assert session is not None
    assert not session.closed

    await processor.close()

    await until("the session is closed", lambda: session.closed)
