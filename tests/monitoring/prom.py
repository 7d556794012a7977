"""Asks a running Prometheus, through its HTTP API, what tests/monitoring/prometheus_live.sh checks.

  prom.py URL ready SECONDS             waits until /-/ready answers 200
  prom.py URL target_up SECONDS         waits until the job twind's target is up
  prom.py URL scraped SECONDS ASSET     waits until the job twind is up and ASSET's status is ok
  prom.py URL quiet_before T ASSET      as of time T: ASSET ok on every scrape of the last 5 s, the
                                        rules evaluated, and no alert at all, pending or firing,
                                        since Prometheus started
  prom.py URL fires ALERT ASSET T SECONDS
                                        waits until ALERT fires for ASSET, active from after T
  prom.py URL panels DASHBOARD          every panel query of a Grafana dashboard returns data

Exit 0 when the check holds, 1 when it does not (with a line saying why). Standard library only:
a fresh Debian 12 has python3 but not necessarily its modules beyond.
"""

import calendar
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# What Grafana's built-in variables stand for here, with Prometheus scraping every second:
# $__rate_interval is at least four scrape intervals in Grafana; 10 s leaves room for a scrape
# that a loaded machine delays.
GRAFANA_BUILTINS = {
    "__rate_interval": "10s",
    "__interval": "1s",
    "__range": "1m",
}


def get(url, path, params=None):
    if params:
        path += "?" + urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(url + path, timeout=5) as reply:
        return json.load(reply)


def query(url, expr, at=None):
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at:.3f}"
    answer = get(url, "/api/v1/query", params)
    if answer.get("status") != "success":
        raise RuntimeError(f"{expr}: {answer}")
    return answer["data"]


def samples(data):
    """The values of an instant query's result, as floats (a scalar is one)."""
    if data["resultType"] == "scalar":
        return [float(data["result"][1])]
    if data["resultType"] == "vector":
        return [float(s["value"][1]) for s in data["result"]]
    return [float(v[1]) for s in data["result"] for v in s["values"]]


def fail(message):
    print(f"FAIL: {message}")
    return 1


def ready(url, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as reply:
                if reply.status == 200:
                    return 0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    return fail(f"{url}/-/ready did not answer 200 within {seconds} s")


def target_up(url, seconds):
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        if query(url, 'up{job="twind"} == 1')["result"]:
            return 0
        time.sleep(0.2)
    return fail(f"the job twind not up within {seconds} s: {query(url, 'up')}")


def scraped(url, seconds, asset):
    deadline = time.time() + float(seconds)
    expr = (f'up{{job="twind"}} == 1 and on (instance) '
            f'twind_asset_status{{asset="{asset}",status="ok"}} == 1')
    while time.time() < deadline:
        if query(url, expr)["result"]:
            return 0
        time.sleep(0.2)
    return fail(f"no scrape of twind with {asset} ok within {seconds} s: {query(url, 'up')}")


def quiet_before(url, at, asset):
    at = float(at)
    failures = 0
    ok = f'twind_asset_status{{job="twind",asset="{asset}",status="ok"}}'
    n = samples(query(url, f"count_over_time({ok}[5s])", at))
    low = samples(query(url, f"min_over_time({ok}[5s])", at))
    if not n or n[0] < 3 or not low or low[0] != 1:
        failures += fail(f"{asset} not ok on 3 scrapes or more in the 5 s before {at}: {n} {low}")
    # The rules ran on those scrapes: the recording rule says ok (0) as of `at`, recorded within
    # the last 2 s.
    code = f'instance_asset:twind_asset_status:code{{asset="{asset}"}}'
    recorded = samples(query(url, f"max_over_time({code}[2s])", at))
    if recorded != [0.0]:
        failures += fail(f"{code} over the 2 s before {at} is {recorded}, not [0]")
    alerts = query(url, "count_over_time(ALERTS[1h])", at)["result"]
    if alerts:
        names = sorted({a["metric"].get("alertname", "?") + "/" + a["metric"].get("alertstate", "?")
                        for a in alerts})
        failures += fail(f"alerts before {at} (alertname/state): {', '.join(names)}")
    else:
        print(f"prom: {asset} ok on {n[0]:.0f} scrapes of the 5 s before the wear; no alert at all "
              "(pending or firing) before it")
    return 1 if failures else 0


def fires(url, alert, asset, after, seconds):
    after = float(after)
    deadline = time.time() + float(seconds)
    seen = []
    while time.time() < deadline:
        seen = [a for a in get(url, "/api/v1/alerts")["data"]["alerts"]
                if a["labels"].get("alertname") == alert and a["labels"].get("asset") == asset]
        firing = [a for a in seen if a["state"] == "firing"]
        if firing:
            a = firing[0]
            active = a["activeAt"]
            # RFC 3339 with nanoseconds: keep what strptime reads.
            m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z$", active)
            if not m:
                return fail(f"activeAt {active!r} not understood")
            t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
            t += float(m.group(2) or 0)
            failures = 0
            if t < after:
                failures += fail(f"{alert} active at {t:.3f}, before {after:.3f}")
            labels, notes = a["labels"], a["annotations"]
            if labels.get("severity") not in ("critical", "warning", "info"):
                failures += fail(f"{alert} has no severity label: {labels}")
            if asset not in notes.get("summary", "") or asset not in notes.get("description", ""):
                failures += fail(f"{alert}'s annotations do not name {asset}: {notes}")
            if not failures:
                print(f"prom: {alert} for {asset} active {t - after:.2f} s after the wear, firing "
                      f"{time.time() - after:.1f} s after it (severity {labels['severity']}): "
                      f"{notes['summary']}")
            return 1 if failures else 0
        time.sleep(0.2)
    return fail(f"{alert} for {asset} not firing within {seconds} s of {after:.3f}: {seen}")


def substitute(expr, variables):
    def one(m):
        name = m.group(1) or m.group(2)
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        if name not in variables:
            raise KeyError(f"unknown variable ${name} in {expr}")
        return variables[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", one, expr)


def panels(url, path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    variables = {}
    failures = 0
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            # label_values(METRIC, LABEL): what Grafana asks for, checked non-empty here.
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q)
            if not m:
                failures += fail(f"variable {v['name']}: query {q!r} is not label_values(...)")
                continue
            if not v.get("includeAll") or not v.get("allValue"):
                failures += fail(f"variable {v['name']}: no All value to test with")
                continue
            variables[v["name"]] = v["allValue"]
            match = substitute(m.group(1), variables)
            values = get(url, f"/api/v1/label/{m.group(2)}/values", {"match[]": match})["data"]
            if not values:
                failures += fail(f"variable {v['name']}: {q} gives no value")
            else:
                print(f"prom: variable ${v['name']}: {', '.join(values)}")
        elif v["type"] == "textbox":
            variables[v["name"]] = v["current"]["value"]
        elif v["type"] == "datasource":
            variables[v["name"]] = "prometheus"
    checked = 0
    for p in dash["panels"]:
        for t in p.get("targets", []):
            expr = substitute(t["expr"], variables)
            checked += 1
            try:
                got = samples(query(url, expr))
            except (RuntimeError, urllib.error.HTTPError) as e:
                failures += fail(f"panel {p['title']!r} ({t['refId']}): {expr}: {e}")
                continue
            if not got:
                failures += fail(f"panel {p['title']!r} ({t['refId']}): no data for {expr}")
    if not failures:
        print(f"prom: {checked} queries of {sum(1 for p in dash['panels'] if p.get('targets'))} "
              "panels all return data")
    return 1 if failures else 0


def main(argv):
    url, command, args = argv[1], argv[2], argv[3:]
    checks = {"ready": ready, "target_up": target_up, "scraped": scraped,
              "quiet_before": quiet_before, "fires": fires, "panels": panels}
    return checks[command](url, *args)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
