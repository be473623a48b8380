"""The owner's visit actions on a home: let a grant's holder in, end a visit, export it.

The `start_visit` and `end_visit` actions run the whole visit flow through any Home
Assistant lock; a refusal or a lock that fails becomes a translated error the owner reads.
"""

from typing import Any

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .const import DOMAIN
from .coordinator import ConciergeCoordinator
from .core.delivery import GRANT_DENIALS
from .core.deny import DenyReason
from .core.events import AccessEventType, Source
from .core.grants import Grant
from .core.visits import Visit
from .service_errors import not_valid
from .site import PortalConfig
from .visit_admission import AccessDenied


async def async_start_visit(
    home: ConciergeCoordinator, grant_id: str, portal_id: str, source: Source = Source.REMOTE
) -> Visit:
    """Let a grant's holder in through a portal (the owner's action): the whole flow."""
    grant = home.grant(grant_id)
    portal = home.portal(portal_id)
    try:
        return await home.flow.async_request(grant, portal, source)
    except AccessDenied as err:
        raise _denied_error(home, err, grant, portal) from None
    except HomeAssistantError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="unlock_failed",
            translation_placeholders={"portal": portal.name},
        ) from err


def _denied_error(
    home: ConciergeCoordinator, err: AccessDenied, grant: Grant, portal: PortalConfig
) -> ServiceValidationError:
    state = home.state_of(grant.id)
    if err.reason is DenyReason.NO_COURIER_GRANT:
        return not_valid("portal_not_in_grant", portal=portal.name, grant=grant.label)
    if err.reason is DenyReason.PORTAL_BUSY:
        return not_valid("portal_busy", portal=portal.name)
    if err.reason in GRANT_DENIALS.values():
        return not_valid("grant_not_active", grant=grant.label, state=state.value)
    return not_valid(f"denied_{err.reason.value}", portal=portal.name, grant=grant.label)


async def async_end_visit(
    home: ConciergeCoordinator, visit_id: str, reason: str | None = None
) -> Visit:
    """Lock the portal, re-arm, and close the visit (completed, or aborted with a reason)."""
    visit = home.visit(visit_id)
    if visit.terminal:
        raise not_valid("visit_over", visit=visit_id, state=visit.state.value)
    portal = home.portal(visit.portal)
    visit = await home.flow.async_end(visit, reason)
    if any(e.type is AccessEventType.LOCK_FAILURE for e in visit.timeline):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="lock_failed",
            translation_placeholders={"portal": portal.name},
        )
    return visit


async def async_export_visit(home: ConciergeCoordinator, visit_id: str) -> dict[str, Any]:
    """The visit's evidence bundle: its events, their hashes and evidence references."""
    home.visit(visit_id)
    return await home.audit.async_export_visit(visit_id)  # streamed, the writer never held
