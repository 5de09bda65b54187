// chrome is the page around the map: the bar (title, live indicator,
// language switch), the legend strip under it, and the notice line.
// Switching the language emits "lang" on the hooks: every room redraws
// its own words.
import { h, replace } from "../dom.js";
import { t, setLang, getLang } from "../i18n.js";

const $ = (id) => document.getElementById(id);

/** LANG_KEY is where the chosen language is remembered (localStorage). */
const LANG_KEY = "hazardmap.lang";

/**
 * createChrome sets the language remembered from the last visit, draws
 * the bar and returns:
 *   notice(key, text)  show text() in the notice line under key (null takes it away)
 *   live(status)       show the live-update stream's state ("off", "connecting", "live", "reconnecting")
 */
export function createChrome(hooks) {
  const notices = new Map(); // key → () => text, in the order first shown
  let live = "off";
  try {
    setLang(localStorage.getItem(LANG_KEY) || "zh");
  } catch {
    setLang("zh");
  }

  function render() {
    const en = getLang() === "en";
    document.title = t("title");
    $("title").textContent = t("title");
    const lang = $("lang");
    lang.textContent = t("langSwitch");
    lang.setAttribute("aria-label", t("langSwitchLabel"));
    lang.setAttribute("lang", en ? "zh-CN" : "en");
    $("map").setAttribute("aria-label", t("title"));
    $("strip").classList.toggle("hm-strip--en", en);
    replace(
      $("strip"),
      h("span", { class: "hm-strip-title", text: `${t("legendStrip")}${en ? ":" : "："}` }),
      ["clear", "ponding", "closed", null].map((s) =>
        h("span", { class: "hm-strip-item" }, h("span", { class: `hm-dot hm-st--${s ?? "null"}` }), t(`status_${s ?? "null"}`)),
      ),
    );
    renderLive();
    renderNotices();
  }

  function renderLive() {
    const el = $("live");
    el.hidden = live === "off";
    if (el.hidden) return;
    el.dataset.live = live;
    el.textContent = t(`live_${live}`);
    el.title = t(`liveHint_${live}`);
    document.documentElement.dataset.live = live;
  }

  function renderNotices() {
    const n = $("notice");
    n.hidden = notices.size === 0;
    replace(n, [...notices.values()].map((text) => text()).join(" "));
  }

  $("lang").addEventListener("click", () => {
    setLang(getLang() === "en" ? "zh" : "en");
    try {
      localStorage.setItem(LANG_KEY, getLang());
    } catch {
      /* private mode */
    }
    hooks.emit("lang");
  });
  hooks.on("lang", render);
  render();

  return {
    notice(key, text) {
      if (text) notices.set(key, text);
      else notices.delete(key);
      renderNotices();
    },
    live(status) {
      live = status;
      renderLive();
    },
  };
}
