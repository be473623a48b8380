"""What the keypad manager keeps for each door with a keypad lock (in memory only)."""

import asyncio
from dataclasses import dataclass, field

from homeassistant.core import CALLBACK_TYPE

from ..core.slots import AttackWatch
from ..site import PortalConfig
from .adapter import KeypadAdapter


@dataclass(slots=True)
class DoorState:
    """One door's lock, its pass in progress, its retry chain and what the owner was told."""

    adapter: KeypadAdapter
    portal: PortalConfig
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    dirty: bool = False
    attempts: int = 0
    retry: CALLBACK_TYPE | None = None
    unreachable: bool = False
    """The last pass got no answer: passes wait for the retry (or the lock's return)."""
    hold: set[int] = field(default_factory=set)
    """Slots whose clear the lock refused or left unanswered: re-sent at the retry only."""
    writing: dict[int, str | None] = field(default_factory=dict)
    """Slots being written now → the grant whose code is being set (None: a clear)."""
    watch: AttackWatch = field(default_factory=AttackWatch)
    notified: set[str] = field(default_factory=set)
    """Grants the owner was told have no code on the lock (once each)."""
    told_not_removed: set[str] = field(default_factory=set)
    told_no_slot: set[str] = field(default_factory=set)
