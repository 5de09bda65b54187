// gaugepopup is what a gauge's popup says: kind, river, township, the
// datum, the flood limit of today's window (and its period), the warning
// and guaranteed levels, and the latest reading with how it stands
// against them. The chart and the reading form are added by ui/water.js.
import { t } from "../i18n.js";
import { floodLimitAt } from "../water.js";

const m = (x) => (typeof x === "number" ? `${x.toFixed(2)} ${t("unitM")}` : null);

/** gaugeDetails returns the rows of gauge entry e's popup; row(label, value) makes one. */
export function gaugeDetails(e, row) {
  const p = e.feature.properties;
  const now = Date.now();
  const limit = floodLimitAt(p, now);
  const r = e.reading;
  return [
    row(t("kind"), t(`gauge_${p.kind}`)),
    row(t("river"), p.river),
    row(t("township"), p.township),
    row(t("datum"), p.datum ?? t("notPublished")),
    row(t("floodLimit"), limit ? `${m(limit.level)}（${t(`period_${limit.period}`)}）` : t(p.flood_limits ? "floodLimitNone" : "notPublished")),
    p.warning_level != null ? row(t("warningLevel"), m(p.warning_level)) : null,
    p.guaranteed_level != null ? row(t("guaranteedLevel"), m(p.guaranteed_level)) : null,
    row(t("latestLevel"), r ? `${m(r.level)} · ${new Date(r.at).toLocaleString()}` : t("noReading")),
    row(t("levelState"), t(`level_state_${e.level ?? "none"}`)),
  ];
}
