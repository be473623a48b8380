// <concierge-carrier-dialog>: add a carrier (name, issuer, one public key and its key id), or
// give a carrier a new key (a rotation), optionally retiring an old key at the same time.
// The backend checks everything as the carrier's own settings form does and answers in the
// user's language; a refused key leaves the form as it was, with the reason.
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { translate } from "./i18n.js";
import { shared } from "./styles.js";

export class ConciergeCarrierDialog extends LitElement {
  static properties = {
    hass: { attribute: false },
    dict: { attribute: false },
    siteId: { attribute: false },
    carrier: { attribute: false }, // null: add a carrier; a carrier: rotate its key
    _busy: { state: true },
    _error: { state: true },
  };

  constructor() {
    super();
    this.carrier = null;
    this._busy = false;
    this._error = "";
    this._onKey = (ev) => {
      if (ev.key === "Escape") this._close();
    };
  }

  connectedCallback() {
    super.connectedCallback();
    window.addEventListener("keydown", this._onKey);
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener("keydown", this._onKey);
  }

  firstUpdated() {
    this.renderRoot.querySelector("input, textarea")?.focus();
  }

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  _close() {
    this.dispatchEvent(new CustomEvent("closed", { bubbles: true, composed: true }));
  }

  async _save(ev) {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const value = (name) => String(form.get(name) ?? "").trim();
    const key = { public_key: value("public_key") };
    if (value("kid")) key.kid = value("kid");
    this._busy = true;
    this._error = "";
    try {
      let answer;
      if (this.carrier) {
        if (value("retire_kid")) key.retire_kid = value("retire_kid");
        answer = await api.rotateKey(this.hass, this.siteId, this.carrier.id, key);
      } else {
        answer = await api.addCarrier(this.hass, this.siteId, { name: value("name"), carrier_id: value("carrier_id"), ...key });
      }
      this.dispatchEvent(new CustomEvent("carrier-saved", { detail: answer.carrier, bubbles: true, composed: true }));
      this._close();
    } catch (err) {
      this._error = errorText(err);
    } finally {
      this._busy = false;
    }
  }

  _field(label, hint, input) {
    return html`<label class="field">
      <span>${label}</span>
      ${input}
      ${hint ? html`<small class="muted">${hint}</small>` : nothing}
    </label>`;
  }

  render() {
    const rotating = Boolean(this.carrier);
    const title = rotating ? this._t("carrier_title_rotate", { name: this.carrier.name }) : this._t("carrier_title_add");
    return html`<div class="overlay" @click=${(e) => e.target === e.currentTarget && this._close()}>
      <form class="dialog carrier-dialog" role="dialog" aria-modal="true" aria-label=${title} @submit=${this._save}>
        <h2>${title}</h2>
        ${rotating
          ? html`<p class="muted">${this._t("carrier_rotate_hint")}</p>`
          : html`
            ${this._field(this._t("carrier_name"), "", html`<input name="name" required maxlength="64" autocomplete="off" />`)}
            ${this._field(this._t("carrier_id"), this._t("carrier_id_hint"),
              html`<input name="carrier_id" required autocomplete="off" spellcheck="false" />`)}`}
        ${this._field(this._t("carrier_kid"), this._t("carrier_kid_hint"),
          html`<input name="kid" maxlength="128" autocomplete="off" spellcheck="false" />`)}
        ${this._field(this._t("carrier_key"), this._t("carrier_key_hint"),
          html`<textarea name="public_key" rows="5" required spellcheck="false" autocomplete="off"
            placeholder="-----BEGIN PUBLIC KEY-----"></textarea>`)}
        ${rotating && this.carrier.keys?.length
          ? this._field(this._t("carrier_retire"), "", html`<select name="retire_kid">
              <option value="">${this._t("carrier_retire_none")}</option>
              ${this.carrier.keys.map((k) => html`<option value=${k.kid}>${k.kid}</option>`)}
            </select>`)
          : nothing}
        ${this._error ? html`<p class="error" role="alert">${this._error}</p>` : nothing}
        <div class="buttons">
          <button type="button" class="cancel" @click=${this._close}>${this._t("cancel")}</button>
          <button type="submit" class="primary save" ?disabled=${this._busy}>${this._t("save")}</button>
        </div>
      </form>
    </div>`;
  }

  static styles = [
    shared,
    css`
      .field {
        display: flex;
        flex-direction: column;
        gap: 4px;
        margin-bottom: 12px;
      }
      .field > span {
        font-weight: 500;
      }
      .field input, .field select, textarea {
        width: 100%;
        min-width: 0;
      }
      textarea {
        box-sizing: border-box;
        font-family: monospace;
        font-size: 12px;
        padding: 6px 8px;
        border: 1px solid var(--divider-color, #ccc);
        border-radius: 6px;
        background: var(--card-background-color, #fff);
        color: var(--primary-text-color, #212121);
        resize: vertical;
      }
      small {
        overflow-wrap: anywhere;
      }
      .error {
        overflow-wrap: anywhere;
      }
    `,
  ];
}

if (!customElements.get("concierge-carrier-dialog")) customElements.define("concierge-carrier-dialog", ConciergeCarrierDialog);
