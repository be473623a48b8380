// <concierge-panel>: the Access panel. Grants (live), visits, and the dialogs.
import { LitElement, html, nothing } from "lit";
import { api, errorText } from "./api.js";
import { dictionary, translate, label } from "./i18n.js";
import { WEEKDAYS, formatDateTime, formatTime, zoneOf } from "./format.js";
import { shared } from "./styles.js";
import { panelStyles } from "./panel-styles.js";
import "./grant-dialog.js";
import "./link-dialog.js";
import "./visits-view.js";
import "./carriers-view.js";
import "./guest-links-dialog.js";

const STATE_ORDER = { active: 0, scheduled: 1, suspended: 2, used_up: 3, expired: 4, revoked: 5 };
const ENDED = new Set(["revoked", "expired", "used_up"]);

export class ConciergePanel extends LitElement {
  static properties = {
    hass: { attribute: false },
    narrow: { type: Boolean },
    panel: { attribute: false },
    _sites: { state: true },
    _siteId: { state: true },
    _grants: { state: true },
    _search: { state: true },
    _stateFilter: { state: true },
    _tab: { state: true },
    _dialog: { state: true },
    _error: { state: true },
  };

  constructor() {
    super();
    this._sites = undefined;
    this._siteId = undefined;
    this._grants = undefined; // Map grant_id → Grant, once the subscription's first event came
    this._search = "";
    this._stateFilter = "";
    this._tab = "grants";
    this._dialog = null;
    this._error = "";
    this._unsubscribe = null;
    this._subscribedTo = null;
    this._lastLanguage = undefined;
  }

  get _dict() {
    return dictionary(this.hass?.language);
  }

  _t(key, vars) {
    return translate(this._dict, key, vars);
  }

  connectedCallback() {
    super.connectedCallback();
    if (this.hass && this._sites) this._subscribe();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this._unsubscribeNow();
  }

  willUpdate(changed) {
    if (changed.has("hass") && this.hass && this._sites === undefined) {
      this._sites = null; // loading
      this._loadSites();
    }
  }

  async _loadSites() {
    try {
      const { sites } = await api.sites(this.hass);
      this._sites = sites;
      if (sites.length && !sites.some((s) => s.site_id === this._siteId)) {
        this._siteId = sites[0].site_id;
      }
      this._subscribe();
    } catch (err) {
      this._sites = [];
      this._error = errorText(err);
    }
  }

  async _subscribe() {
    if (!this._siteId || this._subscribedTo === this._siteId) return;
    this._unsubscribeNow();
    this._grants = undefined;
    const siteId = this._siteId;
    this._subscribedTo = siteId;
    try {
      const unsub = await api.subscribeGrants(this.hass, siteId, (event) => this._onGrants(siteId, event));
      if (this._subscribedTo !== siteId) unsub();
      else this._unsubscribe = unsub;
    } catch (err) {
      this._subscribedTo = null;
      this._error = errorText(err);
    }
  }

  _unsubscribeNow() {
    if (this._unsubscribe) {
      const unsub = this._unsubscribe;
      this._unsubscribe = null;
      Promise.resolve(unsub()).catch(() => {});
    }
    this._subscribedTo = null;
  }

  _onGrants(siteId, event) {
    if (siteId !== this._siteId) return;
    const grants = new Map(this._grants || []);
    for (const grant of event.grants || []) grants.set(grant.grant_id, grant);
    for (const id of event.removed || []) grants.delete(id);
    this._grants = grants;
  }

  get _site() {
    return (this._sites || []).find((s) => s.site_id === this._siteId);
  }

  _doorName(id) {
    return this._site?.portals.find((p) => p.id === id)?.name ?? id;
  }

  _windowText(zone, grant, now) {
    const cur = grant.current_or_next;
    if (!cur) return this._t("no_window");
    const start = new Date(cur.start).getTime();
    if (start <= now) return this._t("now_until", { end: formatDateTime(zone, cur.end) });
    return this._t("next", { start: formatDateTime(zone, cur.start), end: formatTime(zone, cur.end) });
  }

  _weeklyText(grant) {
    const w = grant.window;
    if (!w || w.kind !== "weekly") return "";
    const days = WEEKDAYS.filter((d) => (w.weekdays || []).includes(d)).map((d) => this._t(`wd_${d}`));
    return this._t("weekly_every", { days: days.join(", "), start: w.start_time, end: w.end_time });
  }

  _visibleGrants() {
    const dict = this._dict;
    const needle = this._search.trim().toLowerCase();
    const rows = [...(this._grants?.values() || [])].filter((g) => {
      if (this._stateFilter && g.state !== this._stateFilter) return false;
      if (!needle) return true;
      const hay = [
        g.label, g.kind, label(dict, "kind", g.kind), label(dict, "state", g.state),
        ...g.portals.map((p) => this._doorName(p)),
      ].join(" ").toLowerCase();
      return hay.includes(needle);
    });
    const startOf = (g) => (g.current_or_next ? new Date(g.current_or_next.start).getTime() : Infinity);
    rows.sort(
      (a, b) => (STATE_ORDER[a.state] ?? 9) - (STATE_ORDER[b.state] ?? 9)
        || startOf(a) - startOf(b) || a.label.localeCompare(b.label),
    );
    return rows;
  }

  render() {
    if (!this.hass) return nothing;
    return html`
      <div class="toolbar">
        <h1>${this._t("title")}</h1>
        <nav>
          <button class=${this._tab === "grants" ? "tab on" : "tab"} @click=${() => (this._tab = "grants")}>
            ${this._t("tab_grants")}
          </button>
          <button class=${this._tab === "visits" ? "tab on" : "tab"} @click=${() => (this._tab = "visits")}>
            ${this._t("tab_visits")}
          </button>
          <button class=${this._tab === "carriers" ? "tab on" : "tab"} @click=${() => (this._tab = "carriers")}>
            ${this._t("tab_carriers")}
          </button>
        </nav>
        ${(this._sites || []).length > 1
          ? html`<label class="site">${this._t("site")}
              <select @change=${this._pickSite}>
                ${this._sites.map((s) => html`<option value=${s.site_id} ?selected=${s.site_id === this._siteId}>${s.name}</option>`)}
              </select></label>`
          : nothing}
      </div>
      <div class="content">
        ${this._error ? html`<p class="error" role="alert">${this._t("error", { message: this._error })}</p>` : nothing}
        ${this._sites === null || this._sites === undefined
          ? html`<p class="muted">${this._t("loading")}</p>`
          : !this._sites.length
            ? html`<p>${this._t("no_sites")}</p>`
            : this._renderTab()}
      </div>
      ${this._renderDialog()}
    `;
  }

  _renderTab() {
    if (this._tab === "grants") return this._renderGrants();
    if (this._tab === "visits") {
      return html`<concierge-visits .hass=${this.hass} .site=${this._site} .dict=${this._dict}></concierge-visits>`;
    }
    return html`<concierge-carriers .hass=${this.hass} .site=${this._site} .dict=${this._dict}
      .grants=${this._grants} @carriers-changed=${this._loadSites}></concierge-carriers>`;
  }

  _pickSite(ev) {
    this._siteId = ev.target.value;
    this._subscribe();
  }

  _renderGrants() {
    const dict = this._dict;
    const zone = zoneOf(this.hass);
    const now = Date.now();
    const rows = this._grants ? this._visibleGrants() : [];
    return html`
      <div class="filters">
        <input type="search" class="search" placeholder=${this._t("search")} aria-label=${this._t("search")}
          .value=${this._search} @input=${(e) => (this._search = e.target.value)} />
        <select aria-label=${this._t("col_state")} @change=${(e) => (this._stateFilter = e.target.value)}>
          <option value="">${this._t("col_state")}: *</option>
          ${Object.keys(STATE_ORDER).map((s) => html`<option value=${s} ?selected=${s === this._stateFilter}>${label(dict, "state", s)}</option>`)}
        </select>
        <button class="primary new" @click=${() => (this._dialog = { type: "grant", grant: null })}>+ ${this._t("new_grant")}</button>
      </div>
      ${this._grants === undefined
        ? html`<p class="muted">${this._t("loading")}</p>`
        : !this._grants.size
          ? html`<p class="empty">${this._t("no_grants")}</p>`
          : !rows.length
            ? html`<p class="empty">${this._t("no_match")}</p>`
            : html`<table class="grants">
                <thead><tr>
                  <th>${this._t("col_label")}</th><th>${this._t("col_kind")}</th><th>${this._t("col_doors")}</th>
                  <th>${this._t("col_window")}</th><th>${this._t("col_state")}</th><th>${this._t("col_uses")}</th>
                  <th>${this._t("col_codes")}</th><th>${this._t("col_actions")}</th>
                </tr></thead>
                <tbody>${rows.map((g) => this._renderRow(dict, zone, now, g))}</tbody>
              </table>`}
    `;
  }

  _renderRow(dict, zone, now, g) {
    const ended = ENDED.has(g.state);
    const weekly = this._weeklyText(g);
    return html`<tr class="grant" data-grant=${g.grant_id}>
      <td class="label" data-title=${this._t("col_label")}><strong>${g.label}</strong></td>
      <td data-title=${this._t("col_kind")}>${label(dict, "kind", g.kind)}</td>
      <td data-title=${this._t("col_doors")}>${g.portals.map((p) => this._doorName(p)).join(", ")}</td>
      <td data-title=${this._t("col_window")}>${this._windowText(zone, g, now)}${weekly ? html`<div class="muted">${weekly}</div>` : nothing}</td>
      <td data-title=${this._t("col_state")}><span class="state ${g.state}">${label(dict, "state", g.state)}</span></td>
      <td data-title=${this._t("col_uses")}>${g.uses}${g.max_uses ? ` / ${g.max_uses}` : ""}</td>
      <td data-title=${this._t("col_codes")}><div class="codes">${Object.keys(g.codes || {}).length
        ? Object.entries(g.codes).map(
          ([portal, status]) => html`<span class="code ${status}">${this._doorName(portal)}: ${label(dict, "code", status)}</span>`,
        )
        : "—"}</div></td>
      <td><div class="actions">
        ${ended ? nothing : html`<button @click=${() => (this._dialog = { type: "grant", grant: g })}>${this._t("edit")}</button>`}
        ${g.state === "suspended"
          ? html`<button @click=${() => this._confirm("resume", g)}>${this._t("resume")}</button>`
          : ended ? nothing : html`<button @click=${() => this._confirm("suspend", g)}>${this._t("suspend")}</button>`}
        ${g.guest_link && !ended ? html`<button @click=${() => this._guestLink(g)}>${this._t("guest_link")}</button>` : nothing}
        ${g.guest_link && !ended ? html`<button class="links" @click=${() => (this._dialog = { type: "links", grant: g })}>${this._t("guest_links")}</button>` : nothing}
        ${g.state === "revoked" ? nothing : html`<button class="danger" @click=${() => this._confirm("revoke", g)}>${this._t("revoke")}</button>`}
      </div></td>
    </tr>`;
  }

  _confirm(action, grant) {
    this._dialog = { type: "confirm", action, grant, busy: false, error: "" };
  }

  async _runConfirmed() {
    const { action, grant } = this._dialog;
    this._dialog = { ...this._dialog, busy: true, error: "" };
    try {
      await api.grantAction(this.hass, this._siteId, action, grant.grant_id);
      this._dialog = null;
    } catch (err) {
      this._dialog = { ...this._dialog, busy: false, error: errorText(err) };
    }
  }

  async _guestLink(grant) {
    this._dialog = { type: "link", grant, link: null, error: "" };
    try {
      const link = await api.createGuestLink(this.hass, this._siteId, grant.grant_id);
      if (this._dialog?.grant === grant) this._dialog = { ...this._dialog, link };
    } catch (err) {
      if (this._dialog?.grant === grant) this._dialog = { ...this._dialog, error: errorText(err) };
    }
  }

  _renderDialog() {
    const d = this._dialog;
    if (!d) return nothing;
    const close = () => (this._dialog = null);
    if (d.type === "grant") {
      return html`<concierge-grant-dialog .hass=${this.hass} .dict=${this._dict} .site=${this._site}
        .grant=${d.grant} @closed=${close}></concierge-grant-dialog>`;
    }
    if (d.type === "link") {
      return html`<concierge-link-dialog .hass=${this.hass} .dict=${this._dict} .grant=${d.grant}
        .link=${d.link} .error=${d.error} @closed=${close}></concierge-link-dialog>`;
    }
    if (d.type === "links") {
      return html`<concierge-guest-links-dialog .hass=${this.hass} .dict=${this._dict} .siteId=${this._siteId}
        .grant=${d.grant} @closed=${close}></concierge-guest-links-dialog>`;
    }
    const danger = d.action === "revoke";
    return html`<div class="overlay" @click=${(e) => e.target === e.currentTarget && close()}>
      <div class="dialog confirm" role="alertdialog" aria-modal="true">
        <h2>${this._t(d.action)}</h2>
        <p>${this._t(`confirm_${d.action}`, { label: d.grant.label })}</p>
        ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : nothing}
        <div class="buttons">
          <button @click=${close}>${this._t("cancel")}</button>
          <button class=${danger ? "primary danger ok" : "primary ok"} ?disabled=${d.busy} @click=${this._runConfirmed}>
            ${this._t(d.action)}
          </button>
        </div>
      </div>
    </div>`;
  }

  static styles = [shared, panelStyles];
}

if (!customElements.get("concierge-panel")) customElements.define("concierge-panel", ConciergePanel);
