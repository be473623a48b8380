"""Entities a store has only once its bridge names the part (shelves, payments)."""

from collections.abc import Callable, Iterable

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback


@callback
def async_add_when_found(  # noqa: PLR0913 - what the platform hands over, and when
    hass: HomeAssistant,
    *,
    known: bool,
    signal: str,
    async_add_entities: AddConfigEntryEntitiesCallback,
    make: Callable[[], Iterable[Entity]],
    on_unload: Callable[[Callable[[], None]], object],
) -> None:
    """Add what `make` builds now if the part is `known`, else once `signal` says it is."""
    if known:
        async_add_entities(make())
        return
    unsubscribe: Callable[[], None] | None = None

    @callback
    def _found() -> None:
        nonlocal unsubscribe
        if unsubscribe is not None:
            unsubscribe()
            unsubscribe = None
            async_add_entities(make())

    unsubscribe = async_dispatcher_connect(hass, signal, _found)

    @callback
    def _stop() -> None:
        if unsubscribe is not None:
            unsubscribe()

    on_unload(_stop)
