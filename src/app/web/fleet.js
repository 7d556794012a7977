// The fleet page: every asset's latest state from /state, polled each second, in a list that
// renders only the rows in view (it stays responsive with tens of thousands of assets).
"use strict";
(function () {
  const ROW = 28;  // px, as .row's height in twind.css
  const STATUS_ORDER = { alert: 0, stale: 1, starting: 2, ok: 3 };
  const debug = (window.twindDebug = { rows: 0, assets: 0, loads: 0, errors: [] });
  let assets = [];  // { asset, status, ratio, divergence, threshold, alerts, model, diagnosis }
  let shown = [];
  let sortKey = "status";
  let sortUp = true;
  const viewport = document.getElementById("viewport");
  const spacer = document.getElementById("spacer");
  const rows = document.getElementById("rows");
  const filter = document.getElementById("filter");
  const search = document.getElementById("search");

  function summary(s) {
    const d = s.diagnosis;
    const thr = s.threshold;
    return {
      asset: s.asset,
      status: s.status,
      divergence: s.divergence,
      threshold: thr,
      ratio: s.divergence == null ? -1 : thr ? s.divergence / thr : s.divergence,
      alerts: (s.active_alerts || []).map((a) => a.id + (a.signal ? "(" + a.signal + ")" : "")).join(", "),
      model: s.model ? s.model.name + " v" + s.model.version : "",
      diagnosis: d ? d.name + " " + d.kind + " \u2192 " + fmt(d.estimate) + (d.explained ? "" : " (unexplained)") : "",
    };
  }

  function fmt(v) {
    if (v == null || !isFinite(v)) return "\u2013";
    const a = Math.abs(v);
    return a !== 0 && (a < 0.01 || a >= 1e5) ? v.toExponential(2) : v.toFixed(3);
  }

  function compare(a, b) {
    let x = a[sortKey];
    let y = b[sortKey];
    if (sortKey === "status") { x = STATUS_ORDER[x] ?? 9; y = STATUS_ORDER[y] ?? 9; }
    let c = x < y ? -1 : x > y ? 1 : 0;
    if (c === 0) c = a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0;
    return sortUp ? c : -c;
  }

  function refilter() {
    const f = filter.value;
    const q = search.value.trim();
    shown = assets.filter((a) => (!f || a.status === f) && (!q || a.asset.includes(q)));
    shown.sort(compare);
    spacer.style.height = shown.length * ROW + "px";
    render();
  }

  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }

  function render() {
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW) - 5);
    const last = Math.min(shown.length, first + Math.ceil(viewport.clientHeight / ROW) + 10);
    let html = "";
    for (let i = first; i < last; i++) {
      const a = shown[i];
      const frac = a.threshold ? Math.min(1, a.divergence / (2 * a.threshold)) : 0;
      const over = a.threshold && a.divergence > a.threshold;
      html +=
        '<div class="row" data-asset="' + esc(a.asset) + '">' +
        '<span><a href="/asset/' + encodeURIComponent(a.asset) + '">' + esc(a.asset) + "</a></span>" +
        '<span><span class="badge ' + esc(a.status) + '">' + esc(a.status) + "</span></span>" +
        "<span>" + (a.threshold ? '<span class="bar"><i class="' + (over ? "over" : "") +
          '" style="width:' + (frac * 100).toFixed(1) + '%"></i></span>' : "") +
          fmt(a.divergence) + (a.threshold ? " / " + fmt(a.threshold) : "") + "</span>" +
        "<span>" + esc(a.alerts) + "</span>" +
        "<span>" + esc(a.model) + "</span>" +
        "<span>" + esc(a.diagnosis) + "</span></div>";
    }
    rows.style.transform = "translateY(" + first * ROW + "px)";
    rows.innerHTML = html;
    debug.rows = last - first;
  }

  function counts() {
    const n = { alert: 0, stale: 0, starting: 0, ok: 0 };
    for (const a of assets) n[a.status] = (n[a.status] || 0) + 1;
    document.getElementById("counts").innerHTML =
      "<span>" + assets.length + " assets</span>" +
      Object.keys(n).map((k) => '<span class="badge ' + k + '">' + n[k] + " " + k + "</span>").join(" ");
  }

  async function load() {
    try {
      const res = await fetch("/state", { cache: "no-store" });
      if (!res.ok) throw new Error("GET /state: HTTP " + res.status);
      const states = await res.json();
      assets = states.map(summary);
      debug.assets = assets.length;
      debug.loads++;
      counts();
      refilter();
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    } catch (e) {
      debug.errors.push(String(e));
      document.getElementById("updated").textContent = String(e);
    }
    setTimeout(load, 1000);
  }

  document.getElementById("head").addEventListener("click", (ev) => {
    const key = ev.target.dataset && ev.target.dataset.key;
    if (!key) return;
    sortUp = key === sortKey ? !sortUp : true;
    sortKey = key;
    for (const s of document.querySelectorAll("#head span")) {
      s.classList.toggle("sorted", s.dataset.key === sortKey);
      s.classList.toggle("up", s.dataset.key === sortKey && !sortUp);
    }
    refilter();
  });
  filter.addEventListener("change", refilter);
  search.addEventListener("input", refilter);
  viewport.addEventListener("scroll", render, { passive: true });
  window.addEventListener("resize", render);
  load();
})();
