// Drives Debian's chromium (headless, through playwright-core) over twind's dashboard while
// twin-sim wears the plant; MQTT.js, subscribed to twin/alert over TCP, stamps the alert's
// publication. Exits 1 with "FAIL: ..." lines on the first check that does not hold.
//   node dashboard.mjs HTTP_URL MQTT_URL ARTIFACTS WEAR_AT SIM_STARTED_MS
// Times are counted from twin-sim's start (SIM_STARTED_MS, milliseconds since the epoch), the
// clock its wear WEAR_AT seconds in runs on.
import { chromium } from "playwright-core";
import mqtt from "mqtt";

const [base, broker, artifacts, wearAtText, simStartedText] = process.argv.slice(2);
const wearAt = Number(wearAtText);
const started = Number(simStartedText);
const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  console.log((ok ? "ok: " : "FAIL: ") + what);
};
const seconds = () => ((Date.now() - started) / 1000).toFixed(2);

// The alert's publication, as a subscriber receives it.
let published = null;
const client = mqtt.connect(broker, { clientId: "dashboard-test-" + process.pid });
client.on("message", (topic, payload) => {
  const a = JSON.parse(payload.toString());
  if (a.id === "divergence" && a.state === "raised" && published === null) published = { at: Date.now(), alert: a };
});
await new Promise((resolve, reject) => {
  client.once("connect", () => client.subscribe("twin/alert", { qos: 1 }, (e) => (e ? reject(e) : resolve())));
  client.once("error", reject);
});
const subscribedAt = seconds();

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const errors = [];
const watch = (page, name) => {
  page.on("console", (m) => { if (m.type() === "error") errors.push(name + ": " + m.text()); });
  page.on("pageerror", (e) => errors.push(name + ": " + String(e)));
};
const until = async (page, fn, arg, ms, what) => {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
    return true;
  } catch {
    check(false, what + " (within " + ms + " ms)");
    return false;
  }
};

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // The fleet page lists the asset.
  const fleet = await context.newPage();
  watch(fleet, "fleet page");
  await fleet.goto(base + "/");
  if (await until(fleet, () => document.querySelector('.row[data-asset="plant"]'), null, 5000,
                  "the fleet page lists the asset plant")) {
    check(true, "the fleet page lists the asset plant (" + seconds() + " s)");
  }
  await fleet.screenshot({ path: artifacts + "/dashboard-fleet.png" });

  // The asset page draws points in its three panels before the wear.
  const page = await context.newPage();
  watch(page, "asset page");
  await page.goto(base + "/asset/plant");
  const drawn = await until(page, () => {
    const p = window.twindDebug && window.twindDebug.points;
    return p && p.output > 0 && p.divergence > 0 && p.input > 0;
  }, null, 5000, "the asset page draws points in all three panels");
  if (drawn) {
    const p = await page.evaluate(() => window.twindDebug.points);
    check(true, "points drawn: output " + p.output + ", divergence " + p.divergence + ", input " + p.input);
  }
  // No alert before the wear: on the page, looked at before the wear by twin-sim's clock (a page
  // ready only after it proves nothing and fails), and on twin/alert, subscribed before it.
  const before = await page.evaluate(() => window.twindDebug.alerts.filter((a) => a.raised).length);
  const lookedAt = seconds();
  check(lookedAt < wearAt && before === 0,
        lookedAt < wearAt ? "the page shows no alert before the wear (" + lookedAt + " s in, the wear at " + wearAt + " s)"
                          : "the asset page was drawing only " + lookedAt + " s in, after the wear at " + wearAt +
                              " s: no alert before it cannot be seen");

  // The wear's alert: published, then on the page within a second.
  await until(page, () => window.twindDebug.alerts.some((a) => a.id === "divergence" && a.raised),
              null, (wearAt + 8) * 1000, "the divergence alert appears on the asset page");
  for (let i = 0; i < 40 && published === null; i++) await new Promise((r) => setTimeout(r, 50));
  check(published !== null, "the divergence alert was published on twin/alert");
  if (published !== null) {
    const at = ((published.at - started) / 1000).toFixed(2);
    check(Number(subscribedAt) < wearAt && published.at - started >= wearAt * 1000,
          "no alert on twin/alert before the wear (subscribed " + subscribedAt + " s in, the first at " + at + " s)");
    const shown = await page.evaluate(() => window.twindDebug.alerts.find((a) => a.id === "divergence" && a.raised));
    const delay = shown ? shown.shownAt - published.at : NaN;
    check(shown && shown.ts === published.alert.ts,
          "the page shows the alert that was published (ts " + published.alert.ts + ")");
    check(delay < 1000, "on the page " + delay + " ms after its MQTT publication (under 1000 ms)");
  }
  await page.waitForTimeout(1500);  // a few states and the diagnosis after the alert
  const after = await page.evaluate(() => window.twindDebug.points);
  check(after.output > 0 && after.divergence > 0 && after.input > 0,
        "still drawing after the alert: output " + after.output + ", divergence " + after.divergence +
        ", input " + after.input);
  await page.screenshot({ path: artifacts + "/dashboard-asset.png", fullPage: true });
  const debugErrors = await page.evaluate(() => window.twindDebug.errors);
  check(errors.length === 0 && debugErrors.length === 0,
        "no error in either page's console" + (errors.length + debugErrors.length ? ": " + errors.concat(debugErrors).join("; ") : ""));
} catch (e) {
  check(false, "the browser run: " + (e && e.stack ? e.stack : e));
} finally {
  await browser.close();
  client.end(true);
}
console.log(failures.length === 0 ? "PASS" : failures.length + " check(s) failed");
process.exit(failures.length === 0 ? 0 : 1);
