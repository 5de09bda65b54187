// problem reads the server's refusals (RFC 9457 problem JSON, api/problem.go)
// into their parts, which reasons.js words for the crew, and joins the
// server's own words. Small, and apart from reasons.js, so that the first
// load carries the reading but not the wording. Pure.

/**
 * problemOf reads an answer into the parts of a refusal: {status, title,
 * detail, fields: [{field, detail}], retry: whether the server asked to be
 * asked again (a Retry-After)}. body is the problem JSON, or null.
 */
export function problemOf(status, body, retryAfter = 0) {
  const fields = Array.isArray(body?.errors) ? body.errors.filter((e) => e && typeof e.field === "string").map((e) => ({ field: e.field, detail: String(e.detail ?? "") })) : [];
  return { status, title: typeof body?.title === "string" ? body.title : "", detail: typeof body?.detail === "string" ? body.detail : "", fields, retry: retryAfter > 0 };
}

/** serverWords joins the server's own words of a problem: "detail — field: detail; …" ("" when it said nothing). */
export function serverWords(p) {
  const fields = (p?.fields || []).map((e) => `${e.field}: ${e.detail}`).join("; ");
  return [p?.detail || p?.title, fields].filter(Boolean).join(" — ");
}
