// locatehere is 在此定位: a crew standing at a record that has no place
// (待定位), or only a rough one (worse than 100 m), puts it on the map from
// the phone. The map watches the position and draws its accuracy circle
// and a target; a fix of ≤ 10 m is taken by itself, one of ≤ 30 m the crew
// may take, and beyond that the crew drags a pin to the spot and confirms
// it. What comes out is a location proposal (a planner reviews it), put
// in the outbox like a report. Positions go to the server in WGS-84, as
// the phone gives them, whatever datum the tiles use: a dragged pin is
// taken back from the tiles' datum (gcj02.js).
import L from "leaflet";
import { h, replace } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import { locateMethod, needsLocating, pinPrecision } from "../field.js";
import { unprojector } from "../gcj02.js";
import { uuid } from "../outbox.js";

/** installLocateHere adds 在此定位 to popups and 待定位 items. app: map, project, cfg, hooks, outbox, can, sheet. */
export function installLocateHere(app) {
  const { map, project } = app;
  const toWGS = unprojector(app.cfg.datum);
  const layer = L.layerGroup().addTo(map);
  let run = null; // {entry, watch, fix, pin, done}

  const bar = h("div", { id: "hm-float", class: "hm-float", hidden: true, role: "dialog", "aria-live": "polite" });
  document.body.append(bar);

  function stop() {
    if (run?.watch != null) navigator.geolocation.clearWatch(run.watch);
    run = null;
    layer.clearLayers();
    bar.hidden = true;
    document.documentElement.dataset.locating = "";
  }

  async function propose(method, lon, lat, accuracy) {
    const e = run.entry;
    const now = new Date().toISOString();
    await app.outbox.add({
      id: uuid(),
      kind: "proposal",
      collection: e.collection,
      featureId: e.id,
      name: e.feature.properties.name ?? e.id,
      body: { position: { type: "Point", coordinates: [lon, lat] }, accuracy_m: Math.max(0.1, accuracy), method, observed_at: now },
      observedAt: now,
    });
    stop();
    bar.hidden = false;
    replace(bar, h("p", { class: "hm-ok", dataset: { locateQueued: "" }, text: t("locateQueued") }), h("button", { type: "button", class: "hm-btn", text: t("dismiss"), onclick: () => (bar.hidden = true) }));
    setTimeout(() => {
      if (!run) bar.hidden = true;
    }, 6000);
  }

  function draw() {
    const r = run;
    const { fix } = r;
    layer.clearLayers();
    const ll = project([fix.lon, fix.lat]);
    L.circle(ll, { radius: fix.accuracy, className: "hm-me-accuracy", interactive: false }).addTo(layer);
    L.marker(ll, { icon: L.divIcon({ className: "hm-target", iconSize: [36, 36] }), interactive: false, keyboard: false }).addTo(layer);
    const method = locateMethod(fix.accuracy);
    if (method === "dragged") {
      if (!r.pin) {
        r.pin = L.marker(ll, { draggable: true, autoPan: true, icon: L.divIcon({ className: "hm-pin", html: "<span></span>", iconSize: [44, 44], iconAnchor: [22, 40] }), zIndexOffset: 3000 });
      }
      r.pin.addTo(layer);
    }
    const buttons = [];
    if (method === "accepted") buttons.push(h("button", { type: "button", class: "hm-btn hm-primary", dataset: { locateAccept: "" }, text: t("locateAccept"), onclick: () => propose("accepted", fix.lon, fix.lat, fix.accuracy) }));
    if (method === "dragged") {
      buttons.push(
        h("button", {
          type: "button",
          class: "hm-btn hm-primary",
          dataset: { locateConfirm: "" },
          text: t("locateConfirmPin"),
          onclick: () => {
            const p = r.pin.getLatLng();
            const [lon, lat] = toWGS(p.lng, p.lat);
            propose("dragged", lon, lat, pinPrecision(map.getZoom(), p.lat));
          },
        }),
      );
    }
    buttons.push(h("button", { type: "button", class: "hm-btn", text: t("locateCancel"), onclick: stop }));
    bar.hidden = false;
    replace(
      bar,
      h("strong", { text: t("locateHereTitle", featureName(r.entry.feature.properties)) }),
      h("p", { dataset: { locateAccuracy: String(Math.round(fix.accuracy)), locateMethod: method }, text: `${t("locateAccuracy", distance(fix.accuracy))} — ${t({ auto: "locateAuto", accepted: "locateAcceptable", dragged: "locateDrag" }[method])}` }),
      h("div", { class: "hm-actions" }, buttons),
    );
    if (method === "auto") propose("auto", fix.lon, fix.lat, fix.accuracy);
  }

  function start(entry) {
    stop();
    if (!("geolocation" in navigator)) return;
    map.closePopup();
    if (!app.desktop.matches) app.sheet.close();
    run = { entry, watch: null, fix: null, pin: null };
    document.documentElement.dataset.locating = entry.id;
    bar.hidden = false;
    replace(bar, h("strong", { text: t("locateHereTitle", featureName(entry.feature.properties)) }), h("p", { text: t("locateWaiting") }), h("button", { type: "button", class: "hm-btn", text: t("locateCancel"), onclick: stop }));
    let first = true;
    run.watch = navigator.geolocation.watchPosition(
      (p) => {
        if (!run || run.entry !== entry) return;
        run.fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
        if (first) map.setView(project([run.fix.lon, run.fix.lat]), Math.max(map.getZoom(), 17));
        first = false;
        draw();
      },
      (err) => {
        if (run) replace(bar, h("p", { class: "hm-warn", text: `${t("locateFailed")}${err.message || err.code}` }), h("button", { type: "button", class: "hm-btn", text: t("locateCancel"), onclick: stop }));
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 60000 },
    );
  }

  const button = (entry) => h("button", { type: "button", class: "hm-btn hm-wide", dataset: { locateHere: entry.id }, text: t("locateHere"), onclick: () => start(entry) });
  app.hooks.on("popup", ({ entry, el }) => {
    if (app.can("crew") && needsLocating(entry.feature)) el.querySelector(".hm-precision-block")?.append(button(entry));
  });
  app.hooks.on("unlocated-item", ({ entry, el }) => {
    if (app.can("crew")) el.querySelector(".hm-unlocated-body")?.prepend(button(entry));
  });
  app.locateHere = { start, stop };
}
