"""The checkout's parts from a configuration: the processor, the settings, the receipts.

What `serve`'s bridge and its checkout process (`checkout_process.py`) both build, without
the rest of `service.py` (the checkout process starts faster without the gates and the API).
"""

from collections.abc import Callable
from datetime import UTC

from .checkout_purchases import CheckoutPurchases
from .checkout_runner import CheckoutSettings
from .config import BridgeConfig, ConfigError
from .database import Database
from .events import Wire
from .ledger import Ledger
from .mail_config import MailSpec
from .mailer import Mailer
from .payments import Processor
from .payments_config import PaymentsSpec
from .receipts import ReceiptNews, Receipts
from .shelf_config import ShelfConfig
from .vocabulary import EventType, Outcome


def build_processor(spec: PaymentsSpec) -> Processor:
    """The configured payment processor; a secret key that cannot be used is a `ConfigError`."""
    if spec.processor == "fake":
        from .fake_processor import FakeProcessor  # noqa: PLC0415

        return FakeProcessor()
    from .stripe_processor import (  # noqa: PLC0415 - only a store that charges needs stripe
        SecretKeyError,
        StripeProcessor,
        load_secret_key,
    )

    assert spec.secret_key_file is not None  # noqa: S101 - required for Stripe by the config
    try:
        key = load_secret_key(spec.secret_key_file)
    except SecretKeyError as err:
        raise ConfigError(f"payments.secret_key_file: {err}") from None
    return StripeProcessor(key, api_base=spec.api_base)


def settings_for(
    spec: PaymentsSpec, shelf: ShelfConfig | None, config: BridgeConfig | None
) -> CheckoutSettings:
    """The checkout's settings: `spec`'s, the catalogue's currency, the store's time zone."""
    currencies = [] if shelf is None else shelf.products.values()
    return CheckoutSettings(
        settle_s=spec.settle_s,
        review_deadline_s=spec.review_deadline_s,
        concurrency=spec.concurrency,
        timezone=UTC if config is None else config.timezone,
        currency=next((product.currency for product in currencies), "EUR"),
    )


def checkout_settings(config: BridgeConfig) -> CheckoutSettings:
    """The checkout's settings from a configuration with `[payments]`."""
    assert config.payments is not None  # noqa: S101 - asked only with payments
    return settings_for(config.payments, config.shelf, config)


def receipt_events(ledger: Ledger) -> Callable[[ReceiptNews], list[Wire]]:
    """The events of what became of a receipt request (`receipt_sent`, `receipt_failed`)."""

    def news(item: ReceiptNews) -> list[Wire]:
        sent = item.kind == EventType.RECEIPT_SENT.value
        event = ledger.event(
            EventType(item.kind),
            Outcome.OK if sent else Outcome.FAILED,
            visit=item.visit,
            data={"attempts": item.attempts},
        )
        ledger.activity.saw([event], ledger.clock())
        ledger.wake_publisher()
        return [event]

    return news


def make_receipts(db: Database, spec: MailSpec, ledger: Ledger, store: str) -> Receipts:
    """Receipts on request, sent through SMTP, their news recorded through `ledger`."""
    return Receipts(
        db,
        spec,
        Mailer(spec),
        CheckoutPurchases(db),
        store=store,
        news=receipt_events(ledger),
        clock=ledger.clock,
    )
