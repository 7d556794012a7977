// Opens an SVG figure of `twind plot` in Debian's chromium (headless, playwright-core) and
// checks that it renders: the page is the SVG, 1200 x 800, each of its three panels draws a line
// of some length, nothing is fetched, and the console shows no error. Screenshot to PNG.
//   node seed_figure.mjs FIGURE.svg SCREENSHOT.png
import { chromium } from "playwright-core";
import { pathToFileURL } from "node:url";

const [figure, screenshot] = process.argv.slice(2);
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log((ok ? "ok: " : "FAIL: ") + what);
};
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors = [];
  const requests = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("request", (r) => { if (!r.url().startsWith("file:")) requests.push(r.url()); });
  await page.goto(pathToFileURL(figure).href);
  const svg = await page.evaluate(() => {
    const root = document.documentElement;
    const box = root.getBoundingClientRect();
    const panels = {};
    for (const id of ["panel-output", "panel-divergence", "panel-inputs"]) {
      const g = document.getElementById(id);
      if (!g) continue;
      let longest = 0;
      for (const p of g.querySelectorAll("path")) longest = Math.max(longest, p.getTotalLength());
      const b = g.getBBox();
      panels[id] = { width: b.width, height: b.height, longest };
    }
    return { tag: root.tagName, width: box.width, height: box.height, panels };
  });
  check(svg.tag === "svg", "the document is an SVG (" + svg.tag + ")");
  check(Math.round(svg.width) === 1200 && Math.round(svg.height) === 800,
        "it renders at 1200 x 800 (" + svg.width + " x " + svg.height + ")");
  for (const id of ["panel-output", "panel-divergence", "panel-inputs"]) {
    const p = svg.panels[id];
    check(p && p.width > 500 && p.height > 100 && p.longest > 100,
          id + " renders with a line (" + (p ? `${p.width.toFixed(0)} x ${p.height.toFixed(0)}, ` +
          `longest path ${p.longest.toFixed(0)} px` : "absent") + ")");
  }
  check(requests.length === 0, "nothing fetched beyond the file" + (requests.length ? ": " + requests.join(", ") : ""));
  check(errors.length === 0, "no error in the console" + (errors.length ? ": " + errors.join("; ") : ""));
  await page.screenshot({ path: screenshot });
} catch (e) {
  check(false, "the browser run: " + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
}
console.log(failures.length === 0 ? "PASS" : failures.length + " check(s) failed");
process.exit(failures.length === 0 ? 0 : 1);
