"""The exit path (fail-safe egress): the exit gate opens first, whatever else is down.

The exit gate is commanded FIRST, before anything touches the database or the broker, and
whatever is known (the session, if the tracking system or the shopper identified it) is
recorded after. With the database down the exit still opens; the session's closing and its
events wait in memory and are written when the database is back.
"""

import asyncio
import logging
import time
from collections.abc import Mapping

from .bridge_types import Decision, GateInfo, find_gate
from .core.store import EntryDenial, SessionState, after_exit
from .gates.base import GateError, GateRole
from .ledger import Ledger
from .vocabulary import EventType, Outcome, Source

_LOGGER = logging.getLogger(__name__)


class ExitPath:
    """Letting people out through the store's exit gates."""

    def __init__(self, ledger: Ledger, gates: Mapping[str, GateInfo]) -> None:
        """Record through `ledger`; the gates are the bridge's."""
        self._ledger = ledger
        self._gates = gates

    async def exit(
        self, gate_id: str, *, visit_id: str | None = None, track_id: str | None = None
    ) -> Decision:
        """Let someone out. The gate opens first, whatever else is down."""
        started = time.perf_counter()
        ledger = self._ledger
        info = find_gate(self._gates, gate_id)
        if info.gate.role is not GateRole.EXIT:
            # An entry turnstile does not let people out: "exit" there would be a way in.
            return await ledger.deny(gate_id, Source.SYSTEM, EntryDenial.WRONG_GATE, started)
        failure: GateError | None = None
        try:
            await info.gate.open()
        except GateError as err:
            failure = err
        decided = (time.perf_counter() - started) * 1000
        await asyncio.sleep(0)  # in a crowd, let the next exit's open go out before our records
        if failure is not None:
            _LOGGER.error(
                "Exit gate %s did not take the open command (%s)", gate_id, failure.reason
            )
            await ledger.add_event(
                ledger.event(
                    EventType.SAFETY_ALERT, Outcome.FAILED, portal=gate_id, reason=failure.reason
                )
            )
            return Decision(
                gate=gate_id,
                opened=False,
                outcome=Outcome.FAILED,
                reason=failure.reason,
                occupancy=ledger.occupancy,
                decided_ms=decided,
            )
        visit = visit_id if visit_id in ledger.inside else ledger.by_track.get(track_id or "")
        session = ledger.inside.get(visit or "")
        events = [
            ledger.event(
                EventType.GATE_OPENED,
                Outcome.OK,
                portal=gate_id,
                visit=visit,
                reason=None if session else "egress",
            )
        ]
        before = ledger.occupancy
        if session is not None:
            ledger.forget(session)
            ledger.closed(session)
            ledger.occupancy = after_exit(ledger.occupancy, session.party)
            ledger.counters["checked_out"] += 1
            ledger.counters["people_checked_out"] += before - ledger.occupancy
            events.append(
                ledger.event(
                    EventType.CHECK_OUT,
                    Outcome.OK,
                    portal=gate_id,
                    visit=session.visit_id,
                    source=Source(session.source),
                    data={"track": session.track_id, "party_size": session.party},
                )
            )
        else:
            ledger.occupancy = after_exit(ledger.occupancy, 1)
            ledger.counters["people_unrecognised"] += before - ledger.occupancy
        ledger.passing[gate_id] = session.visit_id if session else None
        events.append(ledger.occupancy_event())
        occupancy, now = ledger.occupancy, ledger.clock()
        closing = session.visit_id if session else None
        await ledger.write(
            lambda store: store.close_session(
                closing,
                state=SessionState.LEFT,
                gate=gate_id,
                when=now,
                occupancy=occupancy,
                events=events,
            ),
            events,
        )
        return Decision(
            gate=gate_id,
            opened=True,
            outcome=Outcome.OK,
            reason=None if session else "egress",
            visit_id=closing,
            track_id=session.track_id if session else None,
            occupancy=ledger.occupancy,
            decided_ms=decided,
        )
