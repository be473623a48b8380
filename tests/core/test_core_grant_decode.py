"""Stored grants read fast are the grants `Grant.from_dict` reads, and refused alike."""

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.concierge.core.grant_decode import grant_from_stored, state_from_stored
from custom_components.concierge.core.grant_terms import AlarmPolicy, Credentials, Policy
from custom_components.concierge.core.grants import Grant, GrantKind, GrantState, new_grant
from custom_components.concierge.core.windows import OneOffWindow, Schedule, WeeklyWindow

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
HOUR = timedelta(hours=1)
WEEKLY = WeeklyWindow(frozenset({1, 3}), time(9), time(12))


def _grant(**changes: Any) -> Grant:
    grant = new_grant(
        label="Guest", kind=GrantKind.GUEST, portals=("front", "back"),
        schedule=Schedule((OneOffWindow(T0, T0 + 2 * HOUR),)), now=T0 - 24 * HOUR,
    )  # fmt: skip
    return replace(grant, **changes)


GRANTS = [
    _grant(),
    _grant(credentials=Credentials(pin="482913", remote_token=True)),
    _grant(policy=Policy(AlarmPolicy.LEAVE_ALONE, require_camera=True, notify=False)),
    _grant(max_uses=3, uses=2, max_visit_minutes=30, suspended=True, description="Hi"),
    _grant(revoked=True, carriers=("dhl", "ups"), kind=GrantKind.COURIER),
    _grant(schedule=Schedule((WEEKLY,), valid_from=T0, valid_until=T0 + 900 * HOUR)),
    _grant(schedule=Schedule((WEEKLY,), skipped=frozenset({date(2026, 11, 26)}))),
    _grant(
        schedule=Schedule(
            (OneOffWindow(T0, T0 + HOUR), WEEKLY, OneOffWindow(T0 + 5 * HOUR, T0 + 6 * HOUR)),
            valid_from=T0 + HOUR / 2,
        )
    ),
]


@pytest.mark.parametrize("grant", GRANTS)
def test_a_stored_grant_reads_back_as_it_was(grant: Grant) -> None:
    stored = grant.to_dict()
    assert grant_from_stored(stored) == Grant.from_dict(stored) == grant


def test_a_time_stored_with_an_offset_reads_as_the_same_instant() -> None:
    stored = GRANTS[0].to_dict()
    stored["created_at"] = "2026-11-23T10:00:00+01:00"
    stored["schedule"]["windows"][0]["start"] = "2026-11-24T10:00:00+01:00"  # type: ignore[index]
    read = grant_from_stored(stored)
    assert read == Grant.from_dict(stored)
    assert read.created_at.tzinfo is UTC
    assert read.schedule.windows[0].start == T0  # type: ignore[union-attr]


def _broken() -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = [("not a mapping", ["id"])]
    for key, value in [
        ("id", 7), ("id", "Not An Id"), ("label", ""), ("label", None), ("kind", "alien"),
        ("kind", ["guest"]), ("portals", "front"), ("portals", [1]), ("portals", []),
        ("created_at", "yesterday"), ("created_at", "2026-11-24T09:00:00"), ("created_at", 5),
        ("max_uses", True), ("max_uses", 0), ("uses", "1"), ("suspended", 1),
        ("carriers", "dhl"), ("carriers", [1]), ("description", 5),
        ("credentials", None), ("credentials", {"pin": "12", "remote_token": False,
                                                "guest_link": False}),
        ("credentials", {"pin": None, "remote_token": 0, "guest_link": False}),
        ("policy", {"alarm": "siren", "require_camera": False,
                    "refuse_when_pets_home": False, "notify": True}),
        ("policy", {"alarm": "leave_alone", "require_camera": None,
                    "refuse_when_pets_home": False, "notify": True}),
        ("policy", "default"),
        ("schedule", None), ("schedule", {"windows": []}),
        ("schedule", {"windows": "one_off"}),
        ("schedule", {"windows": [{"type": "one_off", "start": T0.isoformat(),
                                   "end": T0.isoformat()}]}),
        ("schedule", {"windows": [{"type": "monthly"}]}),
        ("schedule", {"windows": [{"type": "one_off", "start": T0.isoformat(),
                                   "end": (T0 + HOUR).isoformat()}],
                      "valid_from": "soon"}),
    ]:  # fmt: skip
        stored = GRANTS[0].to_dict()
        stored[key] = value
        cases.append((f"{key}={value!r}", stored))
    return cases


@pytest.mark.parametrize(("case", "stored"), _broken(), ids=[c for c, _ in _broken()])
def test_a_broken_stored_grant_is_refused_as_from_dict_refuses_it(case: str, stored: Any) -> None:
    with pytest.raises(Exception) as slow:  # noqa: PT011 - whatever from_dict raises
        Grant.from_dict(copy.deepcopy(stored))
    with pytest.raises(type(slow.value)) as fast:
        grant_from_stored(stored)
    assert str(fast.value) == str(slow.value), case
    assert getattr(fast.value, "translation_key", None) == getattr(
        slow.value, "translation_key", None
    )


def test_grants_share_their_policy_but_never_a_pin() -> None:
    first, second = (grant_from_stored(_grant().to_dict()) for _ in range(2))
    assert first.policy is second.policy
    assert first.credentials is second.credentials  # no PIN: nothing secret to share
    with_pin = _grant(credentials=Credentials(pin="482913")).to_dict()
    assert grant_from_stored(with_pin).credentials is not grant_from_stored(with_pin).credentials


def test_recorded_states_are_read_as_before() -> None:
    assert state_from_stored("active") is GrantState.ACTIVE
    for bad in ("asleep", 3, None):
        with pytest.raises(ValueError, match="is not a valid GrantState"):
            state_from_stored(bad)
