// Line charts on a canvas, for the asset page's three panels: a hundred lines instead of a
// charting library, and fast with thousands of points (one path per series, drawn per pixel
// column once there are more points than columns).
"use strict";
window.TwindChart = (function () {
  function nice(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
  }

  function label(v, step) {
    const digits = Math.max(0, -Math.floor(Math.log10(step)));
    return v.toFixed(Math.min(digits, 6));
  }

  // spec: { t0, tMin, tMax, series: [{ xs, ys, color, label, dash }], spans: [[a, b]],
  //         yLabel } -> the number of points drawn.
  function draw(canvas, spec) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const L = 56, R = 10, T = 22, B = 24;
    const pw = w - L - R, ph = h - T - B;
    let yMin = Infinity, yMax = -Infinity;
    for (const s of spec.series) {
      for (let i = 0; i < s.ys.length; i++) {
        const y = s.ys[i];
        if (y == null || !isFinite(y) || s.xs[i] < spec.tMin) continue;
        if (y < yMin) yMin = y;
        if (y > yMax) yMax = y;
      }
    }
    if (!isFinite(yMin)) { yMin = 0; yMax = 1; }
    if (yMax - yMin < 1e-9) { yMin -= 0.5; yMax += 0.5; }
    const pad = (yMax - yMin) * 0.08;
    yMin -= pad; yMax += pad;
    const tSpan = Math.max(1e-6, spec.tMax - spec.tMin);
    const X = (t) => L + ((t - spec.tMin) / tSpan) * pw;
    const Y = (v) => T + (1 - (v - yMin) / (yMax - yMin)) * ph;

    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "rgba(198,40,40,0.12)";
    for (const [a, b] of spec.spans || []) {
      const x0 = Math.max(L, X(a)), x1 = Math.min(L + pw, X(b));
      if (x1 > x0) g.fillRect(x0, T, x1 - x0, ph);
    }
    // Axes and grid.
    g.strokeStyle = "#e3e3e6"; g.fillStyle = "#6b6b70"; g.lineWidth = 1;
    const ys = nice(yMax - yMin, 5);
    for (let v = Math.ceil(yMin / ys) * ys; v <= yMax; v += ys) {
      g.beginPath(); g.moveTo(L, Y(v)); g.lineTo(L + pw, Y(v)); g.stroke();
      g.textAlign = "right"; g.fillText(label(v, ys), L - 4, Y(v) + 4);
    }
    const ts = nice(tSpan, 8);
    for (let t = Math.ceil((spec.tMin - spec.t0) / ts) * ts; t + spec.t0 <= spec.tMax; t += ts) {
      const x = X(t + spec.t0);
      g.beginPath(); g.moveTo(x, T); g.lineTo(x, T + ph); g.stroke();
      g.textAlign = "center"; g.fillText(label(t, ts) + " s", x, T + ph + 15);
    }
    g.strokeStyle = "#9a9aa0"; g.strokeRect(L, T, pw, ph);
    if (spec.yLabel) {
      g.save(); g.translate(12, T + ph / 2); g.rotate(-Math.PI / 2); g.textAlign = "center";
      g.fillText(spec.yLabel, 0, 0); g.restore();
    }
    // Series: one path each; beyond one point per pixel column, each column's min and max.
    let drawn = 0;
    let lx = L + 4;
    for (const s of spec.series) {
      g.strokeStyle = s.color; g.lineWidth = 1.5; g.setLineDash(s.dash || []);
      g.beginPath();
      let pen = false, col = -1, lo = 0, hi = 0;
      const flush = () => { if (col >= 0) { g.lineTo(col, Y(lo)); g.lineTo(col, Y(hi)); } };
      for (let i = 0; i < s.xs.length; i++) {
        const t = s.xs[i], v = s.ys[i];
        if (t < spec.tMin || v == null || !isFinite(v)) { flush(); col = -1; pen = false; continue; }
        const x = Math.round(X(t));
        drawn++;
        if (!pen) { g.moveTo(x, Y(v)); pen = true; col = x; lo = hi = v; continue; }
        if (x === col) { lo = Math.min(lo, v); hi = Math.max(hi, v); continue; }
        flush(); col = x; lo = hi = v; g.lineTo(x, Y(v));
      }
      flush();
      g.stroke();
      g.setLineDash([]);
      g.fillStyle = s.color; g.fillRect(lx, 6, 14, 3);
      g.fillStyle = "#1d1d1f"; g.textAlign = "left"; g.fillText(s.label, lx + 18, 11);
      lx += 30 + g.measureText(s.label).width;
    }
    return drawn;
  }

  return { draw };
})();
