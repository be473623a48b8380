"""A card number is refused however it is written, as a card token or as a QR code's `sub`.

A card number is 12-19 digits passing the Luhn check. Written with any separators that are
not letters or digits (``4111.1111.1111.1111``, ``_``, ``:``, mixed, a ``card:`` prefix),
it must still be refused with `card_number_refused`, and the turnstile must stay shut with
nothing stored or logged. The properties below build card numbers the way a careless
integration might send them; the API tests send them to a running bridge and then read the
SQLite files and the log.
"""

import json
import logging
import secrets
import string
import types
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from store_bridge import demo, terminals
from store_bridge.core.card_numbers import looks_like_card_number, luhn_ok
from store_bridge.core.credentials import CredentialRejected, check_card_token, verify_qr
from store_bridge.terminals import CardTap, SimulatedTerminal

from .conftest import ISSUER, SITE, Operator, Store, StoreFactory


def _with_check_digit(body: str) -> str:
    for last in "0123456789":
        if luhn_ok(body + last):
            return body + last
    raise AssertionError(body)  # pragma: no cover - one of ten digits always fits


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    """12-19 digits passing the Luhn check."""
    length = draw(st.integers(12, 19))
    body = draw(st.text("0123456789", min_size=length - 1, max_size=length - 1))
    return _with_check_digit(body)


SEPARATOR_CHARACTERS = st.characters(codec="utf-8").filter(lambda c: not c.isalnum())
SEPARATORS = st.text(SEPARATOR_CHARACTERS, min_size=1, max_size=3)


@st.composite
def written_card_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """(the digits, the text): the number in groups with any separators, inside any text.

    The text before it does not end with a digit and the text after it does not start
    with one: a digit there would make the number another, longer one.
    """
    digits = draw(card_numbers())
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=len(digits) - 1)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    text = groups[0]
    for group in groups[1:]:
        text += draw(SEPARATORS) + group
    before = draw(st.text(max_size=12).filter(lambda t: not t[-1:].isdecimal()))
    after = draw(st.text(max_size=12).filter(lambda t: not t[:1].isdecimal()))
    return digits, before + text + after


ATTACKS = [
    "4111.1111.1111.1111",
    "4111_1111_1111_1111",
    "4111:1111:1111:1111",
    "card:4111111111111111",
    "card:4111.1111.1111.1111",
    "4111 1111-1111.1111",
    "4111-1111_1111:1111",
    "tok_4111.1111.1111.1111_x",
    "4111..1111::1111__1111",
    "pm:5555_5555_5555_4444",
    "378282246310005",
    "3782.822463.10005",
    "4111/1111/1111/1111",
    "4111111111111111.12.27",
    "v2:4111111111111111:exp",
    "6011-0009-9013-9424",
]


# --- the rule ------------------------------------------------------------------------------


@given(written_card_numbers())
@example(("4111111111111111", "4111.1111.1111.1111"))
@example(("4111111111111111", "card:4111_1111:1111-1111"))
@example(("4111111111111111", "４１１１ １１１１ １１１１ １１１１"))  # noqa: RUF001 - the point
def test_a_card_number_is_seen_however_it_is_written(written: tuple[str, str]) -> None:
    _, text = written
    assert looks_like_card_number(text)
    with pytest.raises(CredentialRejected, match=r"^card_number_refused$"):
        check_card_token(text)


@given(written_card_numbers(), st.text(max_size=12))
def test_a_card_number_after_other_digits_is_seen(
    written: tuple[str, str], digits_before: str
) -> None:
    """Digits before it, split from it by a separator, do not hide it."""
    _, text = written
    assert looks_like_card_number(f"2026-11-23 {digits_before}#{text}")


@pytest.mark.parametrize("token", ATTACKS)
def test_the_attack_run_card_tokens_are_refused(token: str) -> None:
    with pytest.raises(CredentialRejected, match=r"^card_number_refused$"):
        check_card_token(token)


@given(card_numbers())
def test_a_number_failing_the_luhn_check_in_one_group_is_a_token(digits: str) -> None:
    """Format-preserving tokens are digits that fail the Luhn check on purpose."""
    wrong = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert not looks_like_card_number(f"tok_{wrong}")
    assert check_card_token(f"tok_{wrong}") == f"tok_{wrong}"


@given(st.text(string.ascii_letters + string.digits, min_size=8, max_size=100))
@example("pm4111111111111111x")
@example("pm4111111111111112x")
@example("4111x1111x1111x1111")
@example("ab41111111111111111111")
def test_letters_end_a_run_of_digits(token: str) -> None:
    """A processor's token of letters and digits is a card number only if 12-19 digits
    stand together in it: letters between digit groups are not separators."""
    groups = "".join(c if c.isdigit() else " " for c in token).split()
    card_like = any(12 <= len(group) <= 19 and luhn_ok(group) for group in groups)
    assert looks_like_card_number(token) is card_like


@pytest.mark.parametrize(
    "token",
    [
        "pm_1Q2w3E4r5T6y7U8i",
        "pm_sim_3f9a0c1b2d4e5f60718293a4",
        "tok_4111111111111112",  # fails the Luhn check
        "ref_41111111111111111111",  # 20 digits in one group: no card number
        "order-2026-11-23-0042",
        "src_4111x1111x1111x1111",  # letters between the groups
    ],
)
def test_tokens_that_are_no_card_numbers_are_taken(token: str) -> None:
    assert check_card_token(token) == token


def test_a_qr_code_whose_sub_is_a_card_number_is_refused(operator: Operator) -> None:
    now = datetime.now(UTC)
    for sub in ATTACKS:
        token = operator.qr(now=now.timestamp(), sub=sub)
        with pytest.raises(CredentialRejected, match=r"^card_number_refused$"):
            verify_qr(token, keys=operator.keys, issuer=ISSUER, site=SITE, now=now)
    token = operator.qr(now=now.timestamp(), sub="acct-4111-2026")
    assert verify_qr(token, keys=operator.keys, issuer=ISSUER, site=SITE, now=now).account == (
        "acct-4111-2026"
    )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=50)
@given(written=written_card_numbers())
def test_any_card_number_as_sub_is_refused(operator: Operator, written: tuple[str, str]) -> None:
    now = datetime.now(UTC)
    token = operator.qr(now=now.timestamp(), sub=written[1])
    with pytest.raises(CredentialRejected, match=r"^card_number_refused$"):
        verify_qr(token, keys=operator.keys, issuer=ISSUER, site=SITE, now=now)


# --- the simulators never make one -------------------------------------------------------


def _hex_after_one_card_number(card_like: str) -> Iterator[str]:
    yield card_like
    while True:
        yield secrets.token_hex(12)


async def test_the_simulated_terminal_never_hands_over_a_card_number(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its random hex can hold 12+ digits in a row (0.2 % of tokens); it draws again."""
    drawn = _hex_after_one_card_number("4111111111111111abcdefab")
    assert looks_like_card_number("pm_sim_4111111111111111abcdefab")
    monkeypatch.setattr(
        terminals, "secrets", types.SimpleNamespace(token_hex=lambda _n: next(drawn))
    )
    taps: list[CardTap] = []

    async def handler(tap: CardTap) -> None:
        taps.append(tap)

    await SimulatedTerminal("terminal_1", handler).tap()
    assert len(taps) == 1
    assert not looks_like_card_number(taps[0].card_token)
    assert taps[0].card_token.startswith("pm_sim_")


def test_the_demo_never_signs_a_card_number_as_account(monkeypatch: pytest.MonkeyPatch) -> None:
    twelve = _with_check_digit("41111111111")
    drawn = _hex_after_one_card_number(twelve)
    assert looks_like_card_number(f"acct-{twelve}")
    monkeypatch.setattr(demo, "secrets", types.SimpleNamespace(token_hex=lambda _n: next(drawn)))
    account = demo._account()
    assert account.startswith("acct-")
    assert not looks_like_card_number(account)


# --- through the API -----------------------------------------------------------------------


def _stored(store: Store) -> bytes:
    return store.path.read_bytes() + b"".join(
        p.read_bytes() for p in store.path.parent.glob("*.sqlite3-*")
    )


async def _stop(store: Store) -> None:
    store.stopped = True
    await store.client.close()
    await store.bridge.stop()


async def test_card_numbers_with_any_separator_keep_the_entry_shut(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store: Store = await make_store()
    for token in ATTACKS:
        status, answer = await store.check_in(card_token=token)
        assert (status, answer["opened"], answer["reason"]) == (403, False, "card_number_refused")
    assert store.entry.commands == 0
    assert store.bridge.occupancy == 0
    denials = [e for e in store.outbox() if e["type"] == "access_denied"]
    assert len(denials) == len(ATTACKS)
    assert {(e["reason"], e["source"], e["portal"]) for e in denials} == {
        ("card_number_refused", "payment_card", "entry_1")
    }
    await _stop(store)
    stored = _stored(store)
    for token in ATTACKS:
        digits = "".join(c for c in token if c.isdigit())
        for secret in (token, digits, digits[:12]):
            assert secret.encode() not in stored, secret
            assert secret not in caplog.text, secret


async def test_a_qr_code_with_a_card_number_as_sub_keeps_the_entry_shut(
    make_store: StoreFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store: Store = await make_store()
    status, answer = await store.check_in(qr=store.operator.qr(sub="4111.1111.1111.1111"))
    assert (status, answer["opened"], answer["reason"]) == (403, False, "card_number_refused")
    status, answer = await store.check_in(qr=store.operator.qr(sub="card:5555_5555_5555_4444"))
    assert (status, answer["reason"]) == (403, "card_number_refused")
    assert store.entry.commands == 0
    assert [(e["type"], e["source"]) for e in store.outbox()] == [
        ("access_denied", "store_app"),
        ("access_denied", "store_app"),
    ]
    await _stop(store)
    stored = _stored(store)
    for secret in ("4111111111111111", "4111.1111", "5555555555554444", "5555_5555"):
        assert secret.encode() not in stored
        assert secret not in caplog.text
    assert json.dumps(store.outbox()).count("card_number_refused") == 2
