// reasons says, in the crew's language, why the server refused what was
// sent — or why it waits — from the structured parts of the answer: the
// status code, the fields that RFC 9457 problem's errors[] names, the kind
// of route (a report, a reading, a location proposal, an alert's
// acknowledgement or resolution) and, for a report, what was sent (the
// GB 51222 rule of rules.js tells which contradiction it was). The
// server's own English words stay available as the detail, shown small
// beside the reason. Pure: no DOM, no Leaflet; tested with node:test.
import { number, statusConflict } from "./rules.js";
import { serverWords } from "./problem.js";

// The reasons, Chinese and English. A crew reads the Chinese; the English
// switch shows the English.
const TEXT = {
  offline: ["网络不通，恢复后自动发送", "No network: it goes by itself when the network is back"],
  signin: ["登录已失效，请重新登录（登录后自动发送）", "Signed out: sign in again and it goes by itself"],
  forbidden: ["无权限：当前账号不能做此操作", "Not allowed for this account"],
  gone_report: ["该积水点已不存在（可能已被删除）", "This point no longer exists (deleted?)"],
  gone_reading: ["该水位站已不存在（可能已被删除）", "This gauge no longer exists (deleted?)"],
  gone_proposal: ["该记录已不存在（可能已被删除）", "This record no longer exists (deleted?)"],
  gone_alert: ["该告警已不存在", "This alert no longer exists"],
  inFlight: ["上一次发送仍在处理中，稍后自动重试", "The previous try is still being processed: it is retried by itself"],
  located: ["该记录已有准确位置，无需再定位（需调整请联系规划人员）", "This record is located already: a planner can move it"],
  alertChanged: ["告警已被他人处理，请查看最新状态", "Someone else acted on this alert first: see its state now"],
  changed: ["数据已被他人更新，请刷新后重试", "Someone else changed it first: reload and try again"],
  photoTooLarge: ["照片太大，请重新拍一张", "The photo is too large: take another"],
  tooLarge: ["内容太大，服务器未接受", "Too large for the server"],
  photoBad: ["照片无法使用（须为 JPEG，不超过 2 MB），请重新拍一张", "The photo cannot be used (a JPEG of at most 2 MB): take another"],
  format: ["发送格式有误，请刷新页面后重新上报", "The app sent a malformed request: reload the page and send again"],
  keyReused: ["发送编号与另一条记录冲突，请重新上报", "Its send key was used for another item: send it again"],
  tooMany: ["发送太频繁，稍后自动重试", "Too many sends: it is retried by itself shortly"],
  server: ["服务器暂时不可用，稍后自动重试", "The server is unavailable for now: it is retried by itself"],
  clearTooDeep: ["水深超过 15 厘米不能报“畅通”（GB 51222：属内涝），请改报积水或封闭", "Over 15 cm cannot be “clear” (GB 51222: waterlogging): report ponding or closed"],
  pondingZero: ["“积水”的水深不能为 0 厘米：请改报畅通，或填写水深", "“Ponding” cannot be 0 cm deep: report clear, or give the depth"],
  status: ["状态须为畅通、积水或封闭", "The status must be clear, ponding or closed"],
  depth: ["水深须在 0–500 厘米之间", "The depth must be 0 to 500 cm"],
  note: ["备注过长（最多 500 字）或含无效字符", "The note is too long (500 characters at most) or has a bad character"],
  alertNote: ["请填写说明（最多 500 字）", "Write a note (500 characters at most)"],
  position: ["位置坐标无效，请重新定位", "The position is not valid: locate again"],
  accuracy: ["定位精度无效，请重新定位", "The accuracy is not valid: locate again"],
  method: ["定位精度不足以这样采用，请拖动定位针到现场位置再确认", "The fix is too rough for that: drag the pin to the spot and confirm"],
  observedAt: ["记录时间不被接受：手机时钟不准，或已超过 7 天", "Its time was refused: the phone's clock is off, or it is over 7 days old"],
  level: ["水位超出该站可测范围，请核对读数（看错一位或单位？）", "The level is outside what this gauge can read: check the reading (a digit, the unit?)"],
  readingAt: ["读数时间不被接受，请检查手机时钟", "The time of the reading was refused: check the phone's clock"],
  invalid: ["内容有误，服务器未接受", "The server did not accept the content"],
  refused: ["服务器拒绝了这条记录", "The server refused it"],
};

// FIELDS maps the field a 400 names to its reason (before the kind's own).
const FIELDS = {
  status: "status",
  depth_cm: "depth",
  note: "note",
  position: "position",
  accuracy_m: "accuracy",
  method: "method",
  observed_at: "observedAt",
  photo: "photoBad",
  level: "level",
  at: "readingAt",
  report: "format",
  body: "format",
  "Content-Type": "format",
  "Idempotency-Key": "format",
  collection: "format",
  feature_id: "format",
  version: "format",
};

const ALERT = new Set(["acknowledge", "resolve"]);

// fieldReason is the reason of one field a 400 names, for kind and what was sent.
function fieldReason(field, kind, request) {
  if (kind === "report" && field === "status") return statusConflict(request?.status, number(request?.depth_cm))?.key ?? "status";
  if (ALERT.has(kind) && field === "note") return "alertNote";
  return FIELDS[field] ?? null;
}

/**
 * reasons returns the keys of why a request of kind (report, reading,
 * proposal, acknowledge, resolve) got problem (problemOf; status 0: the
 * network failed), at most two, most telling first. request is the body
 * that was sent, where known.
 */
export function reasons({ kind, problem, request }) {
  const s = problem?.status ?? 0;
  if (!s) return ["offline"];
  if (s === 400) {
    const keys = [...new Set((problem.fields || []).map((f) => fieldReason(f.field, kind, request)).filter(Boolean))];
    return keys.length ? keys.slice(0, 2) : ["invalid"];
  }
  if (s === 401) return ["signin"];
  if (s === 403) return ["forbidden"];
  if (s === 404 || s === 410) return [`gone_${ALERT.has(kind) ? "alert" : kind === "reading" || kind === "proposal" ? kind : "report"}`];
  if (s === 409) {
    // The same Idempotency-Key still in flight says when to ask again;
    // any other conflict is the data having moved on.
    if (problem.retry) return ["inFlight"];
    if (kind === "proposal") return ["located"];
    return [ALERT.has(kind) ? "alertChanged" : "changed"];
  }
  if (s === 412 || s === 428) return ["changed"];
  if (s === 413) return [kind === "report" ? "photoTooLarge" : "tooLarge"];
  if (s === 415) return ["format"];
  if (s === 422) return ["keyReused"];
  if (s === 429) return ["tooMany"];
  if (s >= 500) return ["server"];
  return ["refused"];
}

/**
 * explain returns {text, detail}: why, in lang ("zh" or "en"), and the
 * server's own words ("" when there are none, or for a dead network).
 * problem may be missing (an item queued by an older map): status and
 * error are then what that map kept.
 */
export function explain({ kind, problem, request, lang = "zh", status = 0, error = "" }) {
  const p = problem ?? { status, fields: [] };
  const i = lang === "en" ? 1 : 0;
  const text = reasons({ kind, problem: p, request })
    .map((k) => TEXT[k][i])
    .join(lang === "en" ? "; " : "；");
  const detail = p.status ? (problem ? serverWords(problem) : error) : "";
  return { text, detail };
}
