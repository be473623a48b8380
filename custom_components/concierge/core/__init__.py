"""Concierge's functional core: plain, typed decisions with no Home Assistant import.

Modules:

- `windows`: access windows and schedules (one-off and weekly, DST-correct).
- `grants`: grants, their computed state and the explicit transition table.
- `events`: the versioned access-event wire record shared with `store_bridge`.
- `visits`: the visit state machine and timeline.
- `audit`: the hash-chained audit log and visit export bundles.
- `slots`: keypad slot planning for Z-Wave and Zigbee locks.
- `tokens`: courier tokens (ES256/EdDSA JWTs), guest links, the replay cache, rate limits.
- `delivery`: the visit flow's decisions (who may enter now, what the alarm returns to).
- `stores`: a store bridge's MQTT messages (status, events, duplicates, gate passages).
- `errors`: the exception hierarchy, each error carrying a translation key.
"""
