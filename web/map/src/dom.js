// dom builds elements. Every string, from data or not, becomes a text node
// or an attribute value: nothing here parses HTML, so a feature named
// `<img src=x onerror=alert(1)>` shows as those characters. Styles are
// classes (the Content-Security-Policy forbids inline style attributes).

/**
 * h creates an element. props: class, text, dataset, on<event>, and any
 * other attribute (set with setAttribute; false/null/undefined omit it).
 * children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v == null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "style") throw new Error("dom: inline styles are not allowed by the CSP; use a class");
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

/** append adds children (nodes or strings as text) to el. */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replace sets el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
