// An asset's page: its recent history (/api/history) drawn at once, then kept live by the
// asset's Server-Sent Events (/events?asset=ID): states, alerts and diagnoses as twind
// publishes them.
"use strict";
(function () {
  const WINDOW = 120;  // seconds shown
  const MAX = 4000;    // states kept in the page
  const id = decodeURIComponent(location.pathname.replace(/^\/asset\//, ""));
  const debug = (window.twindDebug = { points: {}, alerts: [], diagnoses: 0, states: 0, errors: [] });
  window.addEventListener("error", (e) => debug.errors.push(String(e.message)));
  document.getElementById("asset").textContent = id;
  document.title = "twind: " + id;

  let inputs = [], outputs = [];
  let d = null;  // { ts, alert, div, thr, u: {name: []}, y: {name: []}, p: {name: []} }
  const colors = ["#1565c0", "#6a1b9a", "#00838f", "#ef6c00"];

  function reset(ins, outs) {
    inputs = ins; outputs = outs;
    d = { ts: [], alert: [], div: [], thr: [], u: {}, y: {}, p: {} };
    for (const n of inputs) d.u[n] = [];
    for (const n of outputs) { d.y[n] = []; d.p[n] = []; }
  }

  function push(ts, alert, div, thr, u, y, p) {
    d.ts.push(ts); d.alert.push(alert); d.div.push(div); d.thr.push(thr);
    for (const n of inputs) d.u[n].push(u[n]);
    for (const n of outputs) { d.y[n].push(y[n]); d.p[n].push(p[n]); }
    if (d.ts.length > MAX + 500) {
      const cut = d.ts.length - MAX;
      for (const k of ["ts", "alert", "div", "thr"]) d[k].splice(0, cut);
      for (const n of inputs) d.u[n].splice(0, cut);
      for (const n of outputs) { d.y[n].splice(0, cut); d.p[n].splice(0, cut); }
    }
  }

  function fromState(s) {
    if (inputs.length + outputs.length === 0) {
      // No history (none kept, or the asset is new): its signals from the state itself.
      const names = Object.keys(s.signals);
      reset(names.filter((n) => "value" in s.signals[n]), names.filter((n) => "measured" in s.signals[n]));
    }
    const u = {}, y = {}, p = {};
    for (const n of inputs) u[n] = s.signals[n] ? s.signals[n].value : null;
    for (const n of outputs) {
      const v = s.signals[n] || {};
      y[n] = v.measured; p[n] = v.predicted;
    }
    push(s.ts, s.status === "alert" ? 1 : 0, s.divergence, s.threshold, u, y, p);
    const st = document.getElementById("status");
    st.textContent = s.status; st.className = "badge " + s.status;
    document.getElementById("model").textContent = "model " + s.model.name + " v" + s.model.version;
  }

  function spans() {
    const out = [];
    let start = null;
    for (let i = 0; i < d.ts.length; i++) {
      if (d.alert[i] && start === null) start = d.ts[i];
      if (!d.alert[i] && start !== null) { out.push([start, d.ts[i]]); start = null; }
    }
    if (start !== null) out.push([start, d.ts[d.ts.length - 1]]);
    return out;
  }

  let pending = false;
  function redraw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (!d || d.ts.length === 0) return;
      const tMax = d.ts[d.ts.length - 1];
      const tMin = Math.max(d.ts[0], tMax - WINDOW);
      const base = { t0: tMax, tMin, tMax };
      const outSeries = [];
      outputs.forEach((n, i) => {
        outSeries.push({ xs: d.ts, ys: d.y[n], color: colors[i % 4], label: n + " measured" });
        outSeries.push({ xs: d.ts, ys: d.p[n], color: "#c62828", label: n + " twin", dash: [5, 3] });
      });
      debug.points.output = TwindChart.draw(document.getElementById("output"),
        Object.assign({ series: outSeries, yLabel: outputs.join(", ") }, base));
      debug.points.divergence = TwindChart.draw(document.getElementById("divergence"),
        Object.assign({ series: [
          { xs: d.ts, ys: d.div, color: "#1565c0", label: "divergence" },
          { xs: d.ts, ys: d.thr, color: "#c62828", label: "threshold", dash: [5, 3] }],
          spans: spans(), yLabel: "divergence" }, base));
      debug.points.input = TwindChart.draw(document.getElementById("input"),
        Object.assign({ series: inputs.map((n, i) => ({ xs: d.ts, ys: d.u[n], color: colors[i % 4], label: n })),
          yLabel: inputs.join(", ") }, base));
    });
  }

  function time(ts) { return new Date(ts * 1000).toLocaleTimeString(); }

  function showAlert(a) {
    const raised = a.state === "raised";
    const li = document.createElement("li");
    li.className = raised ? "raised" : "cleared";
    li.textContent = time(a.ts) + " " + a.state + " " + a.id + (a.signal ? " on " + a.signal : "") +
      (a.message ? ": " + a.message : "");
    const list = document.getElementById("alerts");
    list.insertBefore(li, list.firstChild);
    debug.alerts.push({ id: a.id, raised, ts: a.ts, shownAt: Date.now() });
  }

  function showDiagnosis(g) {
    const el = document.getElementById("diagnosis");
    if (!g || !g.best) { el.textContent = "none"; return; }
    const b = g.best;
    let text = (b.kind === "parameter" ? b.name : b.kind + " of " + b.name) + ": " + b.nominal +
      " \u2192 " + Number(b.estimate).toFixed(3) + " [" + Number(b.ci95[0]).toFixed(3) + ", " +
      Number(b.ci95[1]).toFixed(3) + "]";
    if (g.drifting) text += ", still moving";
    if (!g.explained) text += "; no single change explains it";
    if (g.runner_up) text += "\nrunner-up " + g.runner_up.name + " (margin " + Number(g.margin).toFixed(2) + ")";
    const ph = g.physical;
    if (ph && ph.before && ph.after) {
      const tc = (p) => p.time_constants.map((t) => (t == null ? "\u221e" : t.toFixed(2) + " s")).join(", ");
      text += "\ntime constants " + tc(ph.before) + " \u2192 " + tc(ph.after);
    }
    el.textContent = text;
    el.className = "";
    el.style.whiteSpace = "pre-line";
    debug.diagnoses++;
  }

  async function history() {
    const res = await fetch("/api/history/" + encodeURIComponent(id), { cache: "no-store" });
    if (!res.ok) throw new Error("GET /api/history: HTTP " + res.status);
    const h = await res.json();
    reset(h.inputs, h.outputs);
    const ni = inputs.length;
    for (const r of h.rows) {
      const u = {}, y = {}, p = {};
      inputs.forEach((n, i) => (u[n] = r[4 + i]));
      outputs.forEach((n, j) => { y[n] = r[4 + ni + 2 * j]; p[n] = r[5 + ni + 2 * j]; });
      push(r[0], r[1], r[2], r[3], u, y, p);
    }
    document.getElementById("alerts").textContent = "";
    for (const a of h.alerts) showAlert(a);
    showDiagnosis(h.diagnosis);
    redraw();
  }

  function live() {
    const es = new EventSource("/events?asset=" + encodeURIComponent(id));
    const status = document.getElementById("live");
    es.onopen = () => (status.textContent = "live");
    es.onerror = () => (status.textContent = "reconnecting");
    es.addEventListener("state", (e) => {
      if (!d) return;
      const s = JSON.parse(e.data);
      debug.states++;
      fromState(s);
      redraw();
    });
    es.addEventListener("alert", (e) => showAlert(JSON.parse(e.data)));
    es.addEventListener("diagnosis", (e) => showDiagnosis(JSON.parse(e.data)));
    es.addEventListener("missed", () => history().catch((e) => debug.errors.push(String(e))));
  }

  window.addEventListener("resize", redraw);
  history()
    .catch((e) => {
      debug.errors.push(String(e));
      reset([], []);
    })
    .finally(live);
})();
