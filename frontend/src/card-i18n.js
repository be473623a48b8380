// The door card's words in English and German, chosen by hass.language ("de", "de-CH" → German).
const en = {
  card_name: "Concierge door",
  card_description: "Who is visiting a door now, the last visit's picture, the next window, and letting someone in.",
  no_door: "Choose a door in the card's settings.",
  unknown_door: "This door is not part of a Concierge home.",
  visiting: "Visit in progress: {who}",
  someone: "someone",
  no_visit: "No visit",
  no_picture: "No picture of a visit yet.",
  last_visit: "Last visit",
  next_window: "Next window: {label}, {start} – {end}",
  window_now: "Open now: {label}, until {end}",
  no_window: "No window ahead.",
  let_in: "Let someone in now",
  confirm_title: "Let someone in through {door}?",
  confirm_text: "The door unlocks now, for the grant you choose.",
  grant: "Grant",
  no_live_grant: "No grant is open for this door now.",
  cancel: "Cancel",
  open: "Unlock now",
  started: "Visit started: the door is unlocked.",
  f_door: "Door",
  f_site: "Home",
};

const de = {
  card_name: "Concierge-Tür",
  card_description: "Wer gerade an einer Tür zu Besuch ist, das Bild des letzten Besuchs, das nächste Zeitfenster und jemanden hereinlassen.",
  no_door: "Wähle in den Einstellungen der Karte eine Tür.",
  unknown_door: "Diese Tür gehört zu keinem Concierge-Zuhause.",
  visiting: "Besuch läuft: {who}",
  someone: "jemand",
  no_visit: "Kein Besuch",
  no_picture: "Noch kein Bild eines Besuchs.",
  last_visit: "Letzter Besuch",
  next_window: "Nächstes Zeitfenster: {label}, {start} – {end}",
  window_now: "Jetzt offen: {label}, bis {end}",
  no_window: "Kein Zeitfenster in Sicht.",
  let_in: "Jetzt jemanden hereinlassen",
  confirm_title: "Jemanden durch {door} hereinlassen?",
  confirm_text: "Die Tür wird jetzt entriegelt, für die gewählte Berechtigung.",
  grant: "Berechtigung",
  no_live_grant: "Für diese Tür ist gerade keine Berechtigung offen.",
  cancel: "Abbrechen",
  open: "Jetzt entriegeln",
  started: "Besuch begonnen: die Tür ist entriegelt.",
  f_door: "Tür",
  f_site: "Zuhause",
};

const DICTIONARIES = { en, de };

/** A card text in the user's language, with {placeholders} filled in. */
export function cardText(language, key, vars = {}) {
  const base = String(language || "en").toLowerCase().split("-")[0];
  const text = (DICTIONARIES[base] || en)[key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The card picker's name and description in the browser's language (no hass yet there). */
export function pickerText(key) {
  return cardText(globalThis.navigator?.language, key);
}
