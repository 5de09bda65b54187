// popup builds the content of a feature's popup: its attributes, its
// inspection findings and rectification results, where its location came
// from and how far off it may be, and (for hazards) a slot for its nearest
// depots, filled in by the caller. Everything from data is text.
import { h } from "../dom.js";
import { t, distance, featureName } from "../i18n.js";
import { precisionOf } from "../geometry.js";
import { householdsLabel } from "./features.js";
import { telHref } from "../files.js";
import { gaugeDetails } from "./gaugepopup.js";

function row(label, value) {
  if (value == null || value === "") return null;
  return h("div", { class: "hm-row" }, h("dt", { text: label }), h("dd", null, value));
}

function bool(v) {
  if (v === true) return t("yes");
  if (v === false) return t("no");
  return t("unknown");
}

function resultClass(r) {
  return { 完成: "done", 基本完成: "mostly", 长期坚持: "ongoing", 未完成: "open" }[r] ?? "none";
}

const resultEN = { 完成: "Done", 基本完成: "Mostly done", 长期坚持: "Ongoing", 未完成: "Not done" };

/** resultText is a rectification result in the interface language. */
export function resultText(r) {
  if (r == null) return t("unknown");
  return document.documentElement.lang === "en" ? resultEN[r] ?? r : r;
}

/** findingsList renders findings[] with their result badges. */
export function findingsList(findings) {
  if (!Array.isArray(findings) || findings.length === 0) return null;
  return h(
    "section",
    { class: "hm-findings" },
    h("h3", { text: `${t("findings")} (${findings.length})` }),
    h(
      "ol",
      null,
      findings.map((f) =>
        h(
          "li",
          { class: "hm-finding" },
          h("span", { class: `hm-result hm-result--${resultClass(f.result)}`, text: resultText(f.result) }),
          f.ref ? h("span", { class: "hm-ref", text: ` ${f.ref}` }) : null,
          h("p", { class: "hm-finding-text", text: f.finding ?? "" }),
          f.measure ? h("details", null, h("summary", { text: t("measureAndResult") }), h("p", { text: f.measure })) : null,
        ),
      ),
    ),
  );
}

/** precisionBlock states how good the location is and where it came from. */
export function precisionBlock(props, located) {
  const p = precisionOf(props);
  const text = !located ? t("precisionNone") : p == null ? t("unknown") : `±${distance(p)}`;
  return h(
    "section",
    { class: "hm-precision-block" },
    h("p", { class: p != null && p > 1000 ? "hm-warn" : null }, h("strong", { text: `${t("precision")}：` }), text, p != null && p > 1000 ? ` — ${t("precisionCoarse")}` : ""),
    props.location_source ? h("details", null, h("summary", { text: t("source") }), h("p", { class: "hm-source", text: props.location_source })) : null,
  );
}

function statusBadge(status) {
  return h("span", { class: `hm-status hm-st--${status ?? "null"}`, text: t(`status_${status ?? "null"}`) });
}

function details(e) {
  const p = e.feature.properties;
  switch (e.collection) {
    case "waterlogging_points":
      return [
        row(t("kind"), t(`kind_${p.kind}`)),
        row(t("status"), statusBadge(p.status)),
        p.depth_cm != null ? row(t("depth"), `${p.depth_cm} ${t("cm")}`) : null,
        p.status_updated_at ? row(t("updated"), new Date(p.status_updated_at).toLocaleString()) : null,
        row(t("dutyUnit"), p.duty_unit ?? t("notPublished")),
        contactRow(t("dutyContact"), p, "duty_contact_name", "duty_contact_phone"),
        row(t("township"), p.township),
      ];
    case "relocation_sites":
      return [
        row(t("households"), h("strong", { class: "hm-households", text: householdsLabel(p) })),
        row(t("relocated"), p.households_relocated ?? t("notPublished")),
        row(t("resettlement"), p.resettlement_site ?? t("notPublished")),
        row(t("progress"), t(`rs_${p.status}`)),
        row(t("township"), p.town ?? p.township),
      ];
    case "gauges":
      return gaugeDetails(e, row);
    case "depots":
      return [
        row(t("level"), t(`level_${p.level}`)),
        p.kind ? row(t("depotKind"), t(`depotKind_${p.kind}`)) : null,
        row(t("readiness"), readiness(e)),
        row(t("operator"), p.operator),
        contactRow(t("keeper"), p, "keeper_name", "keeper_phone"),
        row(t("township"), p.township),
        row(t("team_size"), p.team_size),
        row(t("categories"), (p.categories || []).map((c) => t(`cat_${c}`)).join("、") || null),
        row(t("item_kinds"), p.item_kinds),
      ];
  }
  return [];
}

function readiness(e) {
  const state = e.ready === true ? "true" : e.ready === false ? "false" : "null";
  const en = document.documentElement.lang === "en";
  return [
    h("span", { class: `hm-readiness hm-readiness--${state}`, text: t(`ready_${state}`) }),
    e.reasons && e.reasons.length
      ? h("ul", { class: "hm-reasons" }, e.reasons.map((r) => h("li", { class: r.blocking ? "hm-blocking" : null, text: (en ? r.detail_en : r.detail_zh) || r.detail_zh || r.code })))
      : null,
  ];
}

function depotConditions(p) {
  const keys = ["floor", "has_lift", "entrance_ok", "manual_door", "backup_power", "damp", "stock_matches_books", "far_from_office", "rectified"];
  const rows = keys.map((k) => row(t(k), k === "floor" ? p.floor ?? t("unknown") : bool(p[k])));
  return h("details", null, h("summary", { text: t("inspectionAsFound") }), h("dl", { class: "hm-dl" }, rows));
}

/**
 * contactRow shows a contact's name (crews and above: the server leaves
 * the members out for the public), "not published" when the report names
 * nobody, or, when the members are not there at all, that crews see it.
 * The number is the call button below the attributes (callButton).
 */
function contactRow(label, p, nameKey, phoneKey) {
  if (!(nameKey in p) && !(phoneKey in p)) return row(label, h("span", { class: "hm-muted", dataset: { contactHidden: "" }, text: t("contactSignIn") }));
  const name = p[nameKey];
  const phone = p[phoneKey];
  if (!name && !phone) return row(label, t("notPublished"));
  return row(label, h("span", { dataset: { contact: nameKey }, text: [name, !telHref(phone) ? phone : null].filter(Boolean).join(" ") }));
}

/** callButton is a full-width tap-to-call link for the phone of a contact, or null. */
function callButton(p, nameKey, phoneKey) {
  const href = telHref(p[phoneKey]);
  if (!href) return null;
  const name = p[nameKey] ?? "";
  return h("a", { class: "hm-tel", href, dataset: { call: phoneKey }, "aria-label": t("call", name, p[phoneKey]) }, h("span", { class: "hm-tel-label", text: t("callShort") }), ` ${name} ${p[phoneKey]}`);
}

/** items renders a list of {item, quantity, unit, note} (inventory, equipment) in a closed section. */
function items(label, list) {
  if (!Array.isArray(list) || list.length === 0) return null;
  return h(
    "details",
    null,
    h("summary", { text: `${label} (${list.length})` }),
    h(
      "ul",
      null,
      list.map((i) => h("li", { text: [i.item, i.quantity != null ? `${i.quantity}${i.unit ?? ""}` : null, i.note].filter((x) => x != null && x !== "").join(" · ") })),
    ),
  );
}

function inventory(p) {
  return items(t("inventory"), p.inventory);
}

/**
 * content builds the popup content for entry e. It returns the element and
 * the element the nearest depots go in (null for depots).
 */
export function content(e) {
  const p = e.feature.properties;
  const nearest = e.collection === "depots" || e.collection === "gauges" ? null : h("section", { class: "hm-nearest" }, h("h3", { text: t("nearestDepots") }), h("p", { class: "hm-muted", text: t("loading") }));
  const el = h(
    "article",
    { class: `hm-popup hm-popup--${e.collection}`, dataset: { featureId: e.id } },
    h("h2", { class: "hm-popup-title", text: p.name ?? "" }),
    document.documentElement.lang === "en" && p.name_en ? h("p", { class: "hm-name-en", text: p.name_en }) : null,
    h("dl", { class: "hm-dl" }, details(e)),
    e.collection === "waterlogging_points" ? callButton(p, "duty_contact_name", "duty_contact_phone") : null,
    e.collection === "depots" ? callButton(p, "keeper_name", "keeper_phone") : null,
    precisionBlock(p, e.feature.geometry != null),
    e.collection === "waterlogging_points" ? items(t("equipment"), p.equipment) : null,
    e.collection === "waterlogging_points" && Array.isArray(p.measures) && p.measures.length
      ? h("details", null, h("summary", { text: `${t("measures")} (${p.measures.length})` }), h("ul", null, p.measures.map((m) => h("li", { text: m }))))
      : null,
    e.collection === "depots" ? [depotConditions(p), inventory(p)] : null,
    nearest,
    findingsList(p.findings),
    p.note ? h("details", null, h("summary", { text: t("note") }), h("p", { text: p.note })) : null,
  );
  return { el, nearest };
}

/** unlocatedItem renders a record with no geometry for the 待定位 list. */
export function unlocatedItem(e) {
  const p = e.feature.properties;
  return h(
    "details",
    { class: "hm-unlocated-item", dataset: { id: e.id, collection: e.collection } },
    h("summary", null, h("span", { class: "hm-unlocated-name", text: featureName(p) })),
    h("div", { class: "hm-unlocated-body" }, h("dl", { class: "hm-dl" }, details(e)), findingsList(p.findings), precisionBlock(p, false)),
  );
}
