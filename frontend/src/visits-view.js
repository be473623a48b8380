// <concierge-visits>: the latest visits — who, door, when, how it ended, evidence thumbnails.
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
  };

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  willUpdate(changed) {
    if (changed.has("site") && this.site && this.site.site_id !== this._loadedFor) {
      this._loadedFor = this.site.site_id;
      this._visits = undefined;
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

  _door(id) {
    return this.site?.portals.find((p) => p.id === id)?.name ?? id;
  }

  render() {
    if (this._error) return html`<p class="error" role="alert">${this._t("error", { message: this._error })}</p>`;
    if (this._visits === undefined) return html`<p class="muted">${this._t("loading")}</p>`;
    if (!this._visits.length) return html`<p class="empty">${this._t("no_visits")}</p>`;
    const zone = zoneOf(this.hass);
    return html`<ul class="visits">${this._visits.map(
      (v) => html`<li class="visit" data-visit=${v.visit_id}>
        <div class="head">
          <strong>${v.label}</strong> · ${this._door(v.portal)} ·
          ${formatDateTime(zone, v.started)}${v.ended ? ` – ${formatTime(zone, v.ended)}` : ""}
          <span class="outcome ${v.outcome}">${label(this.dict, "outcome", v.outcome)}</span>
        </div>
        ${v.evidence?.length
          ? html`<div class="evidence">${v.evidence.filter((e) => e.url).map((e) =>
              e.kind === "snapshot"
                ? html`<a href=${e.url} target="_blank" rel="noopener"><img loading="lazy" src=${e.url} alt=${e.ref} /></a>`
                : html`<a href=${e.url} target="_blank" rel="noopener">▶ ${e.ref}</a>`)}</div>`
          : nothing}
      </li>`,
    )}</ul>`;
  }

  static styles = [
    shared,
    css`
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
      }
    `,
  ];
}

if (!customElements.get("concierge-visits")) customElements.define("concierge-visits", ConciergeVisits);
