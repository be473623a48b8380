// <concierge-grant-dialog>: create or edit a grant; warnings asked to confirm; a generated PIN
// shown once with a copy button.
import { LitElement, html, css, nothing } from "lit";
import { api, errorText } from "./api.js";
import { translate, label } from "./i18n.js";
import { WEEKDAYS, fromLocalInput, toLocalInput, zoneOf } from "./format.js";
import { shared } from "./styles.js";
import { copyText } from "./copy.js";

const KINDS = ["guest", "cleaner", "sitter", "courier", "other"];
const ALARM = ["disarm_for_visit", "leave_alone"];

function initialForm(grant) {
  const w = grant?.window;
  return {
    label: grant?.label ?? "",
    kind: grant?.kind ?? "guest",
    portals: new Set(grant?.portals ?? []),
    windowKind: w?.kind ?? "weekly",
    start: w?.kind === "one_off" ? w.start : null,
    end: w?.kind === "one_off" ? w.end : null,
    weekdays: new Set(w?.kind === "weekly" ? w.weekdays : []),
    start_time: w?.start_time ?? "09:00",
    end_time: w?.end_time ?? "12:00",
    valid_from: w?.valid_from ?? null,
    valid_until: w?.valid_until ?? null,
    max_uses: grant?.max_uses ?? "",
    max_visit_minutes: grant?.max_visit_minutes ?? "",
    pinMode: grant ? (grant.has_pin ? "keep" : "none") : "generate",
    pin: "",
    remote_token: grant?.remote_token ?? false,
    carriers: new Set(grant?.carriers ?? []),
    guest_link: grant?.guest_link ?? true,
    alarm: grant?.alarm ?? "disarm_for_visit",
    require_camera: grant?.require_camera ?? false,
    refuse_when_pets_home: grant?.refuse_when_pets_home ?? false,
    notify: grant?.notify ?? true,
  };
}

export class ConciergeGrantDialog extends LitElement {
  static properties = {
    hass: { attribute: false },
    dict: { attribute: false },
    site: { attribute: false },
    grant: { attribute: false },
    _form: { state: true },
    _problem: { state: true },
    _warnings: { state: true },
    _busy: { state: true },
    _pin: { state: true },
    _copied: { state: true },
  };

  constructor() {
    super();
    this._form = null;
    this._problem = "";
    this._warnings = null;
    this._busy = false;
    this._pin = null;
    this._copied = false;
  }

  _t(key, vars) {
    return translate(this.dict, key, vars);
  }

  willUpdate(changed) {
    if (changed.has("grant") || this._form === null) {
      const zone = zoneOf(this.hass);
      const form = initialForm(this.grant);
      for (const key of ["start", "end", "valid_from", "valid_until"]) form[key] = toLocalInput(zone, form[key]);
      this._form = form;
    }
  }

  _set(key, value) {
    this._form = { ...this._form, [key]: value };
    this._warnings = null;
    // A message shown for the form as it was goes with the change: what is still wrong
    // with the form as it is now is shown instead (nothing once it is complete).
    if (this._problem) this._problem = this._validate();
  }

  _toggle(key, value, on) {
    const set = new Set(this._form[key]);
    if (on) set.add(value);
    else set.delete(value);
    this._set(key, set);
  }

  _validate() {
    const f = this._form;
    if (!f.label.trim()) return this._t("err_label");
    if (!f.portals.size) return this._t("err_doors");
    if (f.windowKind === "one_off" && (!f.start || !f.end)) return this._t("err_window");
    if (f.windowKind === "weekly" && !f.weekdays.size) return this._t("err_weekdays");
    if (f.windowKind === "weekly" && (!f.start_time || !f.end_time)) return this._t("err_window");
    if (f.pinMode === "typed" && !/^\d{4,10}$/.test(f.pin)) return this._t("err_pin");
    return "";
  }

  _fields() {
    const f = this._form;
    const zone = zoneOf(this.hass);
    const out = {
      label: f.label.trim(),
      kind: f.kind,
      portals: (this.site?.portals ?? []).map((p) => p.id).filter((id) => f.portals.has(id)),
      remote_token: f.remote_token,
      guest_link: f.guest_link,
      alarm: f.alarm,
      require_camera: f.require_camera,
      refuse_when_pets_home: f.refuse_when_pets_home,
      notify: f.notify,
      max_uses: f.max_uses === "" ? null : Number(f.max_uses),
      max_visit_minutes: f.max_visit_minutes === "" ? null : Number(f.max_visit_minutes),
    };
    if (f.remote_token) out.carriers = [...f.carriers];
    if (f.windowKind === "one_off") {
      out.start = fromLocalInput(zone, f.start);
      out.end = fromLocalInput(zone, f.end);
    } else {
      out.weekdays = WEEKDAYS.filter((d) => f.weekdays.has(d));
      out.start_time = f.start_time;
      out.end_time = f.end_time;
      if (f.valid_from) out.valid_from = fromLocalInput(zone, f.valid_from);
      if (f.valid_until) out.valid_until = fromLocalInput(zone, f.valid_until);
    }
    if (f.pinMode === "typed") out.pin = f.pin;
    else if (f.pinMode === "generate") out.generate_pin = true;
    else if (f.pinMode === "none" && this.grant?.has_pin) out.pin = null;
    return out;
  }

  async _save(confirmed = false) {
    const problem = this._validate();
    this._problem = problem;
    if (problem) return;
    const fields = this._fields();
    const siteId = this.site.site_id;
    this._busy = true;
    try {
      if (!confirmed && this._form.pinMode !== "none") {
        // A PIN on a door whose lock has no keypad is known here; a PIN another grant
        // already uses on the same door only the backend knows (it checks a typed PIN).
        const warnings = (this.site?.portals ?? [])
          .filter((p) => !p.has_keypad && fields.portals.includes(p.id))
          .map((p) => ({ code: "no_keypad", portal: p.id, message: this._t("warn_no_keypad", { door: p.name }) }));
        if (this._form.pinMode === "typed") {
          const query = { portals: fields.portals, pin: this._form.pin };
          if (this.grant) query.grant_id = this.grant.grant_id;
          const answer = await api.checkGrant(this.hass, siteId, query);
          warnings.push(...answer.warnings.filter((w) => w.code !== "no_keypad"));
        }
        if (warnings.length) {
          this._warnings = warnings;
          return;
        }
      }
      const result = this.grant
        ? await api.updateGrant(this.hass, siteId, this.grant.grant_id, fields)
        : await api.createGrant(this.hass, siteId, fields);
      if (result?.pin) this._pin = result.pin;
      else this._close();
    } catch (err) {
      this._problem = errorText(err);
    } finally {
      this._busy = false;
    }
  }

  _close() {
    this.dispatchEvent(new CustomEvent("closed", { bubbles: true, composed: true }));
  }

  async _copyPin() {
    this._copied = await copyText(this._pin, this.renderRoot.querySelector(".pin-value"));
  }

  render() {
    if (!this._form) return nothing;
    return html`<div class="overlay">
      <div class="dialog grant-dialog" role="dialog" aria-modal="true">
        ${this._pin ? this._renderPin() : this._renderForm()}
      </div>
    </div>`;
  }

  _renderPin() {
    return html`
      <h2>${this._t("pin_title")}</h2>
      <p>${this._t("pin_once")}</p>
      <p class="pin"><input class="pin-value" readonly .value=${this._pin} aria-label=${this._t("pin_title")} />
        <button @click=${this._copyPin}>${this._copied ? this._t("copied") : this._t("copy")}</button></p>
      <div class="buttons"><button class="primary" @click=${this._close}>${this._t("close")}</button></div>`;
  }

  _check(key, text) {
    return html`<label class="check"><input type="checkbox" name=${key} .checked=${this._form[key]}
      @change=${(e) => this._set(key, e.target.checked)} /> ${text}</label>`;
  }

  _renderForm() {
    const f = this._form;
    const dict = this.dict;
    const portals = this.site?.portals ?? [];
    const carriers = this.site?.carriers ?? [];
    return html`
      <h2>${this.grant ? this._t("dialog_edit", { label: this.grant.label }) : this._t("dialog_new")}</h2>
      <div class="form">
        <label>${this._t("f_label")}<input name="label" .value=${f.label} @input=${(e) => this._set("label", e.target.value)} /></label>
        <label>${this._t("f_kind")}<select name="kind" @change=${(e) => this._set("kind", e.target.value)}>
          ${KINDS.map((k) => html`<option value=${k} ?selected=${k === f.kind}>${label(dict, "kind", k)}</option>`)}
        </select></label>
        <fieldset><legend>${this._t("f_doors")}</legend>
          ${portals.map((p) => html`<label class="check"><input type="checkbox" name="portal" value=${p.id}
            .checked=${f.portals.has(p.id)} @change=${(e) => this._toggle("portals", p.id, e.target.checked)} />
            ${p.name}${p.has_keypad ? "" : html` <span class="muted">(${label(dict, "code", "no_keypad")})</span>`}</label>`)}
        </fieldset>
        <fieldset><legend>${this._t("f_window")}</legend>
          <div class="row">
            <label class="check"><input type="radio" name="window" value="weekly" .checked=${f.windowKind === "weekly"}
              @change=${() => this._set("windowKind", "weekly")} /> ${this._t("f_weekly")}</label>
            <label class="check"><input type="radio" name="window" value="one_off" .checked=${f.windowKind === "one_off"}
              @change=${() => this._set("windowKind", "one_off")} /> ${this._t("f_one_off")}</label>
          </div>
          ${f.windowKind === "one_off"
            ? html`<div class="row">
                <label>${this._t("f_start")}<input type="datetime-local" name="start" .value=${f.start} @input=${(e) => this._set("start", e.target.value)} /></label>
                <label>${this._t("f_end")}<input type="datetime-local" name="end" .value=${f.end} @input=${(e) => this._set("end", e.target.value)} /></label>
              </div>`
            : html`<div class="row weekdays" role="group" aria-label=${this._t("f_weekdays")}>
                ${WEEKDAYS.map((d) => html`<label class="check day"><input type="checkbox" name="weekday" value=${d}
                  .checked=${f.weekdays.has(d)} @change=${(e) => this._toggle("weekdays", d, e.target.checked)} /> ${this._t(`wd_${d}`)}</label>`)}
              </div>
              <div class="row">
                <label>${this._t("f_start_time")}<input type="time" name="start_time" .value=${f.start_time} @input=${(e) => this._set("start_time", e.target.value)} /></label>
                <label>${this._t("f_end_time")}<input type="time" name="end_time" .value=${f.end_time} @input=${(e) => this._set("end_time", e.target.value)} /></label>
              </div>
              <div class="row">
                <label>${this._t("f_valid_from")}<input type="datetime-local" name="valid_from" .value=${f.valid_from} @input=${(e) => this._set("valid_from", e.target.value)} /></label>
                <label>${this._t("f_valid_until")}<input type="datetime-local" name="valid_until" .value=${f.valid_until} @input=${(e) => this._set("valid_until", e.target.value)} /></label>
              </div>`}
        </fieldset>
        <fieldset><legend>${this._t("f_pin")}</legend>
          <div class="row">
            ${(this.grant?.has_pin ? ["keep", "generate", "typed", "none"] : ["generate", "typed", "none"]).map(
              (m) => html`<label class="check"><input type="radio" name="pin_mode" value=${m} .checked=${f.pinMode === m}
                @change=${() => this._set("pinMode", m)} /> ${this._t(`f_pin_${m}`)}</label>`,
            )}
          </div>
          ${f.pinMode === "typed"
            ? html`<label>${this._t("f_pin_value")}<input name="pin" inputmode="numeric" autocomplete="off" .value=${f.pin}
                @input=${(e) => this._set("pin", e.target.value)} /></label>`
            : nothing}
        </fieldset>
        <fieldset><legend>${this._t("f_alarm")}</legend>
          <select name="alarm" aria-label=${this._t("f_alarm")} @change=${(e) => this._set("alarm", e.target.value)}>
            ${ALARM.map((a) => html`<option value=${a} ?selected=${a === f.alarm}>${this._t(`alarm_${a}`)}</option>`)}
          </select>
          ${this._check("require_camera", this._t("f_require_camera"))}
          ${this._check("refuse_when_pets_home", this._t("f_refuse_pets"))}
          ${this._check("notify", this._t("f_notify"))}
          ${this._check("guest_link", this._t("f_guest_link"))}
          ${this._check("remote_token", this._t("f_remote_token"))}
          ${f.remote_token && carriers.length
            ? html`<div class="row" role="group" aria-label=${this._t("f_carriers")}>${carriers.map(
                (c) => html`<label class="check"><input type="checkbox" name="carrier" value=${c.id} .checked=${f.carriers.has(c.id)}
                  @change=${(e) => this._toggle("carriers", c.id, e.target.checked)} /> ${c.name}</label>`,
              )}</div>`
            : nothing}
          <div class="row">
            <label>${this._t("f_max_uses")}<input type="number" min="1" name="max_uses" .value=${String(f.max_uses)} @input=${(e) => this._set("max_uses", e.target.value)} /></label>
            <label>${this._t("f_max_visit")}<input type="number" min="1" max="1440" name="max_visit_minutes" .value=${String(f.max_visit_minutes)} @input=${(e) => this._set("max_visit_minutes", e.target.value)} /></label>
          </div>
        </fieldset>
      </div>
      ${this._problem ? html`<p class="error" role="alert">${this._problem}</p>` : nothing}
      ${this._warnings
        ? html`<div class="warnings" role="alert"><strong>${this._t("warnings_title")}</strong>
            <ul>${this._warnings.map((w) => html`<li class="warning">${w.message}</li>`)}</ul></div>`
        : nothing}
      <div class="buttons">
        <button @click=${this._close}>${this._t("cancel")}</button>
        ${this._warnings
          ? html`<button class="primary save" ?disabled=${this._busy} @click=${() => this._save(true)}>${this._t("continue_anyway")}</button>`
          : html`<button class="primary save" ?disabled=${this._busy} @click=${() => this._save(false)}>${this._t("save")}</button>`}
      </div>`;
  }

  static styles = [
    shared,
    css`
      .form {
        display: flex;
        flex-direction: column;
        gap: 10px;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 4px;
      }
      label.check {
        flex-direction: row;
        align-items: center;
        gap: 6px;
      }
      fieldset {
        border: 1px solid var(--divider-color, #e0e0e0);
        border-radius: 8px;
        display: flex;
        flex-direction: column;
        gap: 8px;
      }
      legend {
        color: var(--secondary-text-color, #727272);
      }
      .row {
        display: flex;
        gap: 10px;
        flex-wrap: wrap;
      }
      .row > label:not(.check) {
        flex: 1 1 180px;
      }
      .day {
        min-width: 56px;
      }
      .pin {
        display: flex;
        gap: 8px;
      }
      .pin-value {
        font-size: 28px;
        letter-spacing: 6px;
        width: 10em;
        font-family: monospace;
      }
    `,
  ];
}

if (!customElements.get("concierge-grant-dialog")) customElements.define("concierge-grant-dialog", ConciergeGrantDialog);
