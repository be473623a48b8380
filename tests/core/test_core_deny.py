"""The refusal vocabulary: deny reasons, PyJWT errors mapped to them, the rejection."""

import jwt
import pytest

from custom_components.concierge.core.deny import DenyReason, TokenRejected
from custom_components.concierge.core.errors import (
    TRANSLATION_KEYS,
    ConciergeError,
    InvalidCredentialError,
)
from custom_components.concierge.core.ids import is_snake_case
from custom_components.concierge.core.token_checks import reason_for


def test_deny_reasons_are_snake_case_and_complete() -> None:
    assert all(is_snake_case(reason.value) for reason in DenyReason)
    assert {
        "malformed", "alg_not_allowed", "unknown_carrier", "unknown_key", "bad_signature",
        "wrong_audience", "expired", "not_yet_valid", "lifetime_too_long", "missing_claim",
        "replayed", "address_mismatch", "outside_window", "grant_revoked", "grant_used_up",
        "grant_suspended", "no_courier_grant", "pets_home", "camera_unavailable",
        "alarm_not_disarmed", "rate_limited", "link_revoked", "portal_busy", "interrupted",
        "body_too_large", "wrong_carrier", "storage_unavailable",
    } == {reason.value for reason in DenyReason}  # fmt: skip


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (jwt.InvalidSignatureError(), DenyReason.BAD_SIGNATURE),
        (jwt.ExpiredSignatureError(), DenyReason.EXPIRED),
        (jwt.ImmatureSignatureError(), DenyReason.NOT_YET_VALID),
        (jwt.InvalidAudienceError(), DenyReason.WRONG_AUDIENCE),
        (jwt.MissingRequiredClaimError("jti"), DenyReason.MISSING_CLAIM),
        (jwt.InvalidAlgorithmError(), DenyReason.ALG_NOT_ALLOWED),
        (jwt.DecodeError(), DenyReason.MALFORMED),
        (jwt.InvalidIssuerError(), DenyReason.MALFORMED),
        (jwt.PyJWTError(), DenyReason.MALFORMED),
    ],
)
def test_pyjwt_errors_map_to_reasons(error: jwt.PyJWTError, reason: DenyReason) -> None:
    assert reason_for(error) is reason


def test_rejection_message_and_pickling_shape() -> None:
    error = TokenRejected(DenyReason.EXPIRED)
    assert str(error) == "token rejected: expired"
    assert error.args == (DenyReason.EXPIRED,)


def test_new_error_class_and_keys() -> None:
    assert issubclass(InvalidCredentialError, ConciergeError)
    assert {
        "invalid_public_key", "invalid_key_id", "invalid_carrier", "invalid_guest_link",
    } <= TRANSLATION_KEYS  # fmt: skip
