// <concierge-door-card>: a dashboard card for one door — who is visiting now, the last
// visit's picture, the next window, and "Let someone in now" (confirmed, for a live grant).
// Built on its own into custom_components/concierge/frontend/concierge-door-card.js and
// loaded on every dashboard by the integration (frontend.add_extra_js_url).
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { cardText, pickerText } from "./card-i18n.js";
import { formatDateTime, formatTime, zoneOf } from "./format.js";

const REFRESH_MS = 60 * 1000;

/** The door's entity of one kind (`last_visit`, `visit_in_progress`) in Home Assistant. */
export function doorEntity(hass, domain, key, doorName) {
  for (const entry of Object.values(hass?.entities ?? {})) {
    if (entry.platform !== "concierge" || entry.translation_key !== key) continue;
    if (!entry.entity_id.startsWith(`${domain}.`)) continue;
    if (hass.devices?.[entry.device_id]?.name === doorName) return hass.states[entry.entity_id];
  }
  const slug = String(doorName).toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "");
  return hass?.states?.[`${domain}.${slug}_${key}`];
}

/** The grants of a door whose window is open at `now`, and the door's nearest window. */
export function doorWindows(grants, door, now = Date.now()) {
  const mine = grants.filter((g) => g.portals.includes(door) && g.current_or_next);
  const live = mine.filter((g) => g.state === "active"
    && Date.parse(g.current_or_next.start) <= now && now < Date.parse(g.current_or_next.end));
  const ahead = mine.filter((g) => ["active", "scheduled"].includes(g.state)
    && Date.parse(g.current_or_next.end) > now);
  ahead.sort((a, b) => Date.parse(a.current_or_next.start) - Date.parse(b.current_or_next.start));
  return { live, nearest: ahead[0] ?? null };
}

export class ConciergeDoorCard extends LitElement {
  static properties = {
    hass: { attribute: false },
    _config: { state: true },
    _site: { state: true },
    _grants: { state: true },
    _who: { state: true },
    _asking: { state: true },
    _choice: { state: true },
    _busy: { state: true },
    _notice: { state: true },
    _error: { state: true },
  };

  static async getStubConfig(hass) {
    try {
      const { sites } = await api.sites(hass);
      const site = sites.find((s) => s.portals.length) ?? null;
      return site ? { door: site.portals[0].id, site_id: site.site_id } : { door: "" };
    } catch (_err) {
      return { door: "" };
    }
  }

  static getConfigForm() {
    return {
      schema: [
        { name: "door", required: true, selector: { text: {} } },
        { name: "site_id", selector: { text: {} } },
      ],
      computeLabel: (field) => pickerText(field.name === "door" ? "f_door" : "f_site"),
    };
  }

  constructor() {
    super();
    this._grants = [];
    this._asking = false;
    this._seenVisit = undefined;
  }

  setConfig(config) {
    if (!config || typeof config !== "object") throw new Error("Invalid configuration");
    this._config = { ...config };
    this._site = undefined;
    this._seenVisit = undefined;
  }

  getCardSize() {
    return 5;
  }

  connectedCallback() {
    super.connectedCallback();
    this._timer = setInterval(() => this._load(), REFRESH_MS);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    clearInterval(this._timer);
  }

  _t(key, vars) {
    return cardText(this.hass?.language, key, vars);
  }

  get _portal() {
    return this._site?.portals.find((p) => p.id === this._config?.door) ?? null;
  }

  willUpdate(changed) {
    if (!changed.has("hass") || !this.hass || !this._config?.door) return;
    // Load at first, and again whenever the door's visit starts or ends.
    const sensor = this._site === undefined ? undefined : this._visitSensor();
    const visit = sensor ? `${sensor.state}|${sensor.attributes.visit_id ?? ""}` : "";
    if (this._site === undefined || visit !== this._seenVisit) {
      this._seenVisit = visit;
      this._load();
    }
  }

  _visitSensor() {
    return this._portal && doorEntity(this.hass, "binary_sensor", "visit_in_progress", this._portal.name);
  }

  async _load() {
    if (!this.hass || !this._config?.door || this._loading) return;
    this._loading = true;
    try {
      if (this._site === undefined || this._site === null) {
        const { sites } = await api.sites(this.hass);
        const wanted = this._config.site_id;
        this._site = sites.find((s) => (!wanted || s.site_id === wanted)
          && s.portals.some((p) => p.id === this._config.door)) ?? null;
        const sensor = this._visitSensor();
        this._seenVisit = sensor ? `${sensor.state}|${sensor.attributes.visit_id ?? ""}` : "";
      }
      if (!this._site) return;
      const { grants } = await this.hass.callWS({ type: "concierge/grants/list", site_id: this._site.site_id });
      this._grants = grants;
      const sensor = this._visitSensor();
      this._who = undefined;
      if (sensor?.state === "on") {
        const { visits } = await api.visits(this.hass, this._site.site_id, 20);
        const open = visits.find((v) => v.visit_id === sensor.attributes.visit_id)
          ?? visits.find((v) => v.portal === this._config.door && !v.ended);
        this._who = open?.label ?? null;
      }
      this._error = undefined;
    } catch (err) {
      this._error = errorText(err);
    } finally {
      this._loading = false;
    }
  }

  _ask() {
    const { live } = doorWindows(this._grants, this._config.door);
    this._choice = live[0]?.grant_id ?? "";
    this._notice = undefined;
    this._error = undefined;
    this._asking = true;
  }

  async _letIn() {
    if (!this._choice) return;
    this._busy = true;
    try {
      await this.hass.callService("concierge", "start_visit", {
        grant_id: this._choice, portal: this._config.door,
      });
      this._asking = false;
      this._notice = this._t("started");
      this._load();
    } catch (err) {
      this._error = errorText(err);
    } finally {
      this._busy = false;
    }
  }

  render() {
    if (!this._config?.door) return html`<ha-card><p class="hint">${this._t("no_door")}</p></ha-card>`;
    if (this._site === null) return html`<ha-card><p class="hint">${this._t("unknown_door")}</p></ha-card>`;
    const portal = this._portal;
    if (!portal) return html`<ha-card><p class="hint">…</p></ha-card>`;
    const sensor = this._visitSensor();
    const visiting = sensor?.state === "on";
    const image = doorEntity(this.hass, "image", "last_visit", portal.name);
    const picture = image && image.state !== "unavailable" ? image.attributes.entity_picture : null;
    const { live, nearest } = doorWindows(this._grants, this._config.door);
    return html`<ha-card>
      <h1 class="name">${portal.name}</h1>
      <p class="status ${visiting ? "on" : "off"}">
        ${visiting ? this._t("visiting", { who: this._who || this._t("someone") }) : this._t("no_visit")}
      </p>
      ${picture
        ? html`<img class="picture" src=${picture} alt=${this._t("last_visit")}>`
        : html`<p class="no-picture">${this._t("no_picture")}</p>`}
      <p class="window">${this._window(nearest)}</p>
      ${this._notice ? html`<p class="notice" role="status">${this._notice}</p>` : nothing}
      ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
      ${this._asking ? this._confirm(portal, live) : html`
        <button class="let-in" @click=${this._ask}>${this._t("let_in")}</button>`}
    </ha-card>`;
  }

  _window(grant) {
    if (!grant) return this._t("no_window");
    const zone = zoneOf(this.hass);
    const { start, end } = grant.current_or_next;
    if (Date.parse(start) <= Date.now()) {
      return this._t("window_now", { label: grant.label, end: formatDateTime(zone, end) });
    }
    return this._t("next_window", {
      label: grant.label, start: formatDateTime(zone, start), end: formatTime(zone, end),
    });
  }

  _confirm(portal, live) {
    return html`<div class="confirm" role="dialog" aria-label=${this._t("confirm_title", { door: portal.name })}>
      <p class="question">${this._t("confirm_title", { door: portal.name })}</p>
      ${live.length ? html`
        <p>${this._t("confirm_text")}</p>
        <label>${this._t("grant")}
          <select name="grant" @change=${(e) => { this._choice = e.target.value; }}>
            ${live.map((g) => html`<option value=${g.grant_id} ?selected=${g.grant_id === this._choice}>${g.label}</option>`)}
          </select>
        </label>` : html`<p class="hint">${this._t("no_live_grant")}</p>`}
      <div class="actions">
        <button class="cancel" @click=${() => { this._asking = false; }}>${this._t("cancel")}</button>
        <button class="open" ?disabled=${!live.length || this._busy} @click=${this._letIn}>${this._t("open")}</button>
      </div>
    </div>`;
  }

  static styles = css`
    :host { display: block; }
    ha-card { display: block; padding: 16px; font-family: var(--paper-font-body1_-_font-family, Roboto, sans-serif);
      background: var(--ha-card-background, var(--card-background-color, #fff)); border-radius: var(--ha-card-border-radius, 12px);
      color: var(--primary-text-color, #212121); box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0,0,0,.2)); }
    .name { font-size: 1.3em; font-weight: 500; margin: 0 0 8px; }
    .status { margin: 0 0 12px; font-weight: 500; }
    .status.on { color: var(--warning-color, #b45309); }
    .status.off { color: var(--secondary-text-color, #555); }
    .picture { display: block; width: 100%; border-radius: 8px; margin-bottom: 12px; }
    .no-picture, .hint { color: var(--secondary-text-color, #555); font-style: italic; }
    .window { margin: 0 0 12px; }
    .error { color: var(--error-color, #b00020); }
    .notice { color: var(--success-color, #2e7d32); }
    button { font: inherit; padding: 8px 14px; border-radius: 8px; cursor: pointer;
      border: 1px solid var(--primary-color, #03a9f4); background: none; color: var(--primary-color, #03a9f4); }
    button.let-in, button.open { background: var(--primary-color, #03a9f4); color: var(--text-primary-color, #fff); }
    button:disabled { opacity: .5; cursor: default; }
    .confirm { border-top: 1px solid var(--divider-color, #ddd); padding-top: 8px; }
    .question { font-weight: 500; }
    select { font: inherit; margin-left: 8px; }
    .actions { display: flex; gap: 8px; justify-content: flex-end; margin-top: 12px; }
  `;
}

if (!customElements.get("concierge-door-card")) {
  customElements.define("concierge-door-card", ConciergeDoorCard);
}

window.customCards = window.customCards || [];
if (!window.customCards.some((c) => c.type === "concierge-door-card")) {
  window.customCards.push({
    type: "concierge-door-card",
    name: pickerText("card_name"),
    description: pickerText("card_description"),
    preview: true,
    documentationURL: "https://github.com/concierge-ha/concierge#the-access-panel",
  });
}
