// session is who is signed in: the chip in the bar (name and role, or 登录)
// and the account panel it opens (type a sign-in code; sign out). A
// sign-in link (#signin=CODE) is read at once, removed from the address
// bar and the history, and exchanged (POST /session) for the session
// cookie, which the page never sees (HttpOnly). An app on an iPhone's home
// screen has its own cookie jar: the panel lets the crew type the code
// there.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import * as api from "../api.js";
import { signInCode, normalizeCode } from "../field.js";

const RANK = { public: 0, crew: 1, planner: 2, admin: 3 };

const $ = (id) => document.getElementById(id);

/**
 * installSession adds the chip and the account panel, and returns
 * app.session: { signedIn, name, role, expires, ended, ready (a promise:
 * the first answer) }. app.can(role) says whether the session's role is
 * at least role. After every change it emits "session" on the hooks.
 */
export function installSession(app) {
  const { sheet, hooks } = app;
  const s = { signedIn: false, name: "", role: "public", expires: null, ended: false, status: "idle", error: null };
  app.session = s;
  app.can = (role) => (RANK[s.role] ?? 0) >= (RANK[role] ?? 9);
  const root = document.documentElement;

  function renderChip() {
    const chip = $("who");
    chip.textContent = s.signedIn ? t("signedInAs", s.name, t(`role_${s.role}`)) : t("signIn");
    chip.dataset.role = s.role;
    chip.setAttribute("aria-label", s.signedIn ? `${s.name} ${t(`role_${s.role}`)}` : t("signIn"));
    root.dataset.role = s.role;
  }

  async function refresh() {
    try {
      const r = await api.session();
      Object.assign(s, { signedIn: !!r.signed_in, name: r.name || "", role: r.role || "public", expires: r.expires || null, ended: !!r.ended });
    } catch (err) {
      console.warn("session:", err.message); // offline with nothing cached: stay as we are
    }
    renderChip();
    sheet.tabs();
    sheet.update("account");
    await hooks.emit("session", s);
  }

  async function signIn(code) {
    Object.assign(s, { status: "signing", error: null });
    sheet.update("account");
    try {
      await api.signIn(code);
      s.status = "idle";
    } catch (err) {
      Object.assign(s, { status: "error", error: err.message });
    }
    await refresh();
  }

  async function signOut() {
    await api.signOut().catch(() => {});
    await hooks.emit("signout");
    await refresh();
  }

  function render() {
    const out = [s.signedIn ? t("signedInAs", s.name, t(`role_${s.role}`)) : t("signInTitle")];
    if (s.ended && !s.signedIn) out.push(h("p", { class: "hm-warn", text: t("sessionEnded") }));
    if (s.signedIn) {
      if (s.expires) out.push(h("p", { class: "hm-muted", text: t("expiresAt", new Date(s.expires).toLocaleString()) }));
      out.push(h("button", { type: "button", class: "hm-btn hm-wide", dataset: { signOut: "" }, text: t("signOut"), onclick: signOut }));
      return out;
    }
    const input = h("input", { id: "hm-code", type: "text", class: "hm-input", autocomplete: "one-time-code", autocapitalize: "characters", spellcheck: "false", placeholder: "XXXX-XXXX-XXXX-XXXX", "aria-label": t("signInCode") });
    const submit = (ev) => {
      ev.preventDefault();
      const code = normalizeCode(input.value);
      if (code) signIn(code);
    };
    out.push(
      h("p", { class: "hm-muted", text: t("signInIntro") }),
      h("form", { class: "hm-form", onsubmit: submit }, h("label", { for: "hm-code", text: t("signInCode") }), input, h("button", { type: "submit", class: "hm-btn hm-wide hm-primary", text: s.status === "signing" ? t("signingIn") : t("signInGo") })),
    );
    if (s.error) out.push(h("p", { class: "hm-warn", dataset: { signInError: "" }, text: `${t("signInFailed")}${s.error}` }));
    return out;
  }

  sheet.add({ name: "account", tab: false, label: () => t("signIn"), render });
  $("who").addEventListener("click", () => sheet.toggle("account"));
  hooks.on("lang", renderChip);
  renderChip();

  // A sign-in link: the code leaves the address bar and the history
  // before anything else happens, then is exchanged.
  const code = signInCode(location.hash);
  if (code) history.replaceState(null, "", location.pathname + location.search);
  s.ready = code ? signIn(code) : refresh();
  return s;
}
