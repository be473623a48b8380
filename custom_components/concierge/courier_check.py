"""What the courier endpoint decides about a token, apart from what it then does.

`courier_decision` runs the endpoint's checks in its order (the token, a replay, the
carrier's grant whose window holds it) and returns its answer without a side effect:
no unlock, no replay record, no audit record, no rate limit charged. The endpoint
(`http.py`) acts on the same pieces; the Access panel's "check a token" shows the answer.
The carrier's request budget and what the visit flow checks at the door (pets at home,
a camera, a busy door, the alarm) are not part of the decision: they depend on the moment.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING

from .core.courier_tokens import CourierClaims, verify_courier_token
from .core.deny import DenyReason, TokenRejected
from .core.grant_carriers import admits_carrier
from .core.grants import GrantState
from .core.schedule_times import current_interval

if TYPE_CHECKING:
    from .coordinator import ConciergeCoordinator

LEEWAY = timedelta(seconds=30)

UNVERIFIED: frozenset[DenyReason] = frozenset(
    {
        DenyReason.MALFORMED,
        DenyReason.ALG_NOT_ALLOWED,
        DenyReason.UNKNOWN_CARRIER,
        DenyReason.UNKNOWN_KEY,
        DenyReason.BAD_SIGNATURE,
    }
)
"""Refusals before the signature is proven: all answered alike, as `invalid_token`."""


def refusal_status(reason: DenyReason) -> tuple[HTTPStatus, str]:
    """The HTTP status and error code the endpoints answer a refusal with."""
    if reason in UNVERIFIED:
        return HTTPStatus.UNAUTHORIZED, "invalid_token"
    if reason is DenyReason.RATE_LIMITED:
        return HTTPStatus.TOO_MANY_REQUESTS, reason.value
    if reason is DenyReason.BODY_TOO_LARGE:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE, reason.value
    if reason is DenyReason.STORAGE_UNAVAILABLE:
        return HTTPStatus.SERVICE_UNAVAILABLE, reason.value
    return HTTPStatus.FORBIDDEN, reason.value


@dataclass(frozen=True, slots=True)
class CourierDecision:
    """The endpoint's answer to a token: its status and error, why, and the grant it found."""

    status: HTTPStatus
    error: str | None
    reason: DenyReason | None
    grant_id: str | None
    portal: str | None = None


def _refused(reason: DenyReason) -> CourierDecision:
    status, error = refusal_status(reason)
    return CourierDecision(status, error, reason, None)


def verified_claims(coordinator: ConciergeCoordinator, token: str, now: datetime) -> CourierClaims:
    """The token's claims if it is a courier token for this site; raises `TokenRejected`."""
    return verify_courier_token(
        token,
        carriers=coordinator.carriers,
        audience=coordinator.site_id,
        now=now,
        expected_address=coordinator.site.delivery_address,
    )


def courier_decision(
    coordinator: ConciergeCoordinator, token: str, now: datetime
) -> CourierDecision:
    """What the courier endpoint would answer `token` at `now`, with no side effect."""
    try:
        claims = verified_claims(coordinator, token, now)
    except TokenRejected as err:
        return _refused(err.reason)
    if (replayed := coordinator.gate.replay_refusal(claims)) is not None:
        return _refused(replayed)
    found = courier_grant(coordinator, claims.carrier_id, (claims.not_before, claims.expires), now)
    if isinstance(found, DenyReason):
        return _refused(found)
    portal = coordinator.site_data.grants[found].portals[0]
    if coordinator.site.portal(portal) is None:
        return CourierDecision(HTTPStatus.SERVICE_UNAVAILABLE, "portal_missing", None, found)
    return CourierDecision(HTTPStatus.OK, None, None, found, portal)


def courier_grant(
    coordinator: ConciergeCoordinator,
    carrier_id: str,
    valid: tuple[datetime, datetime],
    now: datetime,
) -> str | DenyReason:
    """The active courier grant of the token's carrier whose window holds it, or why none does.

    `valid` is the token's (not before, expires); a grant naming carriers admits only theirs.
    """
    not_before, expires = valid
    courier = [g for g in coordinator.site_data.grants.values() if g.credentials.remote_token]
    if not courier:
        return DenyReason.NO_COURIER_GRANT
    courier = [g for g in courier if admits_carrier(g.carriers, carrier_id)]
    if not courier:
        return DenyReason.WRONG_CARRIER
    states = {g.id: coordinator.state_of(g.id) for g in courier}
    for grant in sorted(courier, key=lambda g: g.created_at):
        if states[grant.id] is not GrantState.ACTIVE:
            continue
        window = current_interval(grant.schedule, coordinator.tz, now)
        if window is None:
            continue
        if not_before >= window.start - LEEWAY and expires <= window.end + LEEWAY:
            return grant.id
    blocked = {
        GrantState.REVOKED: DenyReason.GRANT_REVOKED,
        GrantState.USED_UP: DenyReason.GRANT_USED_UP,
        GrantState.SUSPENDED: DenyReason.GRANT_SUSPENDED,
    }
    for state, reason in blocked.items():
        if any(s is state for s in states.values()) and not any(
            s is GrantState.ACTIVE for s in states.values()
        ):
            return reason
    return DenyReason.OUTSIDE_WINDOW
