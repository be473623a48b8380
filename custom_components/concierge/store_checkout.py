"""A store's checkout in Home Assistant: its sales and payments sensors and their repairs.

A bridge with payments says in its status how its checkouts stand (`checkout`: checkouts
pending, retrying and failed, the accounts that owe, today's sales, receipts waiting and
failed, refunds uncertain — aggregates only, `core.store_sales`). The store's checkout
entities (sensors for the counts and today's sales, an event entity for what someone may
have to act on) are added when the bridge first says so, so a store without payments gets
none.

While accounts owe a failed payment a repair issue says how many (their next check-in is
refused with `payment_outstanding` until an operator settles them); it goes when they are
settled, and with the store (unload). Uncertain refunds (sent, the answer lost, pending at
the processor) are for a closer look only (a diagnostic sensor), like payments retrying: the
bridge looks each one up itself until it is known. One still uncertain an hour after it was
asked for (the bridge counts those apart: `refunds_stuck`) is the operator's to look into: a
second repair issue stands while there is any, the same way.

Today's sales are a daily total: the day starts at local midnight, or when the bridge's
totals go back down (its day turned, in the store's time zone); `last_reset` says which.
"""

from collections.abc import Callable, Iterable
from datetime import datetime

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.store_sales import CHECKOUT_COUNTS, CheckoutCounts, day_started
from .store_found import async_add_when_found
from .store_issues import CountIssues, count_issue_id

OWING_ISSUE = "payments_outstanding"
"""The debts' repair issue's translation key."""
STUCK_ISSUE = "refunds_stuck"
"""The stuck refunds' repair issue's translation key."""
ISSUES = (OWING_ISSUE, STUCK_ISSUE)


def signal_checkout_found(entry_id: str) -> str:
    """Dispatcher signal: the bridge said for the first time that the store takes payments."""
    return f"{DOMAIN}_{entry_id}_checkout_found"


def owing_issue_id(entry_id: str) -> str:
    """The id of a store's repair issue about accounts that owe."""
    return count_issue_id(OWING_ISSUE, entry_id)


def stuck_issue_id(entry_id: str) -> str:
    """The id of a store's repair issue about refunds uncertain for too long."""
    return count_issue_id(STUCK_ISSUE, entry_id)


class CheckoutView:
    """What Home Assistant knows of a store's checkouts: the last counts its bridge sent."""

    def __init__(self, hass: HomeAssistant, entry_id: str, store_name: str) -> None:
        """Nothing known until the bridge's status names its checkouts."""
        self.hass = hass
        self.entry_id = entry_id
        self.store_name = store_name
        self.counts: CheckoutCounts | None = None
        self.day_started_at: datetime = dt_util.start_of_local_day()
        """When today's sales began: local midnight, or when the bridge's day turned."""
        self._issues = CountIssues(hass, entry_id, store_name, ISSUES)

    @callback
    def update(self, counts: CheckoutCounts) -> None:
        """Take the bridge's counts; announce the checkout the first time; follow repairs."""
        first = self.counts is None
        before = None if self.counts is None else self.counts.sales_today
        if day_started(before, counts.sales_today):
            now = dt_util.now()
            midnight = dt_util.start_of_local_day(now)
            self.day_started_at = midnight if midnight > self.day_started_at else now
        self.counts = counts
        self._issues.follow(OWING_ISSUE, counts.outstanding_accounts or 0)
        self._issues.follow(STUCK_ISSUE, counts.refunds_stuck or 0)
        if first:
            async_dispatcher_send(self.hass, signal_checkout_found(self.entry_id))

    def last_reset(self) -> datetime:
        """When today's sales began (local midnight, unless the bridge's day turned since)."""
        midnight = dt_util.start_of_local_day()
        return max(midnight, self.day_started_at)

    @callback
    def close(self) -> None:
        """The store goes (unload): its repair issues go with it."""
        self._issues.close()

    def diagnostics(self) -> dict[str, object] | None:
        """The last counts (numbers and a currency only), or None for a store without payments."""
        counts = self.counts
        if counts is None:
            return None
        sales = counts.sales_today
        return {
            **{key: getattr(counts, key) for key in CHECKOUT_COUNTS},
            "sales_today": None
            if sales is None
            else {
                "amount": sales.amount,
                "count": sales.count,
                "refunded": sales.refunded,
                "currency": sales.currency,
            },
            "day_started_at": self.last_reset().isoformat(),
        }


@callback
def async_add_checkout_entities(
    view: CheckoutView,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[], Iterable[Entity]],
    on_unload: Callable[[Callable[[], None]], object],
) -> None:
    """Add the checkout entities `make` builds now if payments are known, else once they are."""
    async_add_when_found(
        view.hass,
        known=view.counts is not None,
        signal=signal_checkout_found(view.entry_id),
        async_add_entities=async_add_entities,
        make=make,
        on_unload=on_unload,
    )
