/* mmmech report: figures drawn when they scroll into view (plotly.js, embedded in the page),
   sortable and filterable tables (plain JavaScript, no other library). */
(function () {
  "use strict";
  var CONFIG = { displaylogo: false, responsive: true };
  var pending = {};
  function draw(id) {
    var item = pending[id];
    if (!item) { return Promise.resolve(); }
    delete pending[id];
    var spec = JSON.parse(item.spec.textContent);
    return Plotly.newPlot(item.div, spec.data, spec.layout, CONFIG).then(function () {
      item.div.setAttribute("data-rendered", "1");
    });
  }
  function initPlots() {
    var specs = document.querySelectorAll("script.plot-spec");
    Array.prototype.forEach.call(specs, function (spec) {
      var div = document.getElementById(spec.getAttribute("data-for"));
      if (div) { pending[div.id] = { div: div, spec: spec }; }
    });
    window.mmmechRenderAll = function () {
      return Promise.all(Object.keys(pending).map(draw));
    };
    if (!("IntersectionObserver" in window)) { window.mmmechRenderAll(); return; }
    var obs = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { obs.unobserve(e.target); draw(e.target.id); }
      });
    }, { rootMargin: "300px" });
    Object.keys(pending).forEach(function (id) { obs.observe(pending[id].div); });
  }
  function cellValue(td) {
    var v = td.getAttribute("data-value");
    if (v === null) { v = td.textContent.trim(); }
    if (v === "" || v === "n/a") { return null; }
    var n = Number(v);
    return isNaN(n) ? v.toLowerCase() : n;
  }
  function compare(a, b, dir) {
    if (a === null && b === null) { return 0; }
    if (a === null) { return 1; }   /* missing values last, either direction */
    if (b === null) { return -1; }
    if (typeof a === typeof b) { return (a < b ? -1 : a > b ? 1 : 0) * dir; }
    return (typeof a === "number" ? -1 : 1) * dir;
  }
  function sortBy(table, col, th) {
    var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
    if (!th.hasAttribute("aria-sort") && th.getAttribute("data-first") === "ascending") { dir = 1; }
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (r, i) { return [cellValue(r.cells[col]), i, r]; });
    keyed.sort(function (x, y) { return compare(x[0], y[0], dir) || x[1] - y[1]; });
    var frag = document.createDocumentFragment();
    keyed.forEach(function (k) { frag.appendChild(k[2]); });
    body.appendChild(frag);
  }
  function applyFilter(table) {
    var box = document.querySelector('input[data-filter="' + table.id + '"]');
    var sel = document.querySelectorAll('select[data-filter="' + table.id + '"]');
    var q = box ? box.value.trim().toLowerCase() : "";
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = !q || rows[i].textContent.toLowerCase().indexOf(q) >= 0;
      for (var s = 0; s < sel.length && ok; s++) {
        var want = sel[s].value, attr = sel[s].getAttribute("data-attr");
        if (want && rows[i].getAttribute(attr) !== want) { ok = false; }
      }
      rows[i].style.display = ok ? "" : "none";
      if (ok) { shown++; }
    }
    var count = document.querySelector('[data-count="' + table.id + '"]');
    if (count) { count.textContent = shown + " of " + rows.length + " rows"; }
  }
  function init() {
    initPlots();
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var heads = table.tHead.rows[0].cells;
      Array.prototype.forEach.call(heads, function (th, col) {
        th.addEventListener("click", function () { sortBy(table, col, th); });
        th.title = "click to sort";
      });
      var inputs = document.querySelectorAll('[data-filter="' + table.id + '"]');
      Array.prototype.forEach.call(inputs, function (el) {
        el.addEventListener("input", function () { applyFilter(table); });
        el.addEventListener("change", function () { applyFilter(table); });
      });
      applyFilter(table);
    });
    window.mmmechReportReady = true;
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); }
  else { init(); }
})();
