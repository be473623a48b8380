"""Frigate-shaped tracker messages → anonymous `TrackSighting`s.

Frigate publishes one JSON object per change of a tracked object on ``frigate/events``::

    {"type": "new" | "update" | "end", "before": {...}, "after": {"id": ..., "camera": ...,
     "label": "person", "current_zones": [...], "frame_time": 1733461200.25, ...}}

Only the track id, camera, current zones, frame time and phase are kept. Everything else
(``sub_label`` — Frigate's face-recognition name —, snapshots, boxes, scores, ``before``)
is dropped here, on arrival, and never reaches the cart book, a log line or an event. An
error says which field is wrong, never what it held.
"""

import json
import math
from datetime import UTC, datetime

from .cart_model import TrackPhase, TrackSighting

MAX_TEXT = 200
"""The longest track id, camera or zone name taken (Frigate's are far shorter)."""
MAX_ZONES = 64


class TrackMessageError(ValueError):
    """A tracker message that cannot be read (the reason names a field, never a value)."""


def parse_frigate(payload: bytes) -> TrackSighting | None:
    """A person track's sighting, or None for any other label (cars, dogs …).

    Raises `TrackMessageError` for a message that is not Frigate's event shape.
    """
    try:
        message = json.loads(payload)
    except UnicodeDecodeError, ValueError, RecursionError:
        raise TrackMessageError("not JSON") from None
    if not isinstance(message, dict):
        raise TrackMessageError("not an object")
    kind = message.get("type")
    if kind not in {"new", "update", "end"}:
        raise TrackMessageError("type is not new, update or end")
    phase = TrackPhase(kind)
    after = message.get("after")
    if not isinstance(after, dict):
        raise TrackMessageError("after is not an object")
    label = after.get("label")
    if not isinstance(label, str):
        raise TrackMessageError("after.label is not a string")
    if label != "person":
        return None
    return TrackSighting(
        track=_text(after, "id"),
        camera=_text(after, "camera"),
        zones=_zones(after.get("current_zones", [])),
        at=_frame_time(after.get("frame_time")),
        phase=phase,
    )


def _text(after: dict[str, object], key: str) -> str:
    value = after.get(key)
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise TrackMessageError(f"after.{key} is not a short non-empty string")
    return value


def _zones(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or len(value) > MAX_ZONES:
        raise TrackMessageError("after.current_zones is not a list of zone names")
    if not all(isinstance(zone, str) and zone and len(zone) <= MAX_TEXT for zone in value):
        raise TrackMessageError("after.current_zones is not a list of zone names")
    return frozenset(value)


def _frame_time(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TrackMessageError("after.frame_time is not a number")
    if not math.isfinite(value) or value <= 0:
        raise TrackMessageError("after.frame_time is not a time")
    try:
        return datetime.fromtimestamp(value, UTC)
    except OverflowError, OSError, ValueError:
        raise TrackMessageError("after.frame_time is not a time") from None
