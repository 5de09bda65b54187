// files holds the pure parts of the contacts in a popup and of the 表格
// (files) panel: a telephone number as a tap-to-call tel: link, a file's
// media type for an import, the labels of the export formats, and an
// import report's rows in the order a planner reads them. No DOM.

const FULL_WIDTH = { "＋": "+", "－": "-", "（": "(", "）": ")", "　": " ", "＃": "#" };

// halfWidth reads full-width digits and punctuation (as an IME types
// them) as ASCII.
function halfWidth(s) {
  return s.replace(/[０-９]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/[＋－（）　＃]/g, (c) => FULL_WIDTH[c]);
}

// landline reports whether digits are a full landline number: 0, an area
// code (10, 2x, or three digits starting 3-9) and 7 or 8 digits starting 2-9.
function landline(d) {
  return /^0(10|2\d|[3-9]\d\d)[2-9]\d{6,7}$/.test(d);
}

/**
 * telHref returns the tel: link (RFC 3966) of a telephone number as the
 * server accepts them (geo/phone.go): "0371-86572555" → "tel:037186572555",
 * "+86 138 0013 8000" → "tel:+8613800138000", "0371-86572555转123" and
 * "0371-86572555-123" → "tel:037186572555;ext=123". null when phone holds
 * no number.
 */
export function telHref(phone) {
  if (typeof phone !== "string") return null;
  const s = halfWidth(phone.trim());
  let main = s;
  let ext = "";
  const lower = s.toLowerCase();
  for (const sep of ["转", "ext.", "ext", "x", "#"]) {
    const i = lower.lastIndexOf(sep);
    if (i > 0) {
      main = s.slice(0, i);
      ext = s.slice(i + sep.length).replace(/\D/g, "");
      break;
    }
  }
  const plus = main.trim().startsWith("+");
  let digits = main.replace(/\D/g, "");
  if (!ext && !plus) {
    const i = main.lastIndexOf("-");
    if (i > 0) {
      const head = main.slice(0, i).replace(/\D/g, "");
      const tail = main.slice(i + 1).replace(/\D/g, "");
      if (tail.length >= 1 && tail.length <= 6 && landline(head)) {
        digits = head;
        ext = tail;
      }
    }
  }
  if (digits.length < 7) return null;
  return `tel:${plus ? "+" : ""}${digits}${ext ? `;ext=${ext}` : ""}`;
}

/** Media types of the files the server exports and imports. */
export const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
export const CSV = "text/csv";

/** formatLabel is the short name of an export's media type: Excel, CSV, KML, GPX. */
export function formatLabel(type) {
  return { [XLSX]: "Excel", [CSV]: "CSV", "application/vnd.google-earth.kml+xml": "KML", "application/gpx+xml": "GPX" }[type] ?? type;
}

/** importType is the Content-Type to send a file under, by its name: an xlsx, else CSV; null for an old .xls. */
export function importType(name) {
  const ext = (name.match(/\.[^.]*$/)?.[0] ?? "").toLowerCase();
  if (ext === ".xlsx") return XLSX;
  if (ext === ".xls") return null;
  return CSV;
}

const ORDER = { invalid: 0, stale: 1, create: 2, update: 3, unchanged: 4 };

/** reportRows returns a report's rows, what needs the planner's eye first: invalid, stale, created, updated, unchanged; by row within each. */
export function reportRows(report) {
  return [...(report?.rows ?? [])].sort((a, b) => (ORDER[a.action] ?? 9) - (ORDER[b.action] ?? 9) || a.row - b.row);
}

/** canApply reports whether importing after a dry run's report would write anything: some row to create or update, and no invalid row unless goodOnly. */
export function canApply(report, goodOnly) {
  const c = report?.counts ?? {};
  return (c.create ?? 0) + (c.update ?? 0) > 0 && ((c.invalid ?? 0) === 0 || goodOnly);
}
