// icons are the toolbar's pictures: a 24-px line drawing per panel, drawn
// with the text's colour (CSS .hm-ico), so that a tab reads at a glance in
// the rain and its short label needs no second line.
const SVG = "http://www.w3.org/2000/svg";

// A drawing is one SVG path (moves, lines, arcs), in a 24×24 box.
const PATHS = {
  layers: "M12 3 2 8l10 5 10-5zM2 12.5l10 5 10-5M2 17l10 5 10-5",
  reach: "M12 3a9 9 0 1 0 0 18 9 9 0 1 0 0-18M12 7a5 5 0 1 0 0 10 5 5 0 1 0 0-10M12 11.5v1",
  unlocated: "M12 21s-6.5-6.2-6.5-11.5a6.5 6.5 0 0 1 13 0C18.5 14.8 12 21 12 21zM10 8a2 2 0 1 1 2.6 1.9c-.4.2-.6.6-.6 1.1M12 13.5v.5",
  locate: "M12 6a6 6 0 1 0 0 12 6 6 0 1 0 0-12M12 2v4M12 18v4M2 12h4M18 12h4M12 11.5v1",
  alerts: "M6 16v-5a6 6 0 0 1 12 0v5l2 2H4zM10 20.5a2 2 0 0 0 4 0",
  outbox: "M4 14v6h16v-6M12 16V4M7.5 8.5 12 4l4.5 4.5",
  review: "M9 3h6v3H9zM7 4.5H5V21h14V4.5h-2M8.5 13.5l2.5 2.5 4.5-5",
  files: "M3 5h18v14H3zM3 10h18M3 14.5h18M9 5v14",
  report: "M4 20h4L19 9l-4-4L4 16zM13.5 6.5l4 4",
  more: "M5 12h.01M12 12h.01M19 12h.01",
};

/** icon returns the drawing of a panel (name), hidden from screen readers: the label says it. */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `hm-ico hm-ico--${name}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name] ?? PATHS.more);
  svg.append(path);
  return svg;
}
