// A stand-in for Home Assistant's `hass` object: the Concierge WebSocket API v1 answered in
// memory (the edge of the world the panel talks to), for the panel's fast browser tests.
const now = Date.now();
const hour = 3600 * 1000;

function grant(i, extra = {}) {
  return {
    grant_id: `g${String(i).padStart(4, "0")}`,
    label: `Grant ${i}`,
    kind: ["guest", "cleaner", "sitter", "courier", "other"][i % 5],
    portals: ["front"],
    state: "scheduled",
    window: { kind: "weekly", weekdays: ["mon", "thu"], start_time: "09:00", end_time: "12:00", valid_from: null, valid_until: null },
    current_or_next: { start: new Date(now + (i + 1) * hour).toISOString(), end: new Date(now + (i + 3) * hour).toISOString() },
    uses: 0, max_uses: null, codes: { front: "programmed" }, has_pin: true, remote_token: false,
    guest_link: true, alarm: "disarm_for_visit", require_camera: false, refuse_when_pets_home: false,
    notify: true, carriers: [], max_visit_minutes: null,
    ...extra,
  };
}

// A door's last-visit picture as the image entity's `entity_picture` would serve it.
const PICTURE = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="#8fa9c4"/>'
  + '<rect x="120" y="40" width="80" height="140" fill="#5b3a29"/><circle cx="160" cy="60" r="22" fill="#f1c27d"/></svg>',
)}`;

// A visit's camera snapshot as the media source would serve it (a wide picture, 640×360).
const SNAPSHOT = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"><rect width="640" height="360" fill="#c4ced6"/>'
  + '<rect x="250" y="60" width="140" height="300" fill="#85572d"/><circle cx="300" cy="120" r="30" fill="#f1c27d"/>'
  + '<rect x="265" y="150" width="70" height="120" fill="#2f6db5"/></svg>',
)}`;

// The door entities Home Assistant would hold for the Concierge site (registry display
// entries, devices, states): the visit-in-progress sensor and the last-visit picture.
function doorEntities({ visiting = null, picture = true } = {}) {
  const entities = {}, devices = {}, states = {};
  for (const [id, name] of [["front", "Front door"], ["garage", "Garage"]]) {
    devices[`dev_${id}`] = { id: `dev_${id}`, name };
    const sensor = `binary_sensor.${id}_visit`;  // ids a user renamed: found through the registry
    const image = `image.${id}_picture`;
    entities[sensor] = { entity_id: sensor, device_id: `dev_${id}`, platform: "concierge", translation_key: "visit_in_progress" };
    entities[image] = { entity_id: image, device_id: `dev_${id}`, platform: "concierge", translation_key: "last_visit" };
    const open = visiting && visiting.portal === id;
    states[sensor] = { entity_id: sensor, state: open ? "on" : "off", attributes: open ? { visit_id: visiting.visit_id, visit_state: "started" } : {} };
    states[image] = picture && id === "front"
      ? { entity_id: image, state: new Date(now - hour).toISOString(), attributes: { entity_picture: PICTURE } }
      : { entity_id: image, state: "unavailable", attributes: {} };
  }
  return { entities, devices, states };
}

export function makeHass({
  count = 0, grants = null, language = "en", timeZone = "Europe/Berlin", auditBroken = false,
  doorGrants = [], visiting = null, picture = true, refuseVisit = false,
} = {}) {
  const site = {
    site_id: "site1", name: "Home",
    portals: [
      { id: "front", name: "Front door", has_keypad: true, lock: "lock.front_door" },
      { id: "garage", name: "Garage", has_keypad: false, lock: "lock.garage" },
    ],
    carriers: [{ id: "dhl", name: "DHL" }],
  };
  const store = new Map();
  for (const g of grants ?? Array.from({ length: count }, (_, i) => grant(i))) store.set(g.grant_id, g);
  // Grants for the door card: {label, state, portals, from_hours, to_hours} (window relative to now).
  doorGrants.forEach((d, i) => {
    const g = grant(500 + i, {
      label: d.label, state: d.state ?? "scheduled", portals: d.portals ?? ["front"],
      current_or_next: d.from_hours == null ? null
        : { start: new Date(now + d.from_hours * hour).toISOString(), end: new Date(now + d.to_hours * hour).toISOString() },
    });
    store.set(g.grant_id, g);
  });
  const listeners = new Set();
  const calls = [];
  const emit = (changed, removed = []) => {
    for (const cb of listeners) setTimeout(() => cb({ grants: changed, removed }), 0);
  };
  let next = 9000;
  // Guest links per grant (the list never holds a URL), newest last.
  const links = new Map([
    ["l-old", { grant_id: "g0000", link_id: "l-old", created: null, expires: new Date(now - 24 * hour).toISOString(), revoked: false }],
    ["l-live", { grant_id: "g0000", link_id: "l-live", created: null, expires: new Date(now + 24 * hour).toISOString(), revoked: false }],
  ]);
  const carriers = [
    { id: "dhl", name: "DHL", keys: [{ kid: "dhl-2025", alg: "EdDSA", fingerprint: "SHA256:4f:1a:9c:07:e2" }] },
    { id: "ups", name: "UPS", keys: [] },
  ];
  const checkKey = (pem) => {
    if (!/^-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----\s*$/.test(pem.trim())) {
      throw { code: "invalid_format", message: "This is not a PEM public key of type EC P-256 or Ed25519." };
    }
    if (pem.includes("weak")) {
      throw { code: "invalid_format", message: "This Ed25519 key is not a safe public key (a small-order or non-canonical point): anyone could sign tokens with it." };
    }
  };
  const keyOf = (m) => ({ kid: m.kid ?? "fp0123456789abcd", alg: "EdDSA", fingerprint: "fp0123456789abcd" });
  const handlers = {
    "concierge/sites": () => ({ sites: [site] }),
    // As the backend: without a PIN no warnings; a PIN another grant uses is pin_in_use.
    "concierge/grants/check": (m) => ({
      warnings: m.pin === "1111" ? m.portals.map((p) => ({ code: "pin_in_use", portal: p, message: "Another grant already uses this PIN on Front door." })) : [],
    }),
    "concierge/grants/create": (m) => {
      if (m.label === "boom") throw { code: "invalid_format", message: "The end is before the start." };
      const g = grant(next++, {
        label: m.label, kind: m.kind, portals: m.portals, has_pin: Boolean(m.pin || m.generate_pin),
        window: m.weekdays ? { kind: "weekly", weekdays: m.weekdays, start_time: m.start_time, end_time: m.end_time, valid_from: m.valid_from ?? null, valid_until: m.valid_until ?? null }
          : { kind: "one_off", start: m.start, end: m.end },
        codes: Object.fromEntries(m.portals.map((p) => [p, site.portals.find((s) => s.id === p).has_keypad ? "pending" : "no_keypad"])),
        guest_link: m.guest_link,
      });
      store.set(g.grant_id, g);
      emit([g]);
      return { grant_id: g.grant_id, pin: m.generate_pin ? "482913" : null, warnings: [] };
    },
    "concierge/grants/update": (m) => {
      const g = { ...store.get(m.grant_id), label: m.label, portals: m.portals };
      store.set(g.grant_id, g);
      emit([g]);
      return { grant_id: g.grant_id, pin: m.generate_pin ? "551177" : null, warnings: [] };
    },
    "concierge/grants/suspend": (m) => { const g = { ...store.get(m.grant_id), state: "suspended" }; store.set(g.grant_id, g); emit([g]); return null; },
    "concierge/grants/resume": (m) => { const g = { ...store.get(m.grant_id), state: "scheduled" }; store.set(g.grant_id, g); emit([g]); return null; },
    "concierge/grants/revoke": (m) => { const g = { ...store.get(m.grant_id), state: "revoked" }; store.set(g.grant_id, g); emit([g]); return null; },
    "concierge/guest_links/create": (m) => ({ link_id: "l1", url: `/api/concierge/guest/${m.grant_id}-token`, expires: new Date(now + 48 * hour).toISOString() }),
    "concierge/guest_links/list": (m) => ({
      links: [...links.values()].filter((l) => l.grant_id === m.grant_id).map(({ grant_id, ...l }) => l),
    }),
    "concierge/guest_links/revoke": (m) => {
      if (!links.has(m.link_id)) throw { code: "not_found", message: "This guest link does not exist." };
      links.get(m.link_id).revoked = true;
      return null;
    },
    "concierge/carriers/list": () => ({ carriers }),
    // As the backend: the carrier form's checks (here: a key must be a PEM public key, "weak"
    // in it is a weak Ed25519 key), answered in words; a refused change stores nothing.
    "concierge/carriers/add": (m) => {
      checkKey(m.public_key);
      if (carriers.some((c) => c.id === m.carrier_id)) throw { code: "invalid_format", message: "Another carrier of this site already has this ID." };
      const carrier = { id: m.carrier_id, name: m.name.trim(), keys: [keyOf(m)] };
      carriers.push(carrier);
      site.carriers.push({ id: carrier.id, name: carrier.name });
      return { carrier };
    },
    "concierge/carriers/rotate_key": (m) => {
      checkKey(m.public_key);
      const carrier = carriers.find((c) => c.id === m.carrier_id);
      const key = keyOf(m);
      if (carrier.keys.some((k) => k.kid === key.kid)) throw { code: "home_assistant_error", message: `The carrier already has a key with the ID "${key.kid}".` };
      carrier.keys = [...carrier.keys.filter((k) => k.kid !== m.retire_kid), key];
      return { carrier };
    },
    "concierge/carriers/retire_key": (m) => {
      const carrier = carriers.find((c) => c.id === m.carrier_id);
      carrier.keys = carrier.keys.filter((k) => k.kid !== m.kid);
      return { carrier };
    },
    // As the backend: a dry run of the courier endpoint (here: "good" opens, "late" is outside the window).
    "concierge/tokens/check": (m) => (m.token.startsWith("good")
      ? { answer: { status: 200, error: null }, reason: "The token is valid: the door would open.", grant_id: "g0000", portal: "front" }
      : m.token.startsWith("late")
        ? { answer: { status: 403, error: "outside_window" }, reason: "The grant is not open at this time.", grant_id: "g0000", portal: "front" }
        : { answer: { status: 401, error: "bad_token" }, reason: "The token is not a valid courier token.", grant_id: null, portal: null }),
    "concierge/audit/verify": () => (auditBroken
      ? { ok: false, records: 41, problem: "hash_mismatch" }
      : { ok: true, records: 128, problem: null }),
    "concierge/visits/export": (m) => ({
      bundle: { version: 1, visit: { visit_id: m.visit_id, label: "Grant 1" }, records: [{ seq: 7, type: "granted" }], evidence: [] },
    }),
    "concierge/grants/list": () => ({ grants: [...store.values()] }),
    "concierge/visits/list": () => ({
      visits: [...(visiting ? [{
        visit_id: visiting.visit_id, grant_id: "g0500", label: visiting.label, portal: visiting.portal,
        started: new Date(now - 0.1 * hour).toISOString(), ended: null, outcome: null, steps: [], evidence: [],
      }] : []), {
        visit_id: "v1", grant_id: "g0001", label: "Grant 1", portal: "front",
        started: new Date(now - 2 * hour).toISOString(), ended: new Date(now - 1.5 * hour).toISOString(),
        outcome: "completed", steps: [{ type: "granted", at: new Date(now - 2 * hour).toISOString() }],
        evidence: [{ ref: "snap1", kind: "snapshot", url: SNAPSHOT }],
      }],
    }),
  };
  const services = [];
  return {
    language,
    locale: { language, time_zone: "server" },
    config: { time_zone: timeZone },
    ...doorEntities({ visiting, picture }),
    calls,
    services,
    callService: async (domain, service, data) => {
      services.push({ domain, service, data });
      if (refuseVisit) throw { code: "service_validation_error", message: "The grant is not open at this time." };
      return { context: { id: "c1" } };
    },
    callWS: async (msg) => {
      calls.push(msg);
      const handler = handlers[msg.type];
      if (!handler) throw { code: "unknown_command", message: `Unknown command ${msg.type}` };
      return structuredClone(handler(msg));
    },
    connection: {
      subscribeMessage: async (cb, msg) => {
        calls.push(msg);
        listeners.add(cb);
        setTimeout(() => cb({ grants: [...store.values()].map((g) => structuredClone(g)), removed: [] }), 0);
        return async () => listeners.delete(cb);
      },
    },
  };
}
