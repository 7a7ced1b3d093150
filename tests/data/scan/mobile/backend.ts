// The mobile back end's insp.ac calls (a fixture for the audit --code tests: never run).
// Written for examples/keys.yaml's key_mobile_backend: three calls its logs show, one the
// logs never saw (the check-in history screen, not yet released) and one needing a scope
// the key does not hold.
const API = "https://api.insp.ac/v1";

export async function myIssues(token: string) {
  return fetch(`${API}/issues?assignee=me&limit=50`, { headers: { authorization: token } });
}

export async function updateWorkOrder(token: string, id: string, body: string) {
  return fetch(`${API}/works/${id}`, { method: "PATCH", body, headers: { authorization: token } });
}

export async function checkIn(token: string, site: string) {
  return fetch(`${API}/checkins`, { method: "POST", body: site, headers: { authorization: token } });
}

export async function checkInHistory(token: string, id: string) {
  return fetch(`${API}/checkins/${id}`, { headers: { authorization: token } });
}

export async function assetReadings(token: string, asset: string) {
  return fetch(`${API}/sensor-readings?asset=${asset}`, { headers: { authorization: token } });
}
