// <concierge-link-dialog>: a new guest link — the URL, a QR code, copy and share.
import { LitElement, html, css, nothing } from "lit";
import qrcode from "qrcode-generator";
import { translate } from "./i18n.js";
import { formatDateTime, zoneOf } from "./format.js";
import { shared } from "./styles.js";
import { copyText } from "./copy.js";

/** A QR code of a text as a GIF data URL (drawn here; the link never leaves the browser). */
export function qrDataUrl(text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  return qr.createDataURL(6, 4);
}

export class ConciergeLinkDialog extends LitElement {
  static properties = {
    hass: { attribute: false },
    dict: { attribute: false },
    grant: { attribute: false },
    link: { attribute: false },
    error: { attribute: false },
    _copied: { state: true },
  };

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  _url() {
    // The backend answers a path or an absolute URL; a path is made absolute for the phone.
    const url = this.link?.url ?? "";
    return url.startsWith("/") ? new URL(url, window.location.origin).href : url;
  }

  async _copy() {
    this._copied = await copyText(this._url(), this.renderRoot.querySelector(".url"));
  }

  async _share() {
    try {
      await navigator.share({
        title: this.grant.label,
        text: this._t("link_share_text", { label: this.grant.label }),
        url: this._url(),
      });
    } catch {
      // The user closed the share sheet: nothing to do.
    }
  }

  _close() {
    this.dispatchEvent(new CustomEvent("closed", { bubbles: true, composed: true }));
  }

  render() {
    const url = this._url();
    const canShare = typeof navigator.share === "function";
    return html`<div class="overlay">
      <div class="dialog link-dialog" role="dialog" aria-modal="true">
        <h2>${this._t("link_title", { label: this.grant.label })}</h2>
        ${this.error
          ? html`<p class="error" role="alert">${this.error}</p>`
          : !this.link
            ? html`<p class="muted">${this._t("loading")}</p>`
            : html`
              <img class="qr" src=${qrDataUrl(url)} alt="QR" />
              <p class="muted">${this._t("link_scan")}</p>
              <input class="url" readonly .value=${url} aria-label=${this._t("guest_link")} />
              ${this.link.expires ? html`<p class="muted">${this._t("link_expires", { when: formatDateTime(zoneOf(this.hass), this.link.expires) })}</p>` : nothing}
              <div class="buttons">
                <button class="copy" @click=${this._copy}>${this._copied ? this._t("copied") : this._t("copy")}</button>
                ${canShare ? html`<button class="share" @click=${this._share}>${this._t("share")}</button>` : nothing}
              </div>`}
        <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>
      </div>
    </div>`;
  }

  static styles = [
    shared,
    css`
      .qr {
        display: block;
        margin: 0 auto;
        width: min(240px, 70vw);
        image-rendering: pixelated;
        background: #fff;
      }
      .url {
        width: 100%;
      }
    `,
  ];
}

if (!customElements.get("concierge-link-dialog")) customElements.define("concierge-link-dialog", ConciergeLinkDialog);
