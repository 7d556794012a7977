#!/usr/bin/python3
"""python_twin.py: the fleet digital twin of config/fleet.yaml, written as a Python user would
write it, as a baseline for bench/fleet.sh (TWIN=python). Debian 12's python3-paho-mqtt 1.6 and
python3-numpy; bench/fleet.sh installs them when they are missing.

    bench/python_twin.py [--host 127.0.0.1] [--port 1883] [--client-id python-twin] [--stats FILE]

What it does, as twind does with config/fleet.yaml (docs/interfaces.md):
- Subscribes (QoS 1) to plant/+/frame, plant/+/u and plant/+/y and makes a twin for each new id
  (1 to 64 of [A-Za-z0-9_.-], up to 20,000) on its first message that the twin would accept.
  Payloads: a bare number, {"value": v, "ts": t} or a frame {"ts": t, "u": .., "y": ..}; a frame
  on a signal topic is a frame, a bare value on a frame topic is refused. Without ts a value is
  stamped with its arrival time (the wall clock when paho hands it over).
- The model G(s)=1/(s+1) (A=-1, B=1, C=1, D=0) as a state-space model in numpy, stepped in event
  time from the previous sample's ts with the inputs held (an exact zero-order hold: the
  exponential of [[A, B], [0, 0]] dt), the discretisation cached per interval (in ns, 64 kept),
  inputs applied before outputs within a frame. A twin starts once u and y have both been seen,
  its state then x = pinv(C) (y - D u). |u|, |y| <= 1000; a ts before the twin's latest is
  refused (ts_backwards).
- Divergence |y - y_twin| against threshold 0.15, cleared below 0.1 (raise_after = clear_after =
  1), decided on the sample and published at once on twin/<id>/alert (QoS 1); y stale after
  1.5 s of silence on the arrival clock (checked on the asset's ticks and before each of its
  messages), cleared by its next sample, after which the twin restarts from the measurements.
- A state on twin/<id>/state (QoS 0) for every asset every 500 ms with twind's fields and
  meanings (asset, seq, ts, model, signals, divergence, threshold, status, active_alerts), spread
  as tick_spread spreads them: 100 sub-ticks of 5 ms on the Unix-time grid, each asset on the
  one given by FNV-1a of its id; ts is the sub-tick's due time. A loop a whole period behind
  takes the latest period only and counts the rest as skipped, as twind does.
- twin/status online (retained, QoS 1) on connecting, offline at exit and as the last will.

What it does not do: commands (twin/<id>/cmd), the model topic, reloads (SIGHUP), HTTP and
/metrics, model_diverged (the stable model never leaves its bounds in the benchmark), the
publish check, twind's rate-limited logs of refused payloads (they are only counted), its inbox
bounds and overload rule (a Python twin that falls behind leaves the backlog in the socket and
the broker), and strict JSON beyond what json.loads checks (NaN and Infinity are refused, a
duplicate key keeps the last as in twind). Numbers are written by json.dumps (shortest repr, as
twind writes them).

Threads: paho's loop_start() thread receives and sends; the main thread is the tick timer; one
lock guards the twins. SIGUSR1 writes the counters (Prometheus text) to --stats FILE, for
bench/fleet.sh; SIGINT and SIGTERM stop it and print a summary line on stderr.
"""

import argparse
import functools
import json
import math
import os
import re
import signal
import sys
import threading
import time
from collections import Counter

try:
    import numpy as np
    import paho.mqtt.client as mqtt
except ImportError as e:
    sys.exit(f"python_twin: {e}; install python3-paho-mqtt and python3-numpy (apt-get)")

# config/fleet.yaml
TICK = 0.5
SLOTS = 100  # tick_spread: tick / 5 ms sub-ticks, at most 100
SUB_TICK = TICK / SLOTS
MAX_ASSETS = 20000
MODEL_ID = {"name": "first-order-lag", "version": "1"}
BOUNDS = {"u": (-1000.0, 1000.0), "y": (-1000.0, 1000.0)}
THRESHOLD, CLEAR_THRESHOLD = 0.15, 0.1
RAISE_AFTER, CLEAR_AFTER = 1, 1
STALE_AFTER = 1.5  # y only
SEVERITY, STALE_SEVERITY = "critical", "warning"
VERSION = "python_twin 1"

REJECT_REASONS = ("malformed", "not_finite", "bad_timestamp", "unknown_signal", "out_of_bounds",
                  "ts_backwards", "bad_asset", "asset_limit")
ASSET_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def expm(m):
    """exp(m) by scaling and squaring a Taylor series (SciPy's expm is not in our dependencies)."""
    norm = np.linalg.norm(m, 1)
    squarings = max(0, math.ceil(math.log2(norm)) + 1) if norm > 0 else 0
    x = m / 2.0**squarings
    term = np.eye(len(m))
    result = term.copy()
    for k in range(1, 20):
        term = term @ x / k
        result += term
    for _ in range(squarings):
        result = result @ result
    return result


class StateSpace:
    """x' = A x + B u, y = C x + D u, advanced with an exact zero-order hold."""

    def __init__(self, a, b, c, d):
        self.a, self.b, self.c, self.d = (np.array(m, dtype=float) for m in (a, b, c, d))
        self.c_pinv = np.linalg.pinv(self.c)
        self.discretise = functools.lru_cache(maxsize=64)(self._discretise)

    def _discretise(self, dt_ns):
        n, m = self.b.shape
        aug = np.zeros((n + m, n + m))
        aug[:n, :n] = self.a
        aug[:n, n:] = self.b
        e = expm(aug * (dt_ns * 1e-9))
        return e[:n, :n].copy(), e[:n, n:].copy()

    def advance(self, x, u, dt):
        dt_ns = round(dt * 1e9)
        if dt_ns == 0:
            return x
        ad, bd = self.discretise(dt_ns)
        return ad @ x + bd @ u

    def output(self, x, u):
        return self.c @ x + self.d @ u

    def initial_state(self, y, u):
        return self.c_pinv @ (y - self.d @ u)


MODEL = StateSpace([[-1.0]], [[1.0]], [[1.0]], [[0.0]])


def fnv1a(text):
    h = 14695981039346656037
    for byte in text.encode():
        h = ((h ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def short(v):
    return f"{v:.3g}"


class Twin:
    """One plant's twin: input u, output y."""

    __slots__ = ("asset", "slot", "state_topic", "alert_topic", "seq", "u", "y", "x",
                 "t_latest", "t_model", "predicted", "residual", "y_arrival", "stale_since",
                 "divergence_since", "run")

    def __init__(self, asset, now):
        self.asset = asset
        self.slot = fnv1a(asset) % SLOTS
        self.state_topic = f"twin/{asset}/state"
        self.alert_topic = f"twin/{asset}/alert"
        self.seq = 0
        self.u = None  # latest accepted values
        self.y = None
        self.x = None  # model state; None until started
        self.t_latest = -math.inf  # latest accepted event time
        self.t_model = None  # event time of x
        self.predicted = None
        self.residual = None
        self.y_arrival = now  # stale counts from the twin's making
        self.stale_since = None
        self.divergence_since = None
        self.run = 0  # consecutive samples towards the next divergence transition

    def alert(self, ts, alert_id, raised, value, threshold, severity, message):
        return {"asset": self.asset, "ts": ts, "id": alert_id, "signal": "y",
                "state": "raised" if raised else "cleared", "severity": severity,
                "value": value, "threshold": threshold, "message": message}

    def check_stale(self, now, alerts):
        silent = now - self.y_arrival
        if self.stale_since is None and silent > STALE_AFTER:
            self.stale_since = now
            alerts.append(self.alert(now, "stale", True, silent, STALE_AFTER, STALE_SEVERITY,
                                     f"no y for {short(silent)} s (stale after {short(STALE_AFTER)} s)"))

    def on_sample(self, signal_name, value, ts, arrival, alerts):
        """Offers one value; returns the reason it is refused, or None."""
        lo, hi = BOUNDS[signal_name]
        if not lo <= value <= hi:
            return "out_of_bounds"
        if ts < self.t_latest:
            return "ts_backwards"
        self.t_latest = ts
        back_from_stale = False
        if signal_name == "y":
            self.y_arrival = arrival
            if self.stale_since is not None:
                back_from_stale = True
                alerts.append(self.alert(max(arrival, self.stale_since), "stale", False, 0.0,
                                         STALE_AFTER, STALE_SEVERITY, "y arriving again"))
                self.stale_since = None
        if self.x is not None and ts > self.t_model:
            self.x = MODEL.advance(self.x, np.array([self.u]), ts - self.t_model)
            self.t_model = ts
        if signal_name == "u":
            self.u = value
        else:
            self.y = value
        if self.x is None:
            self.start(ts)
        elif signal_name == "y":
            if back_from_stale:
                self.x = None
                self.start(ts)  # an output back from silence restarts the twin
            else:
                self.compare(ts, alerts)
        return None

    def start(self, ts):
        if self.u is None or self.y is None:
            return
        u = np.array([self.u])
        self.x = MODEL.initial_state(np.array([self.y]), u)
        self.t_model = ts
        self.predicted = float(MODEL.output(self.x, u)[0])
        self.residual = self.y - self.predicted

    def compare(self, ts, alerts):
        self.predicted = float(MODEL.output(self.x, np.array([self.u]))[0])
        self.residual = self.y - self.predicted
        magnitude = abs(self.residual)
        if self.divergence_since is None:
            self.run = self.run + 1 if magnitude > THRESHOLD else 0
            if self.run >= RAISE_AFTER:
                self.run = 0
                self.divergence_since = ts
                alerts.append(self.alert(ts, "divergence", True, magnitude, THRESHOLD, SEVERITY,
                                         f"divergence {short(magnitude)} > {short(THRESHOLD)} on y"))
        else:
            self.run = self.run + 1 if magnitude < CLEAR_THRESHOLD else 0
            if self.run >= CLEAR_AFTER:
                self.run = 0
                self.divergence_since = None
                alerts.append(self.alert(ts, "divergence", False, magnitude, CLEAR_THRESHOLD,
                                         SEVERITY,
                                         f"divergence {short(magnitude)} < {short(CLEAR_THRESHOLD)} on y"))

    def status(self):
        if self.stale_since is not None:
            return "stale"
        if self.x is None:
            return "starting"
        return "alert" if self.divergence_since is not None else "ok"

    def state(self, ts):
        active = []
        if self.divergence_since is not None:
            active.append({"id": "divergence", "signal": "y", "severity": SEVERITY,
                           "since": self.divergence_since})
        if self.stale_since is not None:
            active.append({"id": "stale", "signal": "y", "severity": STALE_SEVERITY,
                           "since": self.stale_since})
        compared = self.predicted is not None
        return {"asset": self.asset, "seq": self.seq, "ts": ts, "model": MODEL_ID,
                "signals": {"u": {"value": self.u},
                            "y": {"measured": self.y, "predicted": self.predicted,
                                  "residual": self.residual}},
                "divergence": abs(self.residual) if compared else None,
                "threshold": THRESHOLD if compared else None,
                "status": self.status(), "active_alerts": active}


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def refuse_constant(name):
    raise ValueError(name)


class Fleet:
    """Every twin, the decoding of telemetry, and what goes out."""

    def __init__(self, client):
        self.client = client
        self.lock = threading.Lock()
        self.twins = {}
        self.slots = [[] for _ in range(SLOTS)]
        self.counters = Counter()
        self.rejected = Counter()

    def decode(self, payload, frame_topic):
        """(fields, ts) of a payload, fields as [(signal name, value)]; or a reason to refuse."""
        try:
            v = json.loads(payload, parse_constant=refuse_constant)
        except ValueError:  # also bad UTF-8
            return "malformed"
        ts = None
        if isinstance(v, dict):
            if "ts" in v:
                ts = v["ts"]
                if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not ts > 0:
                    return "bad_timestamp"
                if math.isinf(ts):
                    return "not_finite"
            if "value" in v:
                if frame_topic:
                    return "malformed"
                v = v["value"]
            else:
                fields = [(k, x) for k, x in v.items() if k != "ts"]
                if not fields:
                    return "malformed"
                return fields, ts
        if frame_topic or isinstance(v, bool) or not isinstance(v, (int, float)):
            return "malformed"
        return [(None, v)], ts

    def on_message(self, _client, _userdata, msg):
        arrival = time.time()
        _, asset, kind = msg.topic.split("/")
        decoded = self.decode(msg.payload, kind == "frame")
        alerts = []
        with self.lock:
            self.counters["messages"] += 1
            if isinstance(decoded, str):
                self.rejected[decoded] += 1
                return
            fields, ts = decoded
            twin = self.twins.get(asset) or self.discover(asset, kind, fields, arrival)
            if twin is not None:
                self.deliver(twin, kind, fields, arrival if ts is None else ts, arrival, alerts)
        for a in alerts:
            self.client.publish(twin.alert_topic, dumps(a), qos=1)

    def discover(self, asset, kind, fields, arrival):
        if not ASSET_ID.fullmatch(asset):
            self.rejected["bad_asset"] += 1
            return None
        if len(self.twins) >= MAX_ASSETS:
            self.rejected["asset_limit"] += 1
            return None
        # Only for a message the twin would accept: a known signal within its bounds.
        candidates = [(kind, fields[0][1])] if fields[0][0] is None else fields
        if not any(n in BOUNDS and isinstance(x, (int, float)) and not isinstance(x, bool)
                   and BOUNDS[n][0] <= x <= BOUNDS[n][1] for n, x in candidates):
            self.rejected["out_of_bounds" if fields[0][0] is None else "unknown_signal"] += 1
            return None
        twin = Twin(asset, arrival)
        self.twins[asset] = twin
        self.slots[twin.slot].append(twin)
        self.counters["discovered"] += 1
        return twin

    def deliver(self, twin, kind, fields, ts, arrival, alerts):
        twin.check_stale(arrival, alerts)
        if fields[0][0] is None:
            values = [(kind, fields[0][1])]
        else:
            values = []
            for name, x in fields:
                if name not in BOUNDS:
                    self.rejected["unknown_signal"] += 1
                elif isinstance(x, bool) or not isinstance(x, (int, float)):
                    self.rejected["malformed"] += 1
                elif math.isinf(x):
                    self.rejected["not_finite"] += 1
                else:
                    values.append((name, x))
            values.sort(key=lambda f: f[0] != "u")  # inputs before outputs
        for name, x in values:
            refused = twin.on_sample(name, float(x), ts, arrival, alerts)
            if refused:
                self.rejected[refused] += 1
            else:
                self.counters["values"] += 1
        self.counters["alerts"] += len(alerts)

    def tick(self, k):
        """Sub-tick k: the states of the assets due on it, with their stale checks."""
        now = k * SUB_TICK
        out = []
        with self.lock:
            for twin in self.slots[k % SLOTS]:
                alerts = []
                twin.check_stale(now, alerts)
                self.counters["alerts"] += len(alerts)
                out.extend((twin.alert_topic, dumps(a), 1) for a in alerts)
                twin.seq += 1
                out.append((twin.state_topic, dumps(twin.state(now)), 0))
                self.counters["states"] += 1
        for topic, payload, qos in out:
            self.client.publish(topic, payload, qos=qos)

    def run_ticks(self, stop):
        k = math.floor(time.time() / SUB_TICK) + 1
        while not stop.is_set():
            delay = k * SUB_TICK - time.time()
            if delay > 0:
                stop.wait(delay)
                continue
            last = max(k, math.floor(time.time() / SUB_TICK))
            if last - k + 1 > SLOTS:  # a whole period behind: the latest period only
                self.counters["ticks_skipped"] += last - SLOTS + 1 - k
                k = last - SLOTS + 1
            for due in range(k, last + 1):
                self.tick(due)
            k = last + 1

    def write_stats(self, path):
        c = self.counters
        lines = [f"python_twin_messages_total {c['messages']}",
                 f"python_twin_values_total {c['values']}",
                 f"python_twin_states_total {c['states']}",
                 f"python_twin_alerts_total {c['alerts']}",
                 f"python_twin_ticks_skipped_total {c['ticks_skipped']}",
                 f"python_twin_assets_discovered_total {c['discovered']}"]
        # A copy, without the lock: the handler runs on the main thread, which may hold it.
        rejected = dict.fromkeys(REJECT_REASONS, 0) | dict(self.rejected)
        lines += [f'python_twin_rejected_total{{reason="{r}"}} {n}' for r, n in rejected.items()]
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)


def status_payload(state, ts):
    return dumps({"state": state, "version": VERSION, "ts": ts})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--client-id", default="python-twin")
    parser.add_argument("--stats", help="on SIGUSR1, write the counters to this file")
    args = parser.parse_args()

    client = mqtt.Client(client_id=args.client_id, clean_session=True)
    fleet = Fleet(client)
    client.will_set("twin/status", status_payload("offline", 0), qos=1, retain=True)
    topics = [("plant/+/frame", 1), ("plant/+/u", 1), ("plant/+/y", 1)]

    def on_connect(c, _userdata, _flags, rc):
        if rc != 0:
            print(f"python_twin: connection refused ({mqtt.connack_string(rc)})", file=sys.stderr)
            return
        c.subscribe(topics)
        c.publish("twin/status", status_payload("online", time.time()), qos=1, retain=True)

    def on_subscribe(_c, _userdata, _mid, _granted):
        print(f"python_twin: connected to the broker; subscribed to {len(topics)} topics",
              file=sys.stderr, flush=True)

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = fleet.on_message

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.stats:
        signal.signal(signal.SIGUSR1, lambda *_: fleet.write_stats(args.stats))

    try:
        client.connect(args.host, args.port, keepalive=30)
    except OSError as e:
        sys.exit(f"python_twin: cannot connect to {args.host}:{args.port}: {e}")
    client.loop_start()
    fleet.run_ticks(stop)

    info = client.publish("twin/status", status_payload("offline", time.time()), qos=1, retain=True)
    info.wait_for_publish(timeout=1.5)
    client.disconnect()
    client.loop_stop()
    c = fleet.counters
    print(f"python_twin: stopped: {c['messages']} messages in, {len(fleet.twins)} assets, "
          f"{c['states']} states, {c['alerts']} alerts, {c['ticks_skipped']} ticks skipped, "
          f"{sum(fleet.rejected.values())} rejected {dict(fleet.rejected)}", file=sys.stderr)


if __name__ == "__main__":
    main()
