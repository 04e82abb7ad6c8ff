#!/usr/bin/env python3
"""metrics.py SOCK URL OUT [closed]: one scrape of URL between two `stats`
replies, checked against them and against the exposition format.
Writes "0 description" / "1 description" lines to OUT for metrics.sh;
details as "# " lines on stdout.  With "closed": the closed model's
users and think_seconds must be there and equal N and Z."""
import json, os, re, socket, subprocess, sys, urllib.request

SOCK, URL, OUT = sys.argv[1:4]
closed = len(sys.argv) > 4 and sys.argv[4] == "closed"
res = []


def check(cond, desc, detail=""):
    res.append("%d %s" % (0 if cond else 1, desc))
    if not cond:
        print("# FAILED: %s" % (detail or desc))


def stats():
    s = socket.socket(socket.AF_UNIX)
    s.connect(SOCK)
    s.sendall(b"stats\n")
    f = s.makefile("rb")
    j = json.loads(f.readline())
    f.close()
    s.close()
    return j


s1 = stats()
r = urllib.request.urlopen(URL, timeout=10)
body = r.read().decode()
ctype = r.headers.get("Content-Type", "")
s2 = stats()
tag = " (closed)" if closed else ""
check(r.status == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype,
      "GET /metrics: 200, %s%s" % (ctype, tag))

p = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True, text=True)
check(p.returncode == 0 and not (p.stdout + p.stderr).strip(),
      "promtool check metrics reports nothing%s" % tag, (p.stdout + p.stderr).strip()[:500])

# parse: name{labels} value, and the TYPE lines
types, samples = {}, {}
for line in body.splitlines():
    m = re.match(r"# TYPE (\S+) (\S+)$", line)
    if m:
        types[m.group(1)] = m.group(2)
        continue
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m:
        check(False, "a sample line parses: %r" % line)
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
    samples.setdefault(m.group(1), []).append((labels, float(m.group(4))))


def one(name):
    v = samples.get("arrivald_" + name, [])
    return v[0][1] if len(v) == 1 else None


want = {"requests_sent_total": "counter", "requests_completed_total": "counter",
        "requests_failed_total": "counter", "arrivals_dropped_total": "counter",
        "in_flight": "gauge", "rate_target": "gauge", "arrival_rate": "gauge",
        "throughput": "gauge", "queue_length": "gauge",
        "response_time_seconds": "histogram"}
if closed:
    want.update({"users": "gauge", "think_seconds": "gauge"})
bad = [n for n, t in want.items() if types.get("arrivald_" + n) != t]
check(not bad, "every SPEC metric is there with its type%s" % tag, "missing or mistyped: %s" % bad)
check(all(n.startswith("arrivald_") for n in list(types) + list(samples)),
      "every metric has the arrivald_ prefix")
check(all(l.get("shard") == s1["shard"] for v in samples.values() for l, _ in v),
      "every series carries the shard label %s" % s1["shard"])
if not closed:
    check("arrivald_users" not in types and "arrivald_think_seconds" not in types,
          "open model: users and think_seconds are left out, not 0")
else:
    check(one("users") == s2["N"] and one("think_seconds") == s2["Z"] and s1["N"] == s2["N"],
          "closed: users %s and think_seconds %s are stats' N and Z" % (one("users"), one("think_seconds")))

# counters: between the two stats replies
for field, metric in (("sent", "requests_sent_total"), ("completed", "requests_completed_total"),
                      ("failed", "requests_failed_total"), ("dropped", "arrivals_dropped_total")):
    if metric == "requests_failed_total":
        v = sum(x for _, x in samples.get("arrivald_" + metric, []))
    else:
        v = one(metric)
    check(v is not None and s1[field] <= v <= s2[field],
          "%s %s is between stats' %d and %d" % (metric, v, s1[field], s2[field]))
fails = {l["reason"]: x for l, x in samples.get("arrivald_requests_failed_total", [])}
check(set(fails) == set(s1["failures"]) and
      all(s1["failures"][k] <= fails[k] <= s2["failures"][k] for k in fails),
      "requests_failed_total{reason} agrees with stats' failures by reason", json.dumps(fails))
# gauges: the same estimator a moment apart
check(one("rate_target") == s1["rate_target"] == s2["rate_target"],
      "rate_target %s equals stats'" % one("rate_target"))
for field, metric in (("lambda", "arrival_rate"), ("X", "throughput"), ("Q", "queue_length")):
    v, lo, hi = one(metric), min(s1[field], s2[field]), max(s1[field], s2[field])
    # the window slides by a tenth between replies: 15% and a little
    check(v is not None and lo * 0.85 - 0.05 <= v <= hi * 1.15 + 0.05,
          "%s %.3f is close to stats' %s %.3f..%.3f" % (metric, v or -1, field, lo, hi))
v = one("in_flight")
check(v is not None and v >= 0 and v <= max(s1["in_flight"], s2["in_flight"]) + 30,
      "in_flight %s is a plausible count next to stats' %d, %d" % (v, s1["in_flight"], s2["in_flight"]))

# the histogram
b = [(l["le"], x) for l, x in samples.get("arrivald_response_time_seconds_bucket", [])]
les = [float(le) for le, _ in b]
counts = [x for _, x in b]
cnt = one("response_time_seconds_count")
check(len(b) > 5 and b[-1][0] == "+Inf" and les == sorted(les) and len(set(les)) == len(les),
      "histogram: le bounds increase to +Inf (%d buckets)" % len(b))
check(counts == sorted(counts), "histogram: buckets are cumulative")
check(cnt is not None and counts[-1] == cnt and cnt == one("requests_completed_total"),
      "histogram: +Inf bucket = _count = requests_completed_total (%s)" % cnt)
sm = one("response_time_seconds_sum")
check(sm is not None and cnt > 0 and 0.003 <= sm / cnt < 1,
      "histogram: _sum / _count = %.4f s, at least the 3 ms service" % (sm / cnt if cnt else -1))
below = [x for le, x in zip(les, counts) if le < 0.0029]
check(below and all(x == 0 for x in below),
      "histogram: no response below the 3 ms service time (%s)" % below)
with open(OUT, "a") as f:
    f.write("\n".join(res) + "\n")
