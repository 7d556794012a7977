// twind's example dashboard (index.html beside it; docs/dashboards.md): subscribes to one asset's
// state, alert and diagnosis topics and to twind's status with MQTT.js (the global `mqtt` of
// mqtt.min.js) over MQTT over WebSockets, and shows them. Everything it shows is written with
// textContent: payloads are never parsed as HTML.
//
// Query parameters, all optional:
//   url        the broker's WebSockets URL; default: where the page came from (ws://HOST:PORT,
//              wss:// over https), as when Mosquitto serves it itself (http_dir) or a reverse
//              proxy serves both; ws://127.0.0.1:9001 for a page opened as a file
//   asset      the asset to show; default the first one whose state arrives
//   state, alert, diagnosis, status
//              the topics (default twin/state, twin/alert, twin/diagnosis, twin/status); {asset}
//              stands for the asset, as in a fleet's twin/{asset}/state
//   signal     the output drawn on the chart; default the first output of the state
//   username, password
//              the broker's credentials, when it asks for them (prefer a broker that does not
//              need them in a URL: see docs/dashboards.md)
'use strict';

(function () {
  const params = new URLSearchParams(window.location.search);
  const served = window.location.protocol === 'http:' || window.location.protocol === 'https:';
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  const url = params.get('url') ||
    (served ? `${scheme}://${window.location.host}` : 'ws://127.0.0.1:9001');
  let asset = params.get('asset');
  let chartSignal = params.get('signal');
  const topics = {
    state: params.get('state') || 'twin/state',
    alert: params.get('alert') || 'twin/alert',
    diagnosis: params.get('diagnosis') || 'twin/diagnosis',
    status: params.get('status') || 'twin/status',
  };
  const HISTORY = 240;  // states on the chart: 2 minutes at the default 500 ms tick
  const ALERT_LOG = 100;

  const $ = (id) => document.getElementById(id);
  const fmt = (v, digits = 4) => (typeof v === 'number' ? v.toPrecision(digits) : '-');
  const time = (ts) => (typeof ts === 'number' ? new Date(ts * 1000).toLocaleTimeString() : '-');
  function badge(id, text, cls) {
    $(id).textContent = text;
    $(id).className = `badge ${cls || text}`;
  }
  function listItem(text, cls) {
    const li = document.createElement('li');
    li.textContent = text;
    if (cls) li.className = cls;
    return li;
  }

  if (typeof mqtt === 'undefined') {
    $('problem').textContent = 'mqtt.min.js did not load: copy it beside index.html ' +
      '(from the npm package mqtt, dist/mqtt.min.js; see docs/dashboards.md).';
    badge('connection', 'no client', 'offline');
    return;
  }

  // Subscriptions: {asset} becomes the asset, or + until one is chosen.
  const filter = (t) => t.split('{asset}').join(asset || '+');
  // The topic filter a message matched, by level (+ matches one level).
  function matches(pattern, topic) {
    const p = filter(pattern).split('/');
    const t = topic.split('/');
    return p.length === t.length && p.every((level, i) => level === '+' || level === t[i]);
  }

  const history = [];     // {ts, measured, predicted} of the chart's signal
  const raisedAt = [];    // ts of the divergence alerts raised, for the chart
  let lastStateAt = 0;    // arrival (ms) of the latest state
  const nominal = {};     // a hypothesis' value in the model, by name (twin/diagnosis says it)

  const client = mqtt.connect(url, {
    protocolVersion: 4,   // MQTT 3.1.1, as twind
    clientId: `twind-dashboard-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 2000,
    connectTimeout: 10000,
    username: params.get('username') || undefined,
    password: params.get('password') || undefined,
  });

  client.on('connect', () => {
    badge('connection', 'connected', 'ok');
    $('problem').textContent = '';
    client.subscribe({
      [filter(topics.state)]: { qos: 0 },       // every tick; a lost one is replaced 500 ms later
      [filter(topics.alert)]: { qos: 1 },       // every transition, at least once
      [filter(topics.diagnosis)]: { qos: 1 },
      [topics.status]: { qos: 1 },              // retained: arrives at once
    }, (err) => {
      if (err) $('problem').textContent = `subscribe: ${err.message}`;
    });
  });
  client.on('reconnect', () => badge('connection', 'reconnecting'));
  client.on('offline', () => badge('connection', 'disconnected'));
  client.on('close', () => {
    if (!client.connected) $('problem').textContent = `no connection to ${url}; retrying`;
  });
  client.on('error', (err) => { $('problem').textContent = `${url}: ${err.message}`; });

  client.on('message', (topic, payload) => {
    let msg;
    try {
      msg = JSON.parse(payload.toString());
    } catch (e) {
      return;  // not twind's
    }
    if (topic === topics.status) return onStatus(msg);
    if (typeof msg.asset !== 'string') return;
    if (!asset) {
      if (!matches(topics.state, topic)) return;  // the first state chooses the asset
      asset = msg.asset;
      if (topics.state.includes('{asset}')) {     // narrow the subscriptions to it
        client.unsubscribe([topics.state, topics.alert, topics.diagnosis]
          .map((t) => t.split('{asset}').join('+')));
        client.subscribe({ [filter(topics.state)]: { qos: 0 }, [filter(topics.alert)]: { qos: 1 },
          [filter(topics.diagnosis)]: { qos: 1 } });
      }
    }
    if (msg.asset !== asset) return;
    if (matches(topics.state, topic)) onState(msg);
    else if (matches(topics.alert, topic)) onAlert(msg);
    else if (matches(topics.diagnosis, topic)) onDiagnosis(msg);
  });

  function onStatus(s) {
    badge('daemon', s.state || '?', s.state === 'online' ? 'ok' : s.state);
  }

  function onState(s) {
    lastStateAt = Date.now();
    $('asset').textContent = s.asset;
    badge('status', s.status);
    $('model').textContent = s.model ? `${s.model.name} version ${s.model.version}` : '-';
    $('seq').textContent = `#${s.seq}`;
    $('ts').textContent = time(s.ts);
    $('divergence').textContent = fmt(s.divergence);
    $('threshold').textContent = fmt(s.threshold);

    const rows = $('signals').tBodies[0];
    rows.replaceChildren();
    for (const [name, v] of Object.entries(s.signals || {})) {
      const output = 'measured' in v;
      const cells = output ? [name, fmt(v.measured), fmt(v.predicted), fmt(v.residual)]
        : [name, fmt(v.value), '', ''];
      const tr = document.createElement('tr');
      for (const c of cells) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      rows.appendChild(tr);
      if (output && !chartSignal) chartSignal = name;
    }

    const active = $('active');
    active.replaceChildren();
    for (const a of s.active_alerts || []) {
      active.appendChild(listItem(`${a.id} on ${a.signal} (${a.severity}) since ${time(a.since)}`,
        a.severity));
    }
    if (!active.children.length) active.appendChild(listItem('none'));
    if (s.diagnosis) showDiagnosis(s.diagnosis);

    const y = s.signals && s.signals[chartSignal];
    if (y) {
      history.push({ ts: s.ts, measured: y.measured, predicted: y.predicted });
      if (history.length > HISTORY) history.shift();
      $('chart-signal').textContent = chartSignal;
      draw();
    }
  }

  function onAlert(a) {
    if (a.id === 'divergence' && a.state === 'raised') raisedAt.push(a.ts);
    const log = $('alerts');
    log.insertBefore(listItem(`${time(a.ts)} ${a.id} ${a.state} on ${a.signal} ` +
      `(${a.severity}): ${a.message}`, a.state === 'raised' ? a.severity : ''), log.firstChild);
    while (log.children.length > ALERT_LOG) log.removeChild(log.lastChild);
  }

  function onDiagnosis(d) {
    if (d.best) nominal[d.best.name] = d.best.nominal;
    showDiagnosis(d.best ? {
      name: d.best.name, estimate: d.best.estimate, ci95: d.best.ci95, explained: d.explained,
      nominal: d.best.nominal, drifting: d.drifting,
    } : d);
  }

  // A twin/diagnosis message (reduced above) or the `diagnosis` member of a state.
  function showDiagnosis(d) {
    const ci = Array.isArray(d.ci95) ? ` (95 %: ${fmt(d.ci95[0])} to ${fmt(d.ci95[1])})` : '';
    const was = typeof d.nominal === 'number' ? d.nominal : nominal[d.name];
    const from = typeof was === 'number' ? `${fmt(was)} -> ` : '';
    $('diagnosis').textContent = `${d.name}: ${from}${fmt(d.estimate)}${ci}, ` +
      `${d.explained ? 'explains the samples' : 'does not explain the samples alone'}` +
      `${d.drifting ? ', still moving' : ''}`;
  }

  function draw() {
    const canvas = $('chart');
    const g = canvas.getContext('2d');
    const W = canvas.width;
    const H = canvas.height;
    const pad = 30;
    g.clearRect(0, 0, W, H);
    const values = history.flatMap((p) => [p.measured, p.predicted])
      .filter((v) => typeof v === 'number');
    if (history.length < 2 || !values.length) return;
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
    const t0 = history[0].ts;
    const t1 = history[history.length - 1].ts;
    const x = (ts) => pad + (W - 2 * pad) * (ts - t0) / Math.max(t1 - t0, 1e-9);
    const yOf = (v) => H - pad - (H - 2 * pad) * (v - lo) / (hi - lo);

    g.fillStyle = '#666';
    g.font = '11px sans-serif';
    g.fillText(fmt(hi, 3), 2, pad - 4);
    g.fillText(fmt(lo, 3), 2, H - pad + 12);
    g.fillText(`${Math.round(t1 - t0)} s`, W - pad - 20, H - 6);

    g.strokeStyle = '#c00';
    for (const ts of raisedAt) {
      if (ts < t0 || ts > t1) continue;
      g.beginPath(); g.moveTo(x(ts), pad); g.lineTo(x(ts), H - pad); g.stroke();
    }
    for (const [key, color, dash] of [['measured', '#1f5fbf', []], ['predicted', '#d2691e', [5, 4]]]) {
      g.strokeStyle = color;
      g.setLineDash(dash);
      g.lineWidth = 2;
      g.beginPath();
      let drawing = false;
      for (const p of history) {
        if (typeof p[key] !== 'number') { drawing = false; continue; }
        if (drawing) g.lineTo(x(p.ts), yOf(p[key]));
        else g.moveTo(x(p.ts), yOf(p[key]));
        drawing = true;
      }
      g.stroke();
      g.setLineDash([]);
      g.lineWidth = 1;
    }
  }

  // No state for three ticks of the default period: say so (the broker, twind or the asset is
  // gone; twind's status says which of the first two).
  setInterval(() => {
    if (!lastStateAt) return;
    const age = (Date.now() - lastStateAt) / 1000;
    $('age').textContent = age > 1.5 ? `no state for ${age.toFixed(0)} s` : '';
  }, 1000);
}());
