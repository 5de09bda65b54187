// review is what planners do with positions: the 待审核 panel lists the
// pending location proposals, each shown on the map with its accuracy,
// to accept (If-Match of the feature: the feature gets the position) or
// reject with a reason; and any point feature can be dragged to its right
// place (拖动修正位置), which PATCHes geometry, location_precision_m and
// location_source together, with If-Match. Proposals and decisions reach
// every open map over /events.
import L from "leaflet";
import { h, replace } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import { pinPrecision } from "../field.js";
import { unprojector } from "../gcj02.js";
import { uuid } from "../outbox.js";

// call sends a write and returns the JSON answer, or throws with the problem's detail.
async function call(url, init) {
  const res = await fetch(url, init);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const fields = (body.errors || []).map((e) => `${e.field}: ${e.detail}`).join("; ");
    throw new Error([body.detail || res.status, fields].filter(Boolean).join(" — "));
  }
  return body;
}

// etagOf returns the ETag of a feature as the server has it now.
async function etagOf(collection, id) {
  const res = await fetch(`/collections/${encodeURIComponent(collection)}/items/${encodeURIComponent(id)}`, { cache: "no-store", headers: { Accept: "application/geo+json" } });
  if (!res.ok) throw new Error(`${res.status}`);
  return res.headers.get("ETag");
}

/** installReview adds the review panel and dragging for planners. app: map, project, cfg, registry, sheet, hooks, can, selection. */
export function installReview(app) {
  const { map, project, registry, sheet, hooks } = app;
  const toWGS = unprojector(app.cfg.datum);
  const layer = L.layerGroup().addTo(map);
  const s = { list: [], error: null, rejecting: null, busy: null, loaded: false };

  async function load() {
    if (!app.can("planner")) return;
    try {
      const page = await call("/location-proposals?status=pending&limit=100", { cache: "no-store" });
      Object.assign(s, { list: page.proposals, error: null, loaded: true });
    } catch (err) {
      s.error = err.message;
    }
    document.documentElement.dataset.reviewPending = String(s.list.length);
    sheet.tabs();
    sheet.update("review", { keep: true });
  }

  function show(p) {
    layer.clearLayers();
    const ll = project(p.position.coordinates);
    L.circle(ll, { radius: p.accuracy_m, className: "hm-proposal-accuracy", interactive: false }).addTo(layer);
    L.marker(ll, { icon: L.divIcon({ className: "hm-pin hm-pin--proposal", html: "<span></span>", iconSize: [44, 44], iconAnchor: [22, 40] }), interactive: false }).addTo(layer);
    map.setView(ll, Math.max(map.getZoom(), 17));
  }

  async function decide(p, action, body) {
    s.busy = p.id;
    sheet.update("review", { keep: true });
    try {
      const headers = { "Idempotency-Key": `"${uuid()}"`, Accept: "application/json" };
      if (action === "accept") headers["If-Match"] = await etagOf(p.collection, p.feature_id);
      else headers["Content-Type"] = "application/json";
      await call(`/location-proposals/${p.id}/${action}`, { method: "POST", headers, body: body ? JSON.stringify(body) : undefined });
      s.rejecting = null;
      layer.clearLayers();
    } catch (err) {
      s.error = `${t("reviewFailed")}${err.message}`;
    }
    s.busy = null;
    await load();
  }

  function item(p) {
    const e = registry.get(p.collection, p.feature_id);
    const name = e ? featureName(e.feature.properties) : p.feature_id;
    const when = new Date(p.observed_at || p.received).toLocaleString();
    const rejecting = s.rejecting === p.id;
    const reason = h("input", { type: "text", class: "hm-input", maxlength: "500", dataset: { rejectReason: String(p.id) }, "aria-label": t("reviewReason"), placeholder: t("reviewReason") });
    return h(
      "li",
      { class: "hm-proposal", dataset: { proposalId: String(p.id), featureId: p.feature_id } },
      h("strong", { text: name }),
      h("span", { class: "hm-row-sub", text: t("reviewBy", p.proposer.name, when) }),
      h("span", { class: "hm-row-sub", text: t("reviewAccuracy", distance(p.accuracy_m), t(`method_${p.method}`)) }),
      p.note ? h("span", { class: "hm-row-sub", text: p.note }) : null,
      h(
        "div",
        { class: "hm-actions" },
        h("button", { type: "button", class: "hm-btn", text: t("reviewShow"), onclick: () => show(p) }),
        h("button", { type: "button", class: "hm-btn hm-primary", dataset: { accept: String(p.id) }, disabled: s.busy === p.id, text: t("reviewAccept"), onclick: () => decide(p, "accept") }),
        h("button", { type: "button", class: "hm-btn", dataset: { reject: String(p.id) }, text: t("reviewReject"), onclick: () => ((s.rejecting = p.id), sheet.update("review", { keep: true })) }),
      ),
      rejecting
        ? h(
            "form",
            {
              class: "hm-form",
              onsubmit: (ev) => {
                ev.preventDefault();
                const r = reason.value.trim();
                if (!r) {
                  s.error = t("reviewNeedReason");
                  return sheet.update("review", { keep: true });
                }
                decide(p, "reject", { reason: r });
              },
            },
            reason,
            h("button", { type: "submit", class: "hm-btn", dataset: { rejectSend: String(p.id) }, text: t("reviewReject") }),
          )
        : null,
    );
  }

  function render() {
    const out = [`${t("reviewTitle")} (${s.list.length})`];
    if (s.error) out.push(h("p", { class: "hm-warn", text: s.error }));
    out.push(s.list.length ? h("ul", { class: "hm-proposals" }, s.list.map(item)) : h("p", { text: t("reviewEmpty") }));
    return out;
  }

  sheet.add({ name: "review", label: () => t("tabReview"), badge: () => String(s.list.length || ""), urgent: true, visible: () => app.can("planner"), onOpen: load, render });
  hooks.on("events", (items) => {
    if (items.some((it) => ["propose", "accept", "reject"].includes(it.action) || it.key)) load();
  });
  hooks.on("session", load);
  hooks.on("lang", () => sheet.update("review"));

  // Dragging a point to its right place.
  const bar = h("div", { class: "hm-float", hidden: true, dataset: { moveBar: "" } });
  document.body.append(bar);
  function move(e) {
    const m = e.marker;
    if (!m || e.feature.geometry?.type !== "Point") return;
    map.closePopup();
    const from = m.getLatLng();
    m.dragging.enable();
    m.getElement()?.classList.add("hm-dragging");
    const end = () => {
      m.dragging.disable();
      m.getElement()?.classList.remove("hm-dragging");
      bar.hidden = true;
    };
    const confirm = async () => {
      const to = m.getLatLng();
      const [lon, lat] = toWGS(to.lng, to.lat);
      const name = app.session.name;
      try {
        const etag = await etagOf(e.collection, e.id);
        await call(`/collections/${encodeURIComponent(e.collection)}/items/${encodeURIComponent(e.id)}`, {
          method: "PATCH",
          headers: { "Content-Type": "application/merge-patch+json", "If-Match": etag, "Idempotency-Key": `"${uuid()}"` },
          body: JSON.stringify({
            geometry: { type: "Point", coordinates: [Number(lon.toFixed(7)), Number(lat.toFixed(7))] },
            properties: {
              location_precision_m: pinPrecision(map.getZoom(), to.lat),
              location_source: `Moved on the map by ${name} at ${new Date().toISOString()} (zoom ${map.getZoom()}, ${app.cfg.datum} tiles; stored as WGS-84).`,
            },
          }),
        });
        end();
      } catch (err) {
        m.setLatLng(from);
        end();
        app.chrome.notice("move", () => `${t("reviewFailed")}${err.message}`);
        setTimeout(() => app.chrome.notice("move", null), 8000);
      }
    };
    bar.hidden = false;
    replace(
      bar,
      h("p", { text: t("moveHint") }),
      h(
        "div",
        { class: "hm-actions" },
        h("button", { type: "button", class: "hm-btn hm-primary", dataset: { moveConfirm: "" }, text: t("moveConfirm"), onclick: confirm }),
        h("button", { type: "button", class: "hm-btn", text: t("locateCancel"), onclick: () => (m.setLatLng(from), end()) }),
      ),
    );
  }
  hooks.on("popup", ({ entry, el }) => {
    if (!app.can("planner") || entry.feature.geometry?.type !== "Point") return;
    el.querySelector(".hm-precision-block")?.append(h("button", { type: "button", class: "hm-btn hm-wide", dataset: { move: entry.id }, text: t("moveFeature"), onclick: () => move(entry) }));
  });
  load();
}
