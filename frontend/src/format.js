// Times on the wire are ISO 8601 (UTC); the panel shows them in the home's time zone.

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** The time zone and locale the panel formats with (Home Assistant's settings). */
export function zoneOf(hass) {
  const tz = hass?.locale?.time_zone === "local" ? undefined : hass?.config?.time_zone;
  return { timeZone: tz || undefined, locale: hass?.locale?.language || hass?.language || "en" };
}

const formatters = new Map();
function formatter(zone, options) {
  const key = `${zone.locale}|${zone.timeZone}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(zone.locale, { ...options, timeZone: zone.timeZone });
    formatters.set(key, f);
  }
  return f;
}

/** "Sat 7 Dec, 14:00" style, in the home's zone. */
export function formatDateTime(zone, iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatter(zone, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  }).format(d);
}

/** "14:00", in the home's zone. */
export function formatTime(zone, iso) {
  if (!iso) return "";
  return formatter(zone, { hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

/** The wall-clock parts ("YYYY-MM-DDTHH:MM") of an instant in the home's zone, for inputs. */
export function toLocalInput(zone, iso) {
  if (!iso) return "";
  const parts = Object.fromEntries(
    formatter(zone, {
      year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** An input's wall-clock value ("YYYY-MM-DDTHH:MM") in the home's zone → ISO 8601 UTC. */
export function fromLocalInput(zone, value) {
  if (!value) return null;
  const [date, time] = value.split("T");
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi] = (time || "00:00").split(":").map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  // The zone's offset at that instant, found by formatting the guess back (twice for DST).
  let utc = guess;
  for (let i = 0; i < 2; i += 1) {
    const shown = toLocalInput(zone, new Date(utc).toISOString());
    const [sd, st] = shown.split("T");
    const [sy, smo, sdd] = sd.split("-").map(Number);
    const [sh, smi] = st.split(":").map(Number);
    utc += guess - Date.UTC(sy, smo - 1, sdd, sh, smi);
  }
  return new Date(utc).toISOString();
}
