"""Frigate's event messages become anonymous sightings: id, camera, zones, time — nothing else."""

import contextlib
import gc
import json
import types
from dataclasses import fields
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from store_bridge.core.attribution import CartBook
from store_bridge.core.cart_model import TrackPhase, TrackSighting
from store_bridge.core.tracks import TrackMessageError, parse_frigate

from .book_rig import LANES, PRODUCTS

FACE_NAME = "Erika Mustermann"
NAN_TIME = (
    b'{"type": "new", "after": {"label": "person", "id": "a", "camera": "c", "frame_time": NaN}}'
)


def frigate(kind: str = "update", **after: object) -> bytes:
    """A message as Frigate 0.14 publishes it on frigate/events (trimmed, same keys)."""
    body: dict[str, object] = {
        "id": "1733486400.123456-abc123",
        "camera": "store_ceiling_1",
        "frame_time": 1733486401.25,
        "snapshot": {"frame_time": 1733486401.0, "box": [10, 20, 110, 220], "score": 0.91},
        "label": "person",
        "sub_label": [FACE_NAME, 0.97],
        "top_score": 0.93,
        "false_positive": False,
        "start_time": 1733486400.1,
        "end_time": None,
        "score": 0.9,
        "box": [10, 20, 110, 220],
        "area": 20000,
        "ratio": 0.5,
        "region": [0, 0, 320, 320],
        "stationary": False,
        "motionless_count": 0,
        "position_changes": 2,
        "current_zones": ["aisle_1", "entrance"],
        "entered_zones": ["entrance", "aisle_1"],
        "has_clip": True,
        "has_snapshot": True,
        "attributes": {"face": 0.8},
        "current_attributes": [{"label": "face", "box": [1, 2, 3, 4], "score": 0.8}],
    }
    body.update(after)
    return json.dumps({"type": kind, "before": dict(body), "after": body}).encode()


def test_a_person_event_keeps_only_track_camera_zones_time_and_phase() -> None:
    sighting = parse_frigate(frigate("new"))
    assert sighting == TrackSighting(
        track="1733486400.123456-abc123",
        camera="store_ceiling_1",
        zones=frozenset({"aisle_1", "entrance"}),
        at=datetime(2024, 12, 6, 12, 0, 1, 250000, tzinfo=UTC),
        phase=TrackPhase.NEW,
    )
    assert [f.name for f in fields(TrackSighting)] == ["track", "camera", "zones", "at", "phase"]
    assert FACE_NAME not in repr(sighting)
    assert "0.97" not in repr(sighting)


@pytest.mark.parametrize("kind", ["update", "end"])
def test_updates_and_ends_carry_their_phase(kind: str) -> None:
    sighting = parse_frigate(frigate(kind))
    assert sighting is not None
    assert sighting.phase is TrackPhase(kind)


def test_other_labels_are_not_ours() -> None:
    assert parse_frigate(frigate(label="car")) is None
    assert parse_frigate(frigate(label="dog")) is None


def test_a_person_without_zones_is_nowhere_in_particular() -> None:
    sighting = parse_frigate(frigate(current_zones=[]))
    assert sighting is not None
    assert sighting.zones == frozenset()
    missing = json.loads(frigate())
    del missing["after"]["current_zones"]
    sighting = parse_frigate(json.dumps(missing).encode())
    assert sighting is not None
    assert sighting.zones == frozenset()
    assert parse_frigate(frigate(current_zones=None)) == sighting


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[]", "not an object"),
        (b'{"type": "new"}', "after"),
        (json.dumps({"type": "moved", "after": {}}).encode(), "type"),
        (json.dumps({"after": {"label": "person"}}).encode(), "type"),
        (json.dumps({"type": "new", "after": []}).encode(), "after"),
        (json.dumps({"type": "new", "after": {"label": 3}}).encode(), "label"),
        (frigate(id=""), "after.id"),
        (frigate(id=7), "after.id"),
        (frigate(id="x" * 201), "after.id"),
        (frigate(camera=None), "after.camera"),
        (frigate(current_zones="aisle_1"), "current_zones"),
        (frigate(current_zones=[1]), "current_zones"),
        (frigate(current_zones=[{"a": 1}]), "current_zones"),
        (frigate(current_zones=[""]), "current_zones"),
        (frigate(current_zones=[f"z{i}" for i in range(65)]), "current_zones"),
        (frigate(frame_time="now"), "frame_time"),
        (frigate(frame_time=True), "frame_time"),
        (frigate(frame_time=None), "frame_time"),
        (frigate(frame_time=-1), "frame_time"),
        (frigate(frame_time=1e300), "frame_time"),
        (NAN_TIME, "frame_time"),
    ],
)
def test_malformed_messages_name_the_field_and_never_its_content(
    payload: bytes, field: str
) -> None:
    with pytest.raises(TrackMessageError, match=field) as raised:
        parse_frigate(payload)
    assert isinstance(raised.value, ValueError)
    assert FACE_NAME not in str(raised.value)


def test_a_malformed_message_never_quotes_the_face_name() -> None:
    with pytest.raises(TrackMessageError) as raised:
        parse_frigate(frigate(id=FACE_NAME * 20))
    assert FACE_NAME not in str(raised.value)


@given(st.binary(max_size=300))
def test_any_bytes_give_a_sighting_none_or_a_track_message_error(payload: bytes) -> None:
    try:
        sighting = parse_frigate(payload)
    except TrackMessageError:
        return
    assert sighting is None or isinstance(sighting, TrackSighting)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=10,
    ),
    st.sampled_from(["new", "update", "end", "other"]),
)
def test_any_json_after_gives_a_sighting_none_or_a_track_message_error(
    after: object, kind: str
) -> None:
    payload = json.dumps({"type": kind, "after": after}).encode()
    with contextlib.suppress(TrackMessageError):
        parse_frigate(payload)


def test_nothing_but_the_sighting_reaches_the_cart_book() -> None:
    book = CartBook(PRODUCTS, LANES)
    book.session_opened(
        "v1", zone="entrance", party=1, at=datetime(2024, 12, 6, 12, 0, 2, tzinfo=UTC)
    )
    for kind, frame in (("new", 1733486401.25), ("update", 1733486405.0), ("end", 1733486409.0)):
        sighting = parse_frigate(frigate(kind, frame_time=frame))
        assert sighting is not None
        book.sighting(sighting)
    book.tick(datetime(2024, 12, 6, 12, 1, tzinfo=UTC))
    held = held_values(book)
    assert "1733486400.123456-abc123" in held  # the track id is kept …
    for dropped in (FACE_NAME, "top_score", "snapshot", "box", "region", "attributes", 0.97):
        assert dropped not in held  # … and nothing else of the message


def held_values(root: object) -> set[object]:
    """Every string and number reachable from `root`'s own state (not its classes)."""
    found: set[object] = set()
    seen: set[int] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type | types.ModuleType | types.FunctionType):
            continue
        seen.add(id(obj))
        if isinstance(obj, str | int | float):
            found.add(obj)
            continue
        stack.extend(gc.get_referents(obj))
    return found
