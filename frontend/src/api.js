// The Concierge WebSocket API (admin-only commands), as the panel uses it.

export const api = {
  sites: (hass) => hass.callWS({ type: "concierge/sites" }),
  subscribeGrants: (hass, siteId, onEvent) =>
    hass.connection.subscribeMessage(onEvent, { type: "concierge/grants/subscribe", site_id: siteId }),
  createGrant: (hass, siteId, fields) =>
    hass.callWS({ type: "concierge/grants/create", site_id: siteId, ...fields }),
  updateGrant: (hass, siteId, grantId, fields) =>
    hass.callWS({ type: "concierge/grants/update", site_id: siteId, grant_id: grantId, ...fields }),
  checkGrant: (hass, siteId, query) =>
    hass.callWS({ type: "concierge/grants/check", site_id: siteId, ...query }),
  grantAction: (hass, siteId, action, grantId) =>
    hass.callWS({ type: `concierge/grants/${action}`, site_id: siteId, grant_id: grantId }),
  createGuestLink: (hass, siteId, grantId) =>
    hass.callWS({ type: "concierge/guest_links/create", site_id: siteId, grant_id: grantId }),
  guestLinks: (hass, siteId, grantId) =>
    hass.callWS({ type: "concierge/guest_links/list", site_id: siteId, grant_id: grantId }),
  revokeGuestLink: (hass, siteId, linkId) =>
    hass.callWS({ type: "concierge/guest_links/revoke", site_id: siteId, link_id: linkId }),
  carriers: (hass, siteId) => hass.callWS({ type: "concierge/carriers/list", site_id: siteId }),
  addCarrier: (hass, siteId, fields) =>
    hass.callWS({ type: "concierge/carriers/add", site_id: siteId, ...fields }),
  rotateKey: (hass, siteId, carrierId, fields) =>
    hass.callWS({ type: "concierge/carriers/rotate_key", site_id: siteId, carrier_id: carrierId, ...fields }),
  retireKey: (hass, siteId, carrierId, kid) =>
    hass.callWS({ type: "concierge/carriers/retire_key", site_id: siteId, carrier_id: carrierId, kid }),
  checkToken: (hass, siteId, token) =>
    hass.callWS({ type: "concierge/tokens/check", site_id: siteId, token }),
  verifyAudit: (hass, siteId) => hass.callWS({ type: "concierge/audit/verify", site_id: siteId }),
  exportVisit: (hass, siteId, visitId) =>
    hass.callWS({ type: "concierge/visits/export", site_id: siteId, visit_id: visitId }),
  visits: (hass, siteId, limit = 50) =>
    hass.callWS({ type: "concierge/visits/list", site_id: siteId, limit }),
};

/** The human message of a WebSocket error (the backend translates it). */
export function errorText(err) {
  if (!err) return "";
  if (typeof err === "string") return err;
  return err.message || err.code || String(err);
}
