"""A PIN belongs to one grant per door while that grant is not over."""

from datetime import UTC, datetime

from custom_components.concierge.core.grants import (
    Credentials,
    Grant,
    GrantKind,
    GrantState,
    new_grant,
)
from custom_components.concierge.core.pins import pin_conflict
from custom_components.concierge.core.windows import OneOffWindow, Schedule

NOW = datetime(2026, 12, 6, 10, tzinfo=UTC)


def grant(pin: str | None, portals: tuple[str, ...] = ("front",), label: str = "A") -> Grant:
    return new_grant(
        now=NOW, label=label, kind=GrantKind.CLEANER, portals=portals,
        schedule=Schedule((OneOffWindow(NOW, NOW.replace(hour=12)),)),
        credentials=Credentials(pin=pin),
    )  # fmt: skip


def test_the_same_pin_on_a_shared_door_is_a_conflict() -> None:
    first = grant("482913", ("front", "back"))
    second = grant("482913", ("back",), "B")
    assert pin_conflict(second, [first], {first.id: GrantState.ACTIVE}) == (first, "back")
    assert pin_conflict(second, [first], {first.id: GrantState.SCHEDULED}) == (first, "back")


def test_no_conflict_with_itself_other_doors_other_pins_or_grants_that_are_over() -> None:
    first = grant("482913")
    assert pin_conflict(first, [first], {}) is None
    assert pin_conflict(grant("482913", ("back",)), [first], {}) is None
    assert pin_conflict(grant("111222"), [first], {}) is None
    assert pin_conflict(grant(None), [first], {}) is None
    for over in (GrantState.EXPIRED, GrantState.REVOKED, GrantState.USED_UP):
        assert pin_conflict(grant("482913"), [first], {first.id: over}) is None
