"""Concierge's functional core: plain, typed decisions with no Home Assistant import.

Modules:

- `windows`: access windows and schedules (one-off and weekly), their checks and stored form.
- `schedule_times`: when a schedule is open (intervals and edges, DST-correct).
- `grants`: grants, their computed state and the explicit transition table.
- `clock`: site time, a clock that never goes backwards whatever the wall clock does.
- `vocabulary`: the wire vocabulary shared with `store_bridge` (event types, sources,
  topics, versions), generated from `schema/` by scripts/generate_vocabulary.py.
- `events`: the versioned access-event wire record shared with `store_bridge`.
- `visits`: the visit state machine and timeline.
- `audit`: the hash-chained audit log (records, verification, gap records).
- `audit_scan`: reading an audit log file's bytes (torn tails, damaged lines) and verifying them.
- `audit_bundle`: visit export bundles, checked against the chain.
- `slots`: keypad slot planning for Z-Wave and Zigbee locks (re-exports the next three).
- `slot_types`, `slot_knowledge`, `code_status`: slots and commands; what a slot holds
  after a write or a report; where a grant's code stands, as the sensors show it.
- `fingerprints`: keyed PIN fingerprints (and the unkeyed ones storage 1.5 held).
- `deny`: why access is refused (`DenyReason`) and `TokenRejected`, which carries one.
- `carriers`: the delivery companies allowed to sign courier tokens, and their public keys.
- `token_checks`: the checks every signed token passes (compact form, signature, validity).
- `courier_tokens`: courier tokens (ES256/EdDSA JWTs) and the claims they carry.
- `guest_links`: guest links (HS256 tokens the site signs and checks itself).
- `replay_cache`: courier token ids already used, refused if they come again.
- `rate_limit`: a token bucket per key (a remote address, a carrier).
- `delivery`: the visit flow's decisions (who may enter now, what the alarm returns to).
- `answers`, `answer_texts`: spoken answers for Assist; their words in English and German.
- `stores`: a store bridge's MQTT messages (status, events, duplicates, gate passages).
- `errors`: the exception hierarchy, each error carrying a translation key.
"""
