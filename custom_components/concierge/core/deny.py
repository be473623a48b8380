"""Why access is refused: the `DenyReason` codes and `TokenRejected`, which carries one.

The codes are those of access-denied events and of the HTTP answers. The token checks
(`token_checks`, `courier_tokens`, `guest_links`, `replay_cache`) raise `TokenRejected`
with the token reasons; the visit flow uses the policy ones.
"""

from enum import StrEnum
from typing import override


class DenyReason(StrEnum):
    """Why access was refused: the codes of access-denied events and HTTP answers.

    The token checks raise the token reasons (`malformed` to `replayed`, `rate_limited`,
    `link_revoked`); the HTTP views add `body_too_large` and `wrong_carrier` (a courier
    token of a carrier the grant does not name); the visit flow uses the policy ones.
    """

    MALFORMED = "malformed"
    ALG_NOT_ALLOWED = "alg_not_allowed"
    UNKNOWN_CARRIER = "unknown_carrier"
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    WRONG_AUDIENCE = "wrong_audience"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    LIFETIME_TOO_LONG = "lifetime_too_long"
    MISSING_CLAIM = "missing_claim"
    REPLAYED = "replayed"
    ADDRESS_MISMATCH = "address_mismatch"
    OUTSIDE_WINDOW = "outside_window"
    GRANT_REVOKED = "grant_revoked"
    GRANT_USED_UP = "grant_used_up"
    GRANT_SUSPENDED = "grant_suspended"
    NO_COURIER_GRANT = "no_courier_grant"
    PETS_HOME = "pets_home"
    CAMERA_UNAVAILABLE = "camera_unavailable"
    ALARM_NOT_DISARMED = "alarm_not_disarmed"
    RATE_LIMITED = "rate_limited"
    LINK_REVOKED = "link_revoked"
    PORTAL_BUSY = "portal_busy"
    INTERRUPTED = "interrupted"
    BODY_TOO_LARGE = "body_too_large"
    WRONG_CARRIER = "wrong_carrier"
    STORAGE_UNAVAILABLE = "storage_unavailable"


class TokenRejected(Exception):  # noqa: N818 - it names the outcome, as the callers use it
    """A token (or a request carrying one) is refused; `reason` says why.

    The message is the reason code only, so it is safe to log: it never holds the
    token or a claim value. The PyJWT exception behind it is not chained either.
    """

    reason: DenyReason

    def __init__(self, reason: DenyReason) -> None:
        """Create the rejection for `reason`."""
        super().__init__(reason)
        self.reason = reason

    @override
    def __str__(self) -> str:
        """Return `token rejected: <reason>`."""
        return f"token rejected: {self.reason.value}"
