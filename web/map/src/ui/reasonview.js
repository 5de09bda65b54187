// reasonview draws why the server refused something (reasons.explain):
// the crew's words first, the server's own words small beneath them.
import { h } from "../dom.js";

/**
 * reasonView returns the element of a reason {text, detail}; label
 * introduces the server's words; warn: a refusal (else a wait, muted).
 */
export function reasonView({ text, detail }, label, warn = true) {
  return h(
    "div",
    { class: "hm-reason", dataset: { reason: "" } },
    h("p", { class: `${warn ? "hm-warn" : "hm-muted"} hm-reason-text`, text }),
    detail ? h("p", { class: "hm-reason-detail", lang: "en", text: `${label}: ${detail}` }) : null,
  );
}

/**
 * ruleHint returns what a form says as the crew types (rules.js): {el,
 * show(key, text, fix, fixLabel)} — show(null) hides it; fix is the value
 * that makes the form valid, passed to onFix(fix) when its button is
 * tapped. The elements are updated in place, never replaced: a tap on a
 * button that leaves the page is, to Leaflet, a tap on the map, which
 * closes the popup the form is in. name prefixes the data attributes
 * (data-<name>-error="key", data-<name>-fix="value").
 */
export function ruleHint(name, onFix) {
  const msg = h("p", { class: "hm-warn", hidden: true });
  const btn = h("button", { type: "button", class: "hm-btn hm-fix", hidden: true, onclick: () => onFix(btn.value) });
  const [errorKey, fixKey] = [`${name}Error`, `${name}Fix`];
  return {
    el: h("div", { class: "hm-rule" }, msg, btn),
    show(key, text, fix = null, fixLabel = "") {
      msg.hidden = !key;
      btn.hidden = fix == null;
      msg.textContent = key ? text : "";
      btn.textContent = fixLabel;
      btn.value = fix == null ? "" : String(fix);
      if (key) msg.dataset[errorKey] = key;
      else delete msg.dataset[errorKey];
      if (fix != null) btn.dataset[fixKey] = String(fix);
      else delete btn.dataset[fixKey];
    },
  };
}
