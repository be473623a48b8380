// <concierge-guest-links-dialog>: a grant's guest links (never their URLs again) and revoking
// one, after a confirmation.
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { translate } from "./i18n.js";
import { formatDateTime, zoneOf } from "./format.js";
import { shared } from "./styles.js";

export class ConciergeGuestLinksDialog extends LitElement {
  static properties = {
    hass: { attribute: false },
    dict: { attribute: false },
    siteId: { attribute: false },
    grant: { attribute: false },
    _links: { state: true },
    _error: { state: true },
    _confirming: { state: true },
    _busy: { state: true },
  };

  constructor() {
    super();
    this._links = undefined;
    this._error = "";
    this._confirming = null;
    this._busy = false;
  }

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  firstUpdated() {
    this._load();
  }

  async _load() {
    try {
      const { links } = await api.guestLinks(this.hass, this.siteId, this.grant.grant_id);
      this._links = links;
    } catch (err) {
      this._error = errorText(err);
    }
  }

  _stateOf(link) {
    if (link.revoked) return "revoked";
    if (link.expires && new Date(link.expires).getTime() <= Date.now()) return "expired";
    return "active";
  }

  async _revoke() {
    const link = this._confirming;
    this._busy = true;
    this._error = "";
    try {
      await api.revokeGuestLink(this.hass, this.siteId, link.link_id);
      this._confirming = null;
      await this._load();
    } catch (err) {
      this._error = errorText(err);
    } finally {
      this._busy = false;
    }
  }

  _close() {
    this.dispatchEvent(new CustomEvent("closed", { bubbles: true, composed: true }));
  }

  _renderList(zone) {
    if (this._links === undefined) return this._error ? nothing : html`<p class="muted">${this._t("loading")}</p>`;
    if (!this._links.length) return html`<p class="empty">${this._t("no_links")}</p>`;
    return html`<ul class="links">${this._links.map((link) => {
      const state = this._stateOf(link);
      return html`<li class="link ${state}" data-link=${link.link_id}>
        <span>${this._t("link_until", { when: formatDateTime(zone, link.expires) })}</span>
        <span class="state ${state}">${this._t(`link_state_${state}`)}</span>
        ${state === "active"
          ? html`<button class="danger" @click=${() => (this._confirming = link)}>${this._t("revoke")}</button>`
          : nothing}
      </li>`;
    })}</ul>`;
  }

  render() {
    const zone = zoneOf(this.hass);
    const c = this._confirming;
    return html`<div class="overlay" @click=${(e) => e.target === e.currentTarget && this._close()}>
      <div class="dialog guest-links" role="dialog" aria-modal="true">
        <h2>${this._t("links_title", { label: this.grant.label })}</h2>
        ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
        ${c
          ? html`<div class="confirm" role="alertdialog">
              <p>${this._t("confirm_revoke_link", { when: formatDateTime(zone, c.expires) })}</p>
              <div class="buttons">
                <button @click=${() => (this._confirming = null)}>${this._t("cancel")}</button>
                <button class="primary danger ok" ?disabled=${this._busy} @click=${this._revoke}>${this._t("revoke")}</button>
              </div>
            </div>`
          : this._renderList(zone)}
        <div class="buttons"><button class="primary close" @click=${this._close}>${this._t("close")}</button></div>
      </div>
    </div>`;
  }

  static styles = [
    shared,
    css`
      .links {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      .link {
        display: flex;
        align-items: center;
        gap: 8px;
        flex-wrap: wrap;
        padding: 6px 0;
        border-bottom: 1px solid var(--divider-color, #e0e0e0);
      }
      .link > span:first-child {
        flex: 1 1 auto;
      }
      .state {
        padding: 1px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
      }
      .state.active {
        background: var(--success-color, #43a047);
        color: #fff;
      }
      .link.revoked, .link.expired {
        color: var(--secondary-text-color, #727272);
      }
    `,
  ];
}

if (!customElements.get("concierge-guest-links-dialog")) {
  customElements.define("concierge-guest-links-dialog", ConciergeGuestLinksDialog);
}
