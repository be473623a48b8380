"""The bridge's MQTT topics: what Home Assistant (or headquarters) subscribes to.

``<prefix>/<site>/events``
    Every access event, one JSON object per message (schema v1), QoS 1, not retained, in
    the order they happened. Delivery is at least once: after a broker outage an event may
    arrive twice; consumers drop duplicates by the event's ``id``.

``<prefix>/<site>/status``
    Retained. The bridge's current state, replaced on every change::

        {"v": 1, "site": "store-042", "name": "Corner store", "online": true,
         "capacity": 30, "occupancy": 11,
         "gates": [{"id": "entry_1", "name": "Entry", "role": "entry"}, ...]}

    When the bridge goes away the broker publishes its will, ``{"v": 1, "site": ...,
    "online": false}`` (retained), so subscribers can mark the store unavailable.
"""

DEFAULT_PREFIX = "concierge/store"
STATUS_VERSION = 1


def events_topic(prefix: str, site: str) -> str:
    """Where access events are published."""
    return f"{prefix}/{site}/events"


def status_topic(prefix: str, site: str) -> str:
    """Where the retained status is published."""
    return f"{prefix}/{site}/status"
