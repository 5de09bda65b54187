// unlocated is the 待定位 panel: every record the report gives no place
// for (the unnamed road spots, the depots whose place is unknown), with
// its findings and why it has none, so that what is missing is visible.
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { COLLECTIONS } from "./features.js";
import { unlocatedItem } from "./popup.js";

/** installUnlocatedPanel adds the unlocated panel, with their count on its tab. app: registry, sheet. */
export function installUnlocatedPanel(app) {
  const { registry } = app;
  const unlocated = () => registry.all().filter((e) => !e.marker);

  function render() {
    const list = unlocated();
    return [
      `${t("unlocatedTitle")} (${list.length})`,
      h("p", { class: "hm-muted", text: t("unlocatedIntro", list.length) }),
      COLLECTIONS.map((c) => {
        const items = list.filter((e) => e.collection === c);
        if (!items.length) return null;
        const item = (e) => {
          const el = unlocatedItem(e);
          app.hooks.emit("unlocated-item", { entry: e, el }); // 在此定位, for crews
          return el;
        };
        return [h("h3", { text: `${t(c)} (${items.length})` }), h("div", { class: "hm-unlocated" }, items.map(item))];
      }),
    ];
  }

  app.sheet.add({
    name: "unlocated",
    label: () => t("tabUnlocated"),
    badge: () => String(unlocated().length || ""),
    render,
    followsData: true,
  });
}
