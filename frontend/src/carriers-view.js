// <concierge-carriers>: the site's carriers with their signing keys (add a carrier, rotate a
// key, retire an old key), and "Check a token": what the courier door WOULD answer to a
// pasted token (a dry run: nothing opens).
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { translate } from "./i18n.js";
import { shared } from "./styles.js";
import "./carrier-dialog.js";

export class ConciergeCarriers extends LitElement {
  static properties = {
    hass: { attribute: false },
    site: { attribute: false },
    dict: { attribute: false },
    grants: { attribute: false },
    _carriers: { state: true },
    _error: { state: true },
    _token: { state: true },
    _checking: { state: true },
    _answer: { state: true },
    _checkError: { state: true },
    _dialog: { state: true },
  };

  constructor() {
    super();
    this._token = "";
    this._checking = false;
    this._answer = null;
    this._checkError = "";
    this._dialog = null;
  }

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  willUpdate(changed) {
    if (changed.has("site") && this.site && this.site.site_id !== this._loadedFor) {
      this._loadedFor = this.site.site_id;
      this._carriers = undefined;
      this._answer = null;
      this._load();
    }
  }

  async _load() {
    const siteId = this.site.site_id;
    try {
      const { carriers } = await api.carriers(this.hass, siteId);
      if (siteId === this._loadedFor) this._carriers = carriers;
    } catch (err) {
      this._error = errorText(err);
    }
  }

  // A carrier added or its keys changed: list them again, and let the panel know (the grant
  // form's carrier choices come with the site).
  _changed() {
    this._load();
    this.dispatchEvent(new CustomEvent("carriers-changed", { bubbles: true, composed: true }));
  }

  async _retire() {
    const { carrier, kid } = this._dialog;
    this._dialog = { ...this._dialog, busy: true, error: "" };
    try {
      await api.retireKey(this.hass, this.site.site_id, carrier.id, kid);
      this._dialog = null;
      this._changed();
    } catch (err) {
      this._dialog = { ...this._dialog, busy: false, error: errorText(err) };
    }
  }

  _renderDialog() {
    const d = this._dialog;
    if (!d) return nothing;
    const close = () => (this._dialog = null);
    if (d.type === "carrier") {
      return html`<concierge-carrier-dialog .hass=${this.hass} .dict=${this.dict} .siteId=${this.site.site_id}
        .carrier=${d.carrier} @closed=${close} @carrier-saved=${this._changed}></concierge-carrier-dialog>`;
    }
    return html`<div class="overlay" @click=${(e) => e.target === e.currentTarget && close()}>
      <div class="dialog confirm" role="alertdialog" aria-modal="true">
        <h2>${this._t("retire_key")}</h2>
        <p>${this._t("confirm_retire_key", { kid: d.kid, name: d.carrier.name })}</p>
        ${d.error ? html`<p class="error" role="alert">${d.error}</p>` : nothing}
        <div class="buttons">
          <button @click=${close}>${this._t("cancel")}</button>
          <button class="primary danger ok" ?disabled=${d.busy} @click=${this._retire}>${this._t("retire_key")}</button>
        </div>
      </div>
    </div>`;
  }

  async _check(ev) {
    ev.preventDefault();
    const token = this._token.trim();
    if (!token) return;
    this._checking = true;
    this._answer = null;
    this._checkError = "";
    try {
      this._answer = await api.checkToken(this.hass, this.site.site_id, token);
    } catch (err) {
      this._checkError = errorText(err);
    } finally {
      this._checking = false;
    }
  }

  _door(id) {
    return this.site?.portals.find((p) => p.id === id)?.name ?? id;
  }

  _grantLabel(id) {
    return this.grants?.get(id)?.label ?? id;
  }

  _renderCarriers() {
    if (this._error) return html`<p class="error" role="alert">${this._t("error", { message: this._error })}</p>`;
    if (this._carriers === undefined) return html`<p class="muted">${this._t("loading")}</p>`;
    if (!this._carriers.length) return html`<p class="empty">${this._t("no_carriers")}</p>`;
    return html`<ul class="carriers">${this._carriers.map((c) => html`<li class="carrier" data-carrier=${c.id}>
      <div class="head">
        <strong>${c.name}</strong> <code class="muted">${c.id}</code>
        <button class="rotate" @click=${() => (this._dialog = { type: "carrier", carrier: c })}>${this._t("rotate_key")}</button>
      </div>
      ${c.keys?.length
        ? html`<table class="keys">
            <thead><tr><th>${this._t("key_kid")}</th><th>${this._t("key_alg")}</th><th>${this._t("key_fingerprint")}</th><th></th></tr></thead>
            <tbody>${c.keys.map((k) => html`<tr class="key" data-kid=${k.kid}>
              <td data-title=${this._t("key_kid")}>${k.kid}</td><td data-title=${this._t("key_alg")}>${k.alg}</td>
              <td data-title=${this._t("key_fingerprint")}><code>${k.fingerprint}</code></td>
              <td class="retire">${c.keys.length > 1
                ? html`<button class="danger" @click=${() => (this._dialog = { type: "retire", carrier: c, kid: k.kid })}>${this._t("retire_key")}</button>`
                : nothing}</td></tr>`)}</tbody>
          </table>`
        : html`<p class="muted">${this._t("no_keys")}</p>`}
    </li>`)}</ul>`;
  }

  _renderAnswer() {
    const a = this._answer;
    if (!a) return nothing;
    const opens = a.answer?.status === 200 && !a.answer?.error;
    return html`<div class="answer ${opens ? "opens" : "refused"}" role="status">
      <strong>${opens ? this._t("check_would_open") : this._t("check_refused")}</strong>
      <span class="muted">(${this._t("check_status", { status: a.answer?.status ?? "?" })})</span>
      ${a.reason ? html`<p class="reason">${a.reason}</p>` : nothing}
      ${a.grant_id ? html`<p>${this._t("check_grant", { label: this._grantLabel(a.grant_id) })}</p>` : nothing}
      ${a.portal ? html`<p>${this._t("check_door", { door: this._door(a.portal) })}</p>` : nothing}
      <p class="nothing-opened"><strong>${this._t("check_nothing_opened")}</strong></p>
      ${opens ? html`<p class="muted">${this._t("check_limits")}</p>` : nothing}
    </div>`;
  }

  render() {
    return html`
      <div class="title">
        <h2>${this._t("tab_carriers")}</h2>
        <button class="primary add" @click=${() => (this._dialog = { type: "carrier", carrier: null })}>+ ${this._t("add_carrier")}</button>
      </div>
      ${this._renderCarriers()}
      <form class="check" @submit=${this._check}>
        <h2>${this._t("check_title")}</h2>
        <p class="muted">${this._t("check_hint")}</p>
        <textarea name="token" rows="3" spellcheck="false" autocomplete="off" aria-label=${this._t("check_token")}
          placeholder=${this._t("check_token")} .value=${this._token}
          @input=${(e) => (this._token = e.target.value)}></textarea>
        <div class="buttons">
          <button type="submit" class="primary" ?disabled=${this._checking || !this._token.trim()}>${this._t("check_run")}</button>
        </div>
        ${this._checkError ? html`<p class="error" role="alert">${this._checkError}</p>` : nothing}
        ${this._renderAnswer()}
      </form>
      ${this._renderDialog()}
    `;
  }

  static styles = [
    shared,
    css`
      h2 {
        font-size: 18px;
        font-weight: 500;
        margin: 8px 0;
      }
      .title, .head {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
      }
      .title h2 {
        flex: 1 1 auto;
      }
      .head code {
        overflow-wrap: anywhere;
      }
      .head .rotate {
        margin-left: auto;
      }
      td.retire {
        text-align: right;
      }
      td.retire button {
        padding: 2px 10px;
        min-height: 30px;
      }
      .carriers {
        list-style: none;
        padding: 0;
        margin: 0 0 16px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .carrier, .check {
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
        padding: 10px 12px;
      }
      table.keys {
        width: 100%;
        border-collapse: collapse;
        margin-top: 6px;
      }
      th, td {
        text-align: left;
        padding: 4px 8px;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
        overflow-wrap: anywhere;
      }
      th {
        font-weight: 500;
        color: var(--secondary-text-color, #727272);
      }
      textarea {
        width: 100%;
        box-sizing: border-box;
        font-family: monospace;
        font-size: 13px;
        padding: 6px 8px;
        border: 1px solid var(--divider-color, #ccc);
        border-radius: 6px;
        background: var(--card-background-color, #fff);
        color: var(--primary-text-color, #212121);
      }
      .answer {
        margin-top: 12px;
        padding: 8px 12px;
        border-left: 4px solid var(--error-color, #db4437);
        background: var(--secondary-background-color, #f5f5f5);
      }
      .answer.opens {
        border-left-color: var(--success-color, #43a047);
      }
      .answer p {
        margin: 4px 0;
      }
      @media (max-width: 760px) {
        table.keys thead {
          display: none;
        }
        table.keys tr, table.keys td {
          display: block;
        }
        table.keys td.retire {
          text-align: left;
        }
        table.keys td.retire:empty {
          display: none;
        }
        table.keys td[data-title]::before {
          content: attr(data-title) ": ";
          color: var(--secondary-text-color, #727272);
        }
      }
    `,
  ];
}

if (!customElements.get("concierge-carriers")) customElements.define("concierge-carriers", ConciergeCarriers);
