"""Guest links: signing, verifying, refusing, and a property."""

import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custom_components.concierge.core.deny import DenyReason, TokenRejected
from custom_components.concierge.core.errors import InvalidCredentialError
from custom_components.concierge.core.guest_links import GuestClaims

from .token_helpers import (
    AUD,
    MUTATIONS,
    NOW,
    OTHER_SECRET,
    SECRET,
    T,
    b64,
    forge,
    guest,
    guest_rejected,
    unb64,
    verify_guest,
)


def test_guest_link_round_trip_and_reuse() -> None:
    link = guest()
    expected = GuestClaims(
        grant_id="grant-1",
        link_id="link-1",
        not_before=NOW - timedelta(hours=1),
        expires=NOW + timedelta(hours=1),
    )
    assert verify_guest(link) == expected
    assert verify_guest(link, now=NOW + timedelta(minutes=30)) == expected  # reusable
    header = json.loads(unb64(link.split(".")[0]))
    assert header["alg"] == "HS256"
    body = json.loads(unb64(link.split(".")[1]))
    assert body == {
        "iss": "concierge",
        "aud": AUD,
        "sub": "grant-1",
        "jti": "link-1",
        "nbf": T - 3600,
        "exp": T + 3600,
    }


def test_guest_link_long_validity_is_fine() -> None:
    link = guest(expires=NOW + timedelta(days=14))
    assert verify_guest(link).expires == NOW + timedelta(days=14)


def test_guest_link_for_another_site() -> None:
    guest_rejected(guest(site="site-2"), DenyReason.WRONG_AUDIENCE)
    guest_rejected(guest(secret=OTHER_SECRET), DenyReason.BAD_SIGNATURE)


def test_guest_link_revoked() -> None:
    guest_rejected(guest(), DenyReason.LINK_REVOKED, revoked={"link-1", "link-7"})
    verify_guest(guest(), revoked=frozenset({"link-7"}))


def test_guest_link_outside_its_validity() -> None:
    guest_rejected(guest(), DenyReason.EXPIRED, now=NOW + timedelta(hours=1, seconds=30))
    guest_rejected(guest(), DenyReason.NOT_YET_VALID, now=NOW - timedelta(hours=1, seconds=31))
    verify_guest(guest(), now=NOW + timedelta(hours=1, seconds=29))


@pytest.mark.parametrize("alg", ["none", "HS384", "HS512", "hs256"])
def test_guest_link_other_algorithms(alg: str) -> None:
    body = json.loads(unb64(guest().split(".")[1]))
    tok = forge({"alg": alg}, body, sign=lambda data: hmac.digest(SECRET, data, "sha512"))
    guest_rejected(tok, DenyReason.ALG_NOT_ALLOWED)


def test_guest_link_hand_made_with_the_secret_still_needs_every_rule() -> None:
    """Defence in depth: even a link signed with the secret must have the right shape."""
    body = json.loads(unb64(guest().split(".")[1]))

    def signed(**changes: Any) -> str:
        payload = {k: v for k, v in {**body, **changes}.items() if v is not None}
        return jwt.encode(payload, SECRET, algorithm="HS256")

    guest_rejected(signed(iss="dhl"), DenyReason.MALFORMED)
    guest_rejected(signed(sub="not an id"), DenyReason.MALFORMED)
    guest_rejected(signed(jti=42), DenyReason.MALFORMED)
    guest_rejected(signed(nbf=None), DenyReason.MISSING_CLAIM)
    guest_rejected(signed(exp=None), DenyReason.MISSING_CLAIM)
    guest_rejected(signed(aud=None), DenyReason.MISSING_CLAIM)


def test_guest_link_tampered() -> None:
    header, _, signature = guest().split(".")
    body = json.loads(unb64(guest().split(".")[1]))
    body["sub"] = "grant-2"
    guest_rejected(
        f"{header}.{b64(json.dumps(body).encode())}.{signature}", DenyReason.BAD_SIGNATURE
    )
    guest_rejected("x" * 5000, DenyReason.MALFORMED)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"secret": b"short"}, "secret"),
        ({"secret": "s" * 32}, "secret"),
        ({"site": "bad site"}, "site"),
        ({"grant_id": ""}, "grant_id"),
        ({"link_id": "x" * 65}, "link_id"),
        ({"expires": NOW - timedelta(hours=1)}, "expires"),
        ({"expires": NOW - timedelta(hours=2)}, "expires"),
    ],
)
def test_sign_guest_link_refuses(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidCredentialError) as info:
        guest(**changes)
    assert info.value.translation_key == "invalid_guest_link"
    assert info.value.placeholders == {"field": problem}


def test_guest_link_naive_datetimes() -> None:
    with pytest.raises(InvalidCredentialError) as info:
        guest(not_before=datetime(2025, 6, 2, 7))  # noqa: DTZ001 - the point of the test
    assert info.value.placeholders == {"field": "not_before"}
    with pytest.raises(InvalidCredentialError):
        verify_guest(guest(), now=NOW.replace(tzinfo=None))
    with pytest.raises(InvalidCredentialError):
        verify_guest(guest(), secret=b"short")


# --- properties ----------------------------------------------------------------------------

VALID_GUEST = guest()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.sampled_from(MUTATIONS))
def test_any_single_character_change_of_a_guest_link_is_rejected(position: int, char: str) -> None:
    index = position % len(VALID_GUEST)
    if VALID_GUEST[index] == char:
        return
    changed = VALID_GUEST[:index] + char + VALID_GUEST[index + 1 :]
    with pytest.raises(TokenRejected):
        verify_guest(changed)
