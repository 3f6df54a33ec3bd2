/* callbar console: a small SVG line chart, no library.
 * CB_plot(el, {start: unix seconds of the first point, step: seconds,
 *              series: {name: [numbers...]}, empty: text})
 *              colours: {name: "c0".."c7"} (optional)}
 * draws one line per series with a legend; the SVG's data-total attribute
 * holds the sum of every point (the browser test reads it). */
"use strict";
window.CB_plot = function (el, o) {
  var NS = "http://www.w3.org/2000/svg";
  var W = 640, H = 200, L = 44, R = 8, T = 8, B = 24;
  var names = Object.keys(o.series).filter(function (k) {
    return o.series[k].some(function (v) { return v > 0; });
  });
  var n = 0, max = 1, total = 0;
  Object.keys(o.series).forEach(function (k) {
    var s = o.series[k];
    n = Math.max(n, s.length);
    s.forEach(function (v) { max = Math.max(max, v); total += v; });
  });
  function mk(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (a) { e.setAttribute(a, attrs[a]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var svg = mk("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "class": "plot",
                       "data-total": String(total), "data-series": String(names.length)});
  var x = function (i) { return L + (n > 1 ? i * (W - L - R) / (n - 1) : 0); };
  var y = function (v) { return T + (H - T - B) * (1 - v / max); };
  svg.appendChild(mk("line", {x1: L, y1: y(0), x2: W - R, y2: y(0), "class": "axis"}));
  svg.appendChild(mk("line", {x1: L, y1: T, x2: L, y2: y(0), "class": "axis"}));
  svg.appendChild(mk("text", {x: L - 4, y: T + 10, "class": "tick", "text-anchor": "end"}, String(max)));
  svg.appendChild(mk("text", {x: L - 4, y: y(0), "class": "tick", "text-anchor": "end"}, "0"));
  function hhmm(t) {
    var d = new Date(t * 1000);
    return ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }
  if (n > 0) {
    svg.appendChild(mk("text", {x: L, y: H - 6, "class": "tick"}, hhmm(o.start)));
    svg.appendChild(mk("text", {x: W - R, y: H - 6, "class": "tick", "text-anchor": "end"},
                       hhmm(o.start + (n - 1) * o.step)));
  }
  /* A series' colour: the one o.colours gives it (allow green, block red),
   * else the next of eight. */
  function cls(k, idx) { return (o.colours && o.colours[k]) || "c" + (idx % 8); }
  var title = [];
  names.forEach(function (k, idx) {
    var pts = o.series[k].map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); });
    var line = mk("polyline", {points: pts.join(" "), "class": "line " + cls(k, idx)});
    line.appendChild(mk("title", {}, k));
    svg.appendChild(line);
    title.push(k);
  });
  if (!names.length)
    svg.appendChild(mk("text", {x: W / 2, y: H / 2, "class": "empty", "text-anchor": "middle"}, o.empty || ""));
  svg.setAttribute("aria-label", title.join(", ") || (o.empty || ""));
  el.textContent = "";
  el.appendChild(svg);
  var legend = document.createElement("ul");
  legend.className = "legend";
  names.forEach(function (k, idx) {
    var li = document.createElement("li");
    li.className = cls(k, idx);
    var sum = o.series[k].reduce(function (a, b) { return a + b; }, 0);
    li.textContent = k + " (" + sum + ")";
    legend.appendChild(li);
  });
  el.appendChild(legend);
};
