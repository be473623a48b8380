"""Refusals of unproven requests: counted per reason and interval, one summary each."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.deny import DenyReason
from custom_components.concierge.core.errors import InvalidCredentialError
from custom_components.concierge.core.events import Source
from custom_components.concierge.core.refusal_tally import (
    COUNTED,
    MAX_SUMMARIES,
    RefusalTally,
    is_counted,
)

from .token_helpers import NOW

COURIER = Source.COURIER_TOKEN


def test_only_refusals_before_a_proven_signature_are_counted() -> None:
    for reason in DenyReason:
        assert is_counted(reason, signature_proven=True) is False
    counted = {r for r in DenyReason if is_counted(r, signature_proven=False)}
    assert counted == {
        DenyReason.MALFORMED, DenyReason.ALG_NOT_ALLOWED, DenyReason.UNKNOWN_CARRIER,
        DenyReason.UNKNOWN_KEY, DenyReason.BAD_SIGNATURE, DenyReason.MISSING_CLAIM,
        DenyReason.RATE_LIMITED, DenyReason.BODY_TOO_LARGE,
    }  # fmt: skip
    # Genuine attempts are never counted, whatever the caller says.
    for reason in (DenyReason.EXPIRED, DenyReason.REPLAYED, DenyReason.WRONG_CARRIER):
        assert not is_counted(reason, signature_proven=False)


def test_one_summary_per_reason_with_counts_times_and_clients() -> None:
    tally = RefusalTally(interval_s=60)
    for n in range(1000):
        at = NOW + timedelta(milliseconds=50 * n)
        assert tally.add(DenyReason.BAD_SIGNATURE, COURIER, f"10.0.{n % 7}.1", at) == []
    assert tally.add(DenyReason.MALFORMED, Source.GUEST_LINK, "10.9.9.9", NOW) == []
    assert len(tally) == 1001
    assert tally.closes_at == NOW + timedelta(seconds=60)
    bad, junk = sorted(tally.flush(), key=lambda s: s.count, reverse=True)
    assert (bad.reason, bad.source, bad.count, bad.clients) == (
        DenyReason.BAD_SIGNATURE, COURIER, 1000, 7,
    )  # fmt: skip
    assert (bad.first, bad.last) == (NOW, NOW + timedelta(milliseconds=50 * 999))
    assert bad.data() == {
        "refusals": 1000, "first_at": "2025-06-02T08:00:00.000Z",
        "last_at": "2025-06-02T08:00:49.950Z", "clients": 7, "clients_capped": False,
        "interval_s": 60.0,
    }  # fmt: skip
    assert (junk.reason, junk.source, junk.count) == (DenyReason.MALFORMED, Source.GUEST_LINK, 1)
    assert len(tally) == 0
    assert tally.closes_at is None
    assert tally.flush() == []


def test_a_refusal_after_the_interval_closed_returns_the_old_summaries() -> None:
    tally = RefusalTally(interval_s=60)
    tally.add(DenyReason.MALFORMED, COURIER, "a", NOW)
    tally.add(DenyReason.MALFORMED, COURIER, "a", NOW + timedelta(seconds=59))
    assert tally.due(NOW + timedelta(seconds=59)) == []
    (closed,) = tally.add(DenyReason.MALFORMED, COURIER, "b", NOW + timedelta(seconds=61))
    assert closed.count == 2
    assert tally.closes_at == NOW + timedelta(seconds=121)  # a new interval opened
    (pending,) = tally.flush()
    assert (pending.count, pending.clients) == (1, 1)


def test_distinct_clients_are_counted_up_to_a_cap() -> None:
    tally = RefusalTally(max_clients=3)
    for n in range(10):
        tally.add(DenyReason.RATE_LIMITED, COURIER, f"c{n}", NOW)
    tally.add(DenyReason.RATE_LIMITED, COURIER, "c0", NOW)
    (summary,) = tally.flush()
    assert (summary.count, summary.clients, summary.clients_capped) == (11, 3, True)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(sorted(COUNTED)),
            st.sampled_from([Source.COURIER_TOKEN, Source.GUEST_LINK]),
            st.integers(0, 5000),
            st.integers(0, 600_000),
        ),
        max_size=300,
    )
)
def test_no_refusal_is_lost_and_no_interval_writes_more_than_the_cap(
    refusals: list[tuple[DenyReason, Source, int, int]],
) -> None:
    tally = RefusalTally(interval_s=60)
    summaries = []
    for reason, source, client, ms in sorted(refusals, key=lambda r: r[3]):
        closed = tally.add(reason, source, str(client), NOW + timedelta(milliseconds=ms))
        assert len(closed) <= MAX_SUMMARIES
        summaries.extend(closed)
    last = tally.flush()
    assert len(last) <= MAX_SUMMARIES
    summaries.extend(last)
    assert sum(s.count for s in summaries) == len(refusals)
    assert all(s.first <= s.last and s.last - s.first < timedelta(seconds=60) for s in summaries)


def test_genuine_reasons_naive_times_and_bad_settings_are_refused() -> None:
    tally = RefusalTally()
    with pytest.raises(ValueError, match="recorded, not counted"):
        tally.add(DenyReason.EXPIRED, COURIER, "a", NOW)
    with pytest.raises(ValueError, match="recorded, not counted"):
        tally.add(DenyReason.MALFORMED, Source.KEYPAD, "a", NOW)
    with pytest.raises(InvalidCredentialError):
        tally.add(DenyReason.MALFORMED, COURIER, "a", NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="positive"):
        RefusalTally(interval_s=0)
    assert len(tally) == 0
