"""What each grant's entities show, and telling only the entities of grants that changed.

A home publishes after every change. Finding which grants changed is a pointer
comparison per grant (a grant is frozen and replaced when it changes, and so is its
recorded state), so it costs little even with thousands of grants; a grant's state is
computed again only when the grant or its recorded state changed, or at its window edge
(the grant keeper names it). Each grant has its own listeners (its entities), and only
those of the grants that changed are called; the site's other listeners (doors, the
calendar, the keypad manager) are told which grants changed (`changed`).
"""

from collections.abc import Callable, Iterable, Mapping

from homeassistant.core import CALLBACK_TYPE

from .core.grants import Grant, GrantState

type StateAt = Callable[[Grant], GrantState]
"""A grant's state now."""


class GrantFeed:
    """The grants as last published, their states, and one listener list per grant."""

    def __init__(self) -> None:
        """Start with no grant."""
        self.grants: dict[str, Grant] = {}
        self.states: dict[str, GrantState] = {}
        self.changed: frozenset[str] = frozenset()
        """The grants whose entities the last update told (for the site's other listeners)."""
        self._recorded: dict[str, GrantState | None] = {}
        self._codes: dict[str, dict[str, str]] = {}
        self._pending: set[str] = set()
        self._listeners: dict[str, list[CALLBACK_TYPE]] = {}

    def refresh(
        self,
        grants: Mapping[str, Grant],
        recorded: Mapping[str, GrantState],
        state_at: StateAt,
        forced: Iterable[str] = (),
    ) -> None:
        """Take the grants that changed (and those `forced`), and compute their states."""
        shown = self.grants
        pending = self._pending
        pending.update(forced)
        added = 0
        for grant_id, grant in grants.items():
            seen = shown.get(grant_id)
            if seen is None:
                added += 1
                pending.add(grant_id)
            elif seen is not grant or self._recorded.get(grant_id) is not recorded.get(grant_id):
                pending.add(grant_id)
        if len(shown) + added > len(grants):  # some are gone
            pending.update(grant_id for grant_id in shown if grant_id not in grants)
        for grant_id in pending:
            if (now_grant := grants.get(grant_id)) is None:
                shown.pop(grant_id, None)
                self.states.pop(grant_id, None)
                self._recorded.pop(grant_id, None)
                continue
            shown[grant_id] = now_grant
            self._recorded[grant_id] = recorded.get(grant_id)
            self.states[grant_id] = state_at(now_grant)

    def refresh_codes(self, status: Mapping[str, Mapping[str, str]]) -> None:
        """Take the grants whose codes changed on a keypad lock (`KeypadManager.status`)."""
        codes = self._codes
        for grant_id, per_portal in status.items():
            if codes.get(grant_id) != per_portal:
                codes[grant_id] = dict(per_portal)
                self._pending.add(grant_id)
        if len(codes) > len(status):
            for grant_id in [g for g in codes if g not in status]:
                del codes[grant_id]
                self._pending.add(grant_id)

    def take(self) -> frozenset[str]:
        """The grants changed since the last update; `changed` from now on."""
        self.changed = frozenset(self._pending)
        self._pending.clear()
        return self.changed

    def notify(self, changed: Iterable[str]) -> None:
        """Call the listeners of each grant that changed."""
        for grant_id in changed:
            for listener in tuple(self._listeners.get(grant_id, ())):
                listener()

    def listen(self, grant_id: str, listener: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Be called whenever the grant changes; returns the call that stops it."""
        listeners = self._listeners.setdefault(grant_id, [])
        listeners.append(listener)

        def _stop() -> None:
            listeners.remove(listener)
            if not listeners and self._listeners.get(grant_id) is listeners:
                del self._listeners[grant_id]

        return _stop
