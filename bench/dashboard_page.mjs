// The fleet page of a twind serving N assets, in Debian's chromium (headless, playwright-core):
// prints its load time, refresh time, scroll time, JS heap and /state size.
//   node bench/dashboard_page.mjs HTTP_URL N
import { createRequire } from "node:module";
const require = createRequire(new URL("../tests/web/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const [base, nText] = process.argv.slice(2);
const n = Number(nText);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-precise-memory-info"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const t0 = Date.now();
  await page.goto(base + "/");
  await page.waitForFunction((n) => window.twindDebug && window.twindDebug.assets >= n, n,
                             { timeout: 60000, polling: 10 });
  const load = Date.now() - t0;
  // The page's own refresh: each /state read and render, timed inside the page.
  const refresh = await page.evaluate(async () => {
    const times = [];
    for (let i = 0; i < 10; i++) {
      const a = performance.now();
      const states = await (await fetch("/state", { cache: "no-store" })).json();
      window.__twindBenchStates = states.length;
      const b = performance.now();
      times.push(b - a);
    }
    times.sort((x, y) => x - y);
    return times[5];
  });
  const scroll = await page.evaluate(async () => {
    const v = document.getElementById("viewport");
    const a = performance.now();
    v.scrollTop = v.scrollHeight / 2;
    v.dispatchEvent(new Event("scroll"));
    await new Promise((r) => requestAnimationFrame(() => r()));
    return performance.now() - a;
  });
  const rows = await page.evaluate(() => document.querySelectorAll("#rows .row").length);
  const size = (await (await page.request.get(base + "/state")).body()).length;
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const metrics = (await cdp.send("Performance.getMetrics")).metrics;
  const heap = metrics.find((m) => m.name === "JSHeapUsedSize").value;
  console.log(`fleet page, ${n} assets: load ${load} ms, /state read+parse ${refresh.toFixed(0)} ms ` +
              `(${(size / 1e6).toFixed(1)} MB), scroll ${scroll.toFixed(1)} ms, ${rows} rows in the DOM, ` +
              `JS heap ${(heap / 1e6).toFixed(1)} MB`);
} finally {
  await browser.close();
}
