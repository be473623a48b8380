// <concierge-panel>: the Access panel. Grants (live), visits, and the dialogs.
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { dictionary, translate, label } from "./i18n.js";
import { WEEKDAYS, formatDateTime, formatTime, zoneOf } from "./format.js";
import { shared } from "./styles.js";
import "./grant-dialog.js";
import "./link-dialog.js";
import "./visits-view.js";

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
            : this._tab === "grants"
              ? this._renderGrants()
              : html`<concierge-visits .hass=${this.hass} .site=${this._site} .dict=${this._dict}></concierge-visits>`}
      </div>
      ${this._renderDialog()}
    `;
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

  static styles = [
    shared,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--primary-background-color, #fafafa);
      }
      .toolbar {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        padding: 8px 16px;
        background: var(--app-header-background-color, var(--primary-color, #03a9f4));
        color: var(--app-header-text-color, var(--text-primary-color, #fff));
      }
      .toolbar h1 {
        font-size: 20px;
        font-weight: 400;
        margin: 0 8px 0 0;
      }
      nav {
        display: flex;
        gap: 4px;
      }
      .tab {
        background: transparent;
        border: none;
        color: inherit;
        opacity: 0.75;
        border-bottom: 2px solid transparent;
        border-radius: 0;
      }
      .tab.on {
        opacity: 1;
        border-bottom-color: currentColor;
      }
      .site {
        margin-left: auto;
        display: flex;
        gap: 6px;
        align-items: center;
      }
      .content {
        padding: 16px;
        max-width: 1400px;
        margin: 0 auto;
      }
      .filters {
        display: flex;
        gap: 8px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .search {
        flex: 1 1 200px;
      }
      table.grants {
        width: 100%;
        border-collapse: collapse;
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        overflow: hidden;
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
      }
      th, td {
        text-align: left;
        padding: 8px 10px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        vertical-align: top;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      .state {
        padding: 2px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
        white-space: nowrap;
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .state.suspended {
        background: var(--warning-color, #ffa600);
        color: #fff;
      }
      .codes {
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      .code.rejected, .code.no_free_slot, .code.not_removed {
        color: var(--error-color, #db4437);
      }
      .code.pending {
        color: var(--warning-color, #ffa600);
      }
      .code.no_keypad {
        color: var(--secondary-text-color, #727272);
      }
      .actions {
        display: flex;
        gap: 4px;
        flex-wrap: wrap;
      }
      .actions button {
        padding: 4px 8px;
        min-height: 32px;
      }
      @media (max-width: 760px) {
        table.grants, table.grants tbody, table.grants tr, table.grants td {
          display: block;
          width: auto;
        }
        table.grants thead {
          display: none;
        }
        table.grants tr {
          border-bottom: 8px solid var(--primary-background-color, #fafafa);
          padding: 4px 0;
        }
        table.grants td {
          border: none;
          padding: 3px 12px;
        }
        table.grants td[data-title]:not(.label)::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `,
  ];
}

if (!customElements.get("concierge-panel")) customElements.define("concierge-panel", ConciergePanel);
