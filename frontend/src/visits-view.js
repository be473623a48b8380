// <concierge-visits>: the latest visits — who, door, when, how it ended, evidence thumbnails
// (a thumbnail opens the picture full size: Esc or Close closes it) — with "Verify the audit
// log" and, per visit, its evidence bundle as a JSON download.
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { translate, label } from "./i18n.js";
import { formatDateTime, formatTime, zoneOf } from "./format.js";
import { shared } from "./styles.js";

export class ConciergeVisits extends LitElement {
  static properties = {
    hass: { attribute: false },
    site: { attribute: false },
    dict: { attribute: false },
    _visits: { state: true },
    _error: { state: true },
    _audit: { state: true },
    _exportError: { state: true },
    _picture: { state: true },
  };

  constructor() {
    super();
    this._picture = null; // {visit, evidence} shown full size
    this._onKey = (ev) => {
      if (ev.key === "Escape" && this._picture) this._picture = null;
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

  updated(changed) {
    if (changed.has("_picture") && this._picture) this.renderRoot.querySelector(".picture-dialog .close")?.focus();
  }

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  willUpdate(changed) {
    if (changed.has("site") && this.site && this.site.site_id !== this._loadedFor) {
      this._loadedFor = this.site.site_id;
      this._visits = undefined;
      this._audit = null;
      this._load();
    }
  }

  async _load() {
    const siteId = this.site.site_id;
    try {
      const { visits } = await api.visits(this.hass, siteId);
      if (siteId === this._loadedFor) this._visits = visits;
    } catch (err) {
      this._error = errorText(err);
    }
  }

  async _verify() {
    const siteId = this.site.site_id;
    this._audit = { busy: true };
    try {
      const result = await api.verifyAudit(this.hass, siteId);
      if (siteId === this._loadedFor) this._audit = result;
    } catch (err) {
      if (siteId === this._loadedFor) this._audit = { error: errorText(err) };
    }
  }

  async _export(visit) {
    this._exportError = "";
    try {
      const { bundle } = await api.exportVisit(this.hass, this.site.site_id, visit.visit_id);
      const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: "application/json" });
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `concierge-visit-${visit.visit_id}.json`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (err) {
      this._exportError = this._t("error", { message: errorText(err) });
    }
  }

  _renderAudit() {
    const a = this._audit;
    return html`<div class="audit">
      <button class="verify" ?disabled=${a?.busy} @click=${this._verify}>${this._t("audit_verify")}</button>
      ${!a || a.busy
        ? nothing
        : a.error
          ? html`<span class="error" role="alert">${this._t("error", { message: a.error })}</span>`
          : a.ok
            ? html`<span class="audit-result ok" role="status">✓ ${this._t("audit_ok", { records: a.records })}</span>`
            : html`<span class="audit-result error" role="alert">✗ ${this._t("audit_problem", {
                problem: label(this.dict, "audit", a.problem), records: a.records })}</span>`}
    </div>
    ${this._exportError ? html`<p class="error" role="alert">${this._exportError}</p>` : nothing}`;
  }

  _door(id) {
    return this.site?.portals.find((p) => p.id === id)?.name ?? id;
  }

  render() {
    if (this._error) return html`<p class="error" role="alert">${this._t("error", { message: this._error })}</p>`;
    if (this._visits === undefined) return html`<p class="muted">${this._t("loading")}</p>`;
    if (!this._visits.length) return html`${this._renderAudit()}<p class="empty">${this._t("no_visits")}</p>`;
    const zone = zoneOf(this.hass);
    return html`${this._renderAudit()}<ul class="visits">${this._visits.map(
      (v) => html`<li class="visit" data-visit=${v.visit_id}>
        <div class="head">
          <strong>${v.label}</strong> · ${this._door(v.portal)} ·
          ${formatDateTime(zone, v.started)}${v.ended ? ` – ${formatTime(zone, v.ended)}` : ""}
          <span class="outcome ${v.outcome}">${label(this.dict, "outcome", v.outcome)}</span>
          <button class="export" @click=${() => this._export(v)}>${this._t("export")}</button>
        </div>
        ${v.evidence?.length
          ? html`<div class="evidence">${v.evidence.filter((e) => e.url).map((e) =>
              e.kind === "snapshot"
                ? html`<button class="thumb" title=${this._t("evidence_show")} aria-label=${this._t("evidence_show")}
                    @click=${() => (this._picture = { visit: v, evidence: e })}><img loading="lazy" src=${e.url} alt=${e.ref} /></button>`
                : html`<a href=${e.url} target="_blank" rel="noopener">▶ ${e.ref}</a>`)}</div>`
          : nothing}
      </li>`,
    )}</ul>${this._renderPicture()}`;
  }

  _renderPicture() {
    const p = this._picture;
    if (!p) return nothing;
    const close = () => (this._picture = null);
    const title = this._t("evidence_title", { label: p.visit.label });
    return html`<div class="overlay" @click=${(e) => e.target === e.currentTarget && close()}>
      <div class="dialog picture-dialog" role="dialog" aria-modal="true" aria-label=${title}>
        <h2>${title}</h2>
        <img class="full" src=${p.evidence.url} alt=${p.evidence.ref} />
        <div class="buttons">
          <a class="original" href=${p.evidence.url} target="_blank" rel="noopener">${this._t("evidence_open")}</a>
          <button class="primary close" @click=${close}>${this._t("close")}</button>
        </div>
      </div>
    </div>`;
  }

  static styles = [
    shared,
    css`
      .audit {
        display: flex;
        align-items: center;
        gap: 12px;
        flex-wrap: wrap;
        margin-bottom: 12px;
      }
      .audit-result.ok {
        color: var(--success-color, #43a047);
      }
      .export {
        float: right;
        margin-left: 8px;
        padding: 2px 10px;
        min-height: 30px;
      }
      .visits {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      .visit {
        background: var(--card-background-color, #fff);
        border-radius: var(--ha-card-border-radius, 12px);
        box-shadow: var(--ha-card-box-shadow, 0 1px 3px rgba(0, 0, 0, 0.15));
        padding: 10px 12px;
      }
      .outcome {
        margin-left: 6px;
        padding: 1px 8px;
        border-radius: 10px;
        background: var(--secondary-background-color, #eee);
      }
      .evidence {
        display: flex;
        gap: 6px;
        flex-wrap: wrap;
        margin-top: 6px;
      }
      .evidence img {
        height: 72px;
        border-radius: 6px;
        display: block;
      }
      .thumb {
        padding: 0;
        border: none;
        background: none;
        min-height: 0;
        border-radius: 6px;
      }
      .thumb:focus-visible {
        outline: 2px solid var(--primary-color, #03a9f4);
      }
      .picture-dialog {
        width: min(1024px, calc(100vw - 16px));
        padding: 12px;
      }
      .picture-dialog h2 {
        font-size: 16px;
      }
      img.full {
        display: block;
        max-width: 100%;
        max-height: calc(100vh - 160px);
        margin: 0 auto;
        object-fit: contain;
        border-radius: 6px;
      }
      .picture-dialog .buttons {
        align-items: center;
      }
      .original {
        margin-right: auto;
        color: var(--primary-color, #03a9f4);
      }
    `,
  ];
}

if (!customElements.get("concierge-visits")) customElements.define("concierge-visits", ConciergeVisits);
