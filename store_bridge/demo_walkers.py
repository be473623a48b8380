"""The first gate's shoppers as the demo's person tracker sees them: tracked, never picking.

In a store with shelves every door is watched: a shopper who came in unseen could stand at
any lane, so while one is inside the cart book can never say that a pick was someone else's
alone and sends it to review (`core/pick_evidence.py`). So the demo's tracker sees the first
gate's shoppers too, as it sees the tracked gate's (`demo_shelves.py`). Each of them (each
member of a party) is a Frigate-shaped person track: it waits in view in front of the gate
(`GATE_ZONE`, the gate's tracker zone), passes when the gate opens, walks the hall (`HALL`, in
front of no shelf: they look around and never pick), and leaves through the exit's zone
(`EXIT_ZONE`, an exit zone of the demo's store: one who leaves without being recognised at
the exit is closed there). One who is turned away walks off out of view. The cart book binds
each track to its session at the gate, so a pick at a shelf is not theirs, and the tracked
shoppers' carts are charged.

The turnstile lets one shopper through at a time, and the next steps up only `GAP_S` after
the one before walked on: the binder never guesses between two people at the gate
(`core/gate_binding.py`). These are real seconds whatever `--speed` says, as the tracker's
tolerances are.
"""

import asyncio
import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from .shop_messages import frigate_after
from .shop_plan import EXIT_ZONE, FACE_NAMES

GATE_ZONE: Final = "entrance_1"
"""The first entry gate's tracker zone (the tracked gate's is `shop_plan.ENTRY_ZONE`)."""
HALL: Final = "hall"
"""Where the first gate's shoppers walk: in front of no shelf."""
STEP_UP_S: Final = 0.5
"""How long a shopper stands in view in front of the gate before checking in."""
PASS_S: Final = 0.8
"""How long after the gate opened a shopper has walked on into the hall."""
GAP_S: Final = 2.0
"""How long after one shopper walked on the next steps up to the gate."""
QUEUE_MAX: Final = 3
"""Shoppers who find this many waiting at the gate go away."""
TRACKED_ROOM: Final = 6
"""Places the first gate's shoppers leave free for the tracked entry's: the simulated
tracked shoppers walk in even when their gate refuses them (someone slipping through, whose
picks no cart may take), so they must find room. At most half the store's capacity."""
UPDATE_S: Final = 1.0
"""The tracker's updates of a track (Frigate sends one on every change; here every second)."""
HALL_MIN_S: Final = 4.0
"""The least time a shopper spends in the hall, whatever `--speed` says: the cart book binds
a track once it saw it go on into the store (with the tracker's lag and tolerance), and a
session that left before it was bound was a shopper it could not place."""
EXIT_S: Final = 1.0
"""How long a shopper stays in view in the exit's zone after the exit gate."""

type Feed = Callable[[bytes], None]
"""Hands a tracker message to the bridge, as the MQTT feed does (`Carts.on_tracker_message`)."""


class Walk:
    """One shopper (a party: one track each) in the tracker's view."""

    def __init__(
        self, party: int, feed: Feed, rng: random.Random, clock: Callable[[], float]
    ) -> None:
        """Step up to the gate: a new track for each member, in the gate's zone."""
        self.admitted = False
        """Whether the gate let them in (set by whoever checked them in)."""
        self._feed, self._rng, self._clock = feed, rng, clock
        self._zones = frozenset({GATE_ZONE})
        self._updates: asyncio.Task[None] | None = None
        self._in_hall = 0.0
        """When they walked on into the hall (`time.monotonic`)."""
        now = clock()
        self._tracks = [
            (f"{now:.6f}-{rng.randrange(16**6):06x}", now, self._face())
            for _ in range(max(party, 1))
        ]
        self._before: dict[str, dict[str, object]] = {}
        self._say("new")

    def _face(self) -> str | None:
        return self._rng.choice(FACE_NAMES) if self._rng.random() < 0.1 else None  # noqa: PLR2004

    def _say(self, phase: str) -> None:
        """Every member's message: new, update (where they are now) or end."""
        now = self._clock()
        for track, started, face in self._tracks:
            after = frigate_after(track, self._zones, (now, started), face, self._rng)
            before = self._before.get(track, after)
            self._before[track] = after
            self._feed(json.dumps({"type": phase, "before": before, "after": after}).encode())

    def walk_on(self) -> None:
        """Through the gate into the hall, seen every `UPDATE_S` from now on."""
        self._zones = frozenset({HALL})
        self._in_hall = time.monotonic()
        self._say("update")
        self._updates = asyncio.create_task(self._keep_seen())

    async def _keep_seen(self) -> None:
        while True:
            await asyncio.sleep(UPDATE_S)
            self._say("update")

    def turn_away(self) -> None:
        """Refused at the gate: out of view."""
        self._say("end")

    async def leave(self, through: Callable[[], Awaitable[object]]) -> None:
        """Into the exit's zone, `through` the exit gate, and out of view.

        Not before they spent `HALL_MIN_S` in the hall.
        """
        if (stay := self._in_hall + HALL_MIN_S - time.monotonic()) > 0:
            await asyncio.sleep(stay)
        if self._updates is not None:
            self._updates.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._updates
        self._zones = frozenset({EXIT_ZONE})
        self._say("update")
        try:
            await through()
        finally:
            await asyncio.sleep(EXIT_S)
            self._say("end")

    def forget(self) -> None:
        """Stop the updates (the demo ends)."""
        if self._updates is not None:
            self._updates.cancel()


class Walkers:
    """The first gate and the tracker's view of the shoppers who use it."""

    def __init__(
        self,
        feed: Feed,
        rng: random.Random,
        places: Callable[[], tuple[int, int]],
        clock: Callable[[], float] = time.time,
    ) -> None:
        """The first gate, as the tracker sees it (it hears `feed`, runs on `clock`).

        `places`: the store's occupancy and capacity now.
        """
        self._feed, self._rng, self._places, self._clock = feed, rng, places, clock
        self._turnstile = asyncio.Lock()
        self._queue = 0
        self._free_at = 0.0
        """When the next shopper may step up (`time.monotonic`)."""

    def stays_away(self) -> bool:
        """Whether a newcomer goes away: too many wait at the gate, or the store is busy.

        Busy: fewer places free than the tracked entry's room, but not full (at a full
        store they try, and the gate refuses them: `store_full`).
        """
        occupancy, capacity = self._places()
        room = min(TRACKED_ROOM, capacity // 2)
        return self._queue >= QUEUE_MAX or capacity - room <= occupancy < capacity

    @contextlib.asynccontextmanager
    async def at_gate(self, party: int) -> AsyncIterator[Walk | None]:
        """Queue for the gate, step up in view, and check in inside this block.

        None: the store got busy while they queued (`stays_away`), and they went away. Set
        `Walk.admitted` when the gate opened: on leaving the block the shopper walks on into
        the hall (or turns away), and the next one steps up `GAP_S` later.
        """
        self._queue += 1
        try:
            await self._turnstile.acquire()
        finally:
            self._queue -= 1
        try:
            wait = self._free_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.stays_away():
                yield None
                return
            walk = Walk(party, self._feed, self._rng, self._clock)
            await asyncio.sleep(STEP_UP_S)
            try:
                yield walk
            finally:
                if walk.admitted:
                    await asyncio.sleep(PASS_S)
                    walk.walk_on()
                else:
                    walk.turn_away()
                self._free_at = time.monotonic() + GAP_S
        finally:
            self._turnstile.release()
