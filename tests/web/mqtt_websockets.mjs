// A dashboard's view of twind through MQTT over WebSockets, with MQTT.js (the client browser
// dashboards use): connects to URL (ws://127.0.0.1:PORT), subscribes to twin/state and
// twin/alert, and checks what arrives against docs/interfaces.md:
//   - states parse as JSON with asset, seq (strictly increasing), ts (increasing), model, signals
//     and status; before the wear the seed twin's states are `ok` with u's value and y's
//     measured, predicted and residual as numbers;
//   - a divergence alert (`"state":"raised"`, with its documented fields) arrives after the
//     wear, within 3 s of it, and none before; the states after it say `alert`.
// WEAR_LOG is twin-sim's output, read for the wear's Unix time ("wear injected: ... (unix time
// T)") once the alert has come. Prints "subscribed" when the broker has granted both
// subscriptions (the caller then starts twind and twin-sim), one summary line at the end.
// Exit 0 when every check passes, 1 otherwise (each failure on its own line); gives up DEADLINE
// seconds after subscribing.
//   node mqtt_websockets.mjs URL WEAR_LOG DEADLINE
import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';

const [url, wearLog, deadlineArg] = process.argv.slice(2);
if (!url || !wearLog || !deadlineArg) {
  console.error('usage: node mqtt_websockets.mjs URL WEAR_LOG DEADLINE');
  process.exit(2);
}
const deadlineS = Number(deadlineArg);
const STATUSES = ['starting', 'ok', 'alert', 'stale'];
const ALERT_FIELDS = ['asset', 'ts', 'id', 'signal', 'state', 'severity', 'value', 'threshold',
  'message'];
const STATES_AFTER_ALERT = 3;

const failures = [];
const fail = (what) => failures.push(what);
const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
const now = () => Date.now() / 1000;

// Every message as it arrived: {topic, at (arrival, Unix seconds), body (parsed)}.
const states = [];
const alerts = [];
let raised = null;  // the first divergence alert raised
let statesAfterRaised = 0;
let timer = null;

const client = mqtt.connect(url, {
  protocolVersion: 4,  // MQTT 3.1.1, what twind speaks
  clientId: `twind-web-test-${process.pid}`,
  clean: true,
  connectTimeout: 5000,
  reconnectPeriod: 0,  // a lost connection fails the test rather than hiding a gap
});

client.on('error', (err) => finish(`MQTT.js: ${err.message}`));
client.on('close', () => {
  if (timer !== null) finish('the WebSocket connection closed before the checks were done');
});

client.on('connect', () => {
  client.subscribe({ 'twin/state': { qos: 0 }, 'twin/alert': { qos: 1 } }, (err, granted) => {
    if (err) return finish(`subscribe: ${err.message}`);
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) return finish(`subscription refused: ${refused.map((g) => g.topic)}`);
    timer = setTimeout(() => finish(`no verdict within ${deadlineS} s of subscribing`),
      deadlineS * 1000);
    console.log('subscribed');
  });
});

client.on('message', (topic, payload) => {
  const at = now();
  let body;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    fail(`${topic}: not JSON (${e.message}): ${payload.toString('utf8').slice(0, 200)}`);
    return;
  }
  if (topic === 'twin/state') {
    states.push({ at, body });
    if (raised) statesAfterRaised += 1;
  } else if (topic === 'twin/alert') {
    alerts.push({ at, body });
    if (!raised && body.id === 'divergence' && body.state === 'raised') raised = { at, body };
  } else {
    fail(`a message on ${topic}, which was not subscribed to`);
  }
  if (raised && statesAfterRaised >= STATES_AFTER_ALERT) finish();
});

function wearTime() {
  let text = '';
  try {
    text = readFileSync(wearLog, 'utf8');
  } catch (e) {
    return null;
  }
  const m = text.match(/wear injected: .*\(unix time ([0-9.]+)\)/);
  return m ? Number(m[1]) : null;
}

function checkState(s, i) {
  const where = `state ${i + 1} (${JSON.stringify(s).slice(0, 160)})`;
  if (typeof s.asset !== 'string' || s.asset === '') fail(`${where}: asset is not a string`);
  if (!Number.isInteger(s.seq) || s.seq < 1) fail(`${where}: seq is not a positive integer`);
  if (!isNumber(s.ts)) fail(`${where}: ts is not a number`);
  if (!s.model || typeof s.model.name !== 'string' || typeof s.model.version !== 'string') {
    fail(`${where}: model has no name and version`);
  }
  if (!s.signals || typeof s.signals !== 'object') fail(`${where}: no signals object`);
  if (!STATUSES.includes(s.status)) fail(`${where}: status ${s.status} is none of ${STATUSES}`);
  if (!Array.isArray(s.active_alerts)) fail(`${where}: active_alerts is not an array`);
}

function check() {
  const wear = wearTime();
  if (wear === null) fail(`no "wear injected ... (unix time T)" line in ${wearLog}`);
  if (states.length === 0) fail('no twin/state arrived');
  states.forEach((s, i) => {
    checkState(s.body, i);
    if (i === 0) return;
    const prev = states[i - 1].body;
    if (!(s.body.seq > prev.seq)) fail(`seq does not increase: ${prev.seq} then ${s.body.seq}`);
    if (!(s.body.ts > prev.ts)) fail(`ts does not increase: ${prev.ts} then ${s.body.ts}`);
  });
  if (!raised) {
    fail(`no divergence alert raised on twin/alert (alerts: ${JSON.stringify(alerts)})`);
    return wear;
  }
  const a = raised.body;
  for (const f of ALERT_FIELDS) if (!(f in a)) fail(`the alert has no ${f}: ${JSON.stringify(a)}`);
  if (a.signal !== 'y') fail(`the divergence alert is on ${a.signal}, not y`);
  if (!isNumber(a.value) || !isNumber(a.threshold) || !(a.value > a.threshold)) {
    fail(`the alert's value ${a.value} is not above its threshold ${a.threshold}`);
  }
  if (wear === null) return wear;

  // Not before the wear: no divergence alert, and healthy states with every figure known.
  const early = alerts.filter((x) => x.body.id === 'divergence' && x.at < wear);
  if (early.length) fail(`divergence alert(s) before the wear: ${JSON.stringify(early)}`);
  const healthy = states.filter((s) => s.at < wear && s.body.status === 'ok');
  if (healthy.length < 3) {
    fail(`${healthy.length} states with status ok before the wear (3 expected): the plant ` +
      `should run healthy for seconds first`);
  }
  for (const s of healthy) {
    const u = s.body.signals?.u;
    const y = s.body.signals?.y;
    if (!u || !isNumber(u.value) || !y || !isNumber(y.measured) || !isNumber(y.predicted) ||
      !isNumber(y.residual)) {
      fail(`a healthy state without u.value, y.measured, y.predicted, y.residual as numbers: ` +
        JSON.stringify(s.body));
      break;
    }
  }
  // After the wear: the alert, decided on a sample after it, within 3 s.
  if (!(a.ts >= wear)) fail(`the alert's ts ${a.ts} is before the wear at ${wear}`);
  if (!(raised.at >= wear)) fail(`the alert arrived at ${raised.at}, before the wear at ${wear}`);
  if (!(raised.at - wear < 3)) fail(`the alert arrived ${(raised.at - wear).toFixed(2)} s after the wear`);
  const after = states.filter((s) => s.at > raised.at);
  if (!after.some((s) => s.body.status === 'alert' &&
    s.body.active_alerts.some((x) => x.id === 'divergence'))) {
    fail('no state after the alert says status alert with the divergence among active_alerts');
  }
  return wear;
}

let finished = false;
function finish(error) {
  if (finished) return;
  finished = true;
  if (timer !== null) clearTimeout(timer);
  timer = null;
  if (error) fail(error);
  const wear = check();
  const first = states[0]?.body.seq;
  const last = states.at(-1)?.body.seq;
  let summary = `web: ${states.length} states over ${url} (seq ${first}..${last}), ` +
    `${alerts.length} alert(s)`;
  if (raised && wear !== null) {
    summary += `; divergence raised at ts ${(raised.body.ts - wear).toFixed(3)} s after the ` +
      `wear, arrived ${(raised.at - wear).toFixed(3)} s after it`;
  }
  console.log(summary);
  for (const f of failures) console.log(`FAIL: ${f}`);
  client.end(true, () => process.exit(failures.length ? 1 : 0));
  // end() may not call back on a broken connection.
  setTimeout(() => process.exit(failures.length ? 1 : 0), 2000).unref();
}
