"""A store's shelves in Home Assistant: their counts' entities and the review queue's repair.

A bridge with shelf sensors says in its status how its virtual carts stand (`shelf`:
carts, picks waiting for review, anomalies, unattributed picks, stale lanes, ignored
input). The store's shelf entities (sensors for the counts, an event entity for what
someone may have to act on) are added when the bridge first says so, so a store without
shelves gets none. While picks wait in the review queue a repair issue says how many
(nobody is charged for them until an operator decides); it goes when the queue is empty,
and with the store (unload).
"""

from collections.abc import Callable, Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .core.stores import Shelf
from .store_found import async_add_when_found
from .store_issues import CountIssues, count_issue_id

REVIEW_ISSUE = "picks_waiting_for_review"
"""The repair issue's translation key."""


def signal_shelf_found(entry_id: str) -> str:
    """Dispatcher signal: the bridge said for the first time that the store has shelves."""
    return f"{DOMAIN}_{entry_id}_shelf_found"


def review_issue_id(entry_id: str) -> str:
    """The id of a store's review-queue repair issue."""
    return count_issue_id(REVIEW_ISSUE, entry_id)


class ShelfView:
    """What Home Assistant knows of a store's shelves: the last counts its bridge sent."""

    def __init__(self, hass: HomeAssistant, entry_id: str, store_name: str) -> None:
        """Nothing known until the bridge's status names its shelves."""
        self.hass = hass
        self.entry_id = entry_id
        self.store_name = store_name
        self.shelf: Shelf | None = None
        self._issues = CountIssues(hass, entry_id, store_name, (REVIEW_ISSUE,))

    @callback
    def update(self, shelf: Shelf) -> None:
        """Take the bridge's counts; announce the shelves the first time; follow the queue."""
        first = self.shelf is None
        self.shelf = shelf
        self._issues.follow(REVIEW_ISSUE, shelf.review or 0)
        if first:
            async_dispatcher_send(self.hass, signal_shelf_found(self.entry_id))

    @callback
    def close(self) -> None:
        """The store goes (unload): its repair issue goes with it."""
        self._issues.close()

    def diagnostics(self) -> dict[str, int | None] | None:
        """The last counts (numbers only), or None for a store without shelves."""
        shelf = self.shelf
        if shelf is None:
            return None
        return {
            "carts": shelf.carts,
            "review": shelf.review,
            "anomalies": shelf.anomalies,
            "unattributed": shelf.unattributed,
            "stale_lanes": shelf.stale_lanes,
            "ignored": shelf.ignored,
        }


@callback
def async_add_shelf_entities(
    view: ShelfView,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[], Iterable[Entity]],
    on_unload: Callable[[Callable[[], None]], object],
) -> None:
    """Add the shelf entities `make` builds now if the shelves are known, else once they are."""
    async_add_when_found(
        view.hass,
        known=view.shelf is not None,
        signal=signal_shelf_found(view.entry_id),
        async_add_entities=async_add_entities,
        make=make,
        on_unload=on_unload,
    )
