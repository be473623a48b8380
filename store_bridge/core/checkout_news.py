"""What a checkout's transitions tell the world: its events (`News`) and the counts.

Events carry amounts, currencies and reasons only: never the account, customer or payment
references. A block alerts once per checkout (`Checkout.alerted`), restarts included; a
written-off amount's blocked release alerts as ``store_misconfigured`` (what the operator
fixes), its reason staying ``amount_too_small`` (it is never owed).
"""

from dataclasses import dataclass

from .checkout import AMOUNT_TOO_SMALL, STORE_MISCONFIGURED, Checkout, Kind, Phase


@dataclass(frozen=True, slots=True)
class News:
    """One event a transition makes (type, outcome, reason and its `data`)."""

    type: str
    outcome: str
    reason: str | None
    data: dict[str, int | str]


def started(checkout: Checkout) -> list[News]:
    """The events of a new checkout: `checkout_started`, and what it came to at once."""
    first = News(
        "checkout_started",
        "info",
        None,
        {"amount": checkout.total, "currency": checkout.currency, "items": checkout.items},
    )
    before = Checkout(
        id=checkout.id,
        visit=checkout.visit,
        kind=checkout.kind,
        account=checkout.account,
        customer=checkout.customer,
        total=checkout.total,
        currency=checkout.currency,
        items=checkout.items,
    )
    return [first, *news(before, checkout)]


def news(before: Checkout, after: Checkout) -> list[News]:
    """The events of one transition (none while it is under way)."""
    money: dict[str, int | str] = {"currency": after.currency}
    if after.phase is Phase.BLOCKED and before.phase is not Phase.BLOCKED:
        if before.alerted:  # alerted once already (before a restart): not again
            return []
        data: dict[str, int | str] = {"amount": after.total, **money}
        reason = after.reason if after.reason != AMOUNT_TOO_SMALL else None
        return [News("payment_failed", "failed", reason or STORE_MISCONFIGURED, data)]
    if before.finished or not after.finished:
        return []
    found: list[News] = []
    if after.captured:
        found.append(News("payment_captured", "ok", None, {"amount": after.captured, **money}))
    released = after.kind is Kind.CARD and not after.captured  # an empty cart, or written off
    if released and (
        after.reason == AMOUNT_TOO_SMALL or (after.phase, after.reason) == (Phase.DONE, None)
    ):
        found.append(News("hold_released", "ok", None, money))
    if after.outstanding or after.phase is Phase.FAILED:  # owed, or written off
        found.append(
            News(
                "payment_failed",
                "failed",
                after.reason or "declined",
                {"amount": after.outstanding or after.total, **money},
            )
        )
    return found


def counts(checkouts: list[Checkout]) -> dict[str, int]:
    """Checkouts under way, those retrying, and those failed or blocked for the operator."""
    pending = [c for c in checkouts if not c.stopped]
    return {
        "pending": len(pending),
        "retrying": sum(1 for c in pending if c.attempts),
        "failed": sum(1 for c in checkouts if c.phase in {Phase.FAILED, Phase.BLOCKED}),
    }
