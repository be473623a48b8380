"""A grant may name the carriers whose courier tokens it accepts; none means any."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.concierge.core.errors import InvalidGrantError, StoredDataError
from custom_components.concierge.core.grant_carriers import MAX_GRANT_CARRIERS, admits_carrier
from custom_components.concierge.core.grants import (
    Grant,
    GrantAction,
    GrantKind,
    apply_action,
    new_grant,
)
from custom_components.concierge.core.windows import OneOffWindow, Schedule

START = datetime(2025, 6, 2, 8, tzinfo=UTC)
SCHEDULE = Schedule((OneOffWindow(START, START + timedelta(hours=2)),))
TZ = ZoneInfo("Europe/Berlin")


def courier(**overrides: object) -> Grant:
    values: dict[str, object] = {
        "label": "Parcels", "kind": GrantKind.COURIER, "portals": ("front",),
        "schedule": SCHEDULE, "now": START - timedelta(days=1), "grant_id": "g1",
    } | overrides  # fmt: skip
    return new_grant(**values)  # type: ignore[arg-type]


def test_a_grant_naming_a_carrier_admits_only_that_carrier() -> None:
    grant = courier(carriers=("parcelco",))
    assert admits_carrier(grant.carriers, "parcelco")
    assert not admits_carrier(grant.carriers, "evilco")


def test_a_grant_naming_none_admits_any_carrier() -> None:
    grant = courier()
    assert grant.carriers == ()
    assert admits_carrier(grant.carriers, "parcelco")
    assert admits_carrier(grant.carriers, "anyone-else")


@pytest.mark.parametrize(
    "carriers",
    [
        ("parcelco", "parcelco"),
        ("bad id",),
        ("",),
        ["parcelco"],
        tuple(f"c{n}" for n in range(MAX_GRANT_CARRIERS + 1)),
        (7,),
    ],
)
def test_invalid_carriers_are_refused(carriers: object) -> None:
    with pytest.raises(InvalidGrantError) as err:
        courier(carriers=carriers)
    assert err.value.translation_key == "invalid_carrier"
    assert err.value.placeholders == {"field": "carriers"}


def test_carriers_are_stored_and_read_back_and_old_data_admits_any() -> None:
    grant = courier(carriers=("parcelco", "fastpost"))
    data = grant.to_dict()
    assert data["carriers"] == ["parcelco", "fastpost"]
    assert Grant.from_dict(data) == grant
    older = {k: v for k, v in data.items() if k != "carriers"}  # stored before the field
    assert Grant.from_dict(older).carriers == ()
    with pytest.raises(StoredDataError):
        Grant.from_dict(data | {"carriers": [1]})
    with pytest.raises(StoredDataError):
        Grant.from_dict(data | {"carriers": "parcelco"})


def test_an_update_changes_the_carriers_and_validates_them() -> None:
    grant = courier()
    now = START - timedelta(hours=1)
    updated = apply_action(grant, GrantAction.UPDATE, now, TZ, carriers=("parcelco",))
    assert updated.carriers == ("parcelco",)
    assert apply_action(updated, GrantAction.UPDATE, now, TZ, carriers=()).carriers == ()
    with pytest.raises(InvalidGrantError):
        apply_action(grant, GrantAction.UPDATE, now, TZ, carriers=("a", "a"))
