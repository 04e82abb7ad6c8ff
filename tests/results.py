#!/usr/bin/env python3
"""results.py RESULTS-DIR DURATION INTERVAL OUT: checks the files of the
run that `latest` points to (results.sh's run: targets "home" and "api",
transaction "shop" of steps browse, cart, buy, some replies a 500, an
Authorization header that must not be written).  One "0 desc" /
"1 desc" line per check to OUT; details as "# " lines."""
import csv, json, math, os, re, sys

RES, DURATION, INTERVAL, OUT = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
res = []


def check(cond, desc, detail=""):
    res.append("%d %s" % (0 if cond else 1, desc))
    if not cond:
        print("# FAILED: %s" % (detail or desc))


latest = os.path.join(RES, "latest")
target = os.readlink(latest) if os.path.islink(latest) else ""
runs = [d for d in os.listdir(RES) if re.fullmatch(r"\d{8}T\d{6}Z", d)]
check(os.path.islink(latest) and target in runs and len(runs) == 1,
      "latest is a link to the run %s" % target, "runs %s" % runs)
run = os.path.join(RES, target)

# --- summary.json ---
text = open(os.path.join(run, "summary.json")).read()
S = json.loads(text)
tot = S["totals"]
check(S["run_id"] == target and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", S["started"])
      and S["started"] <= S["ended"], "summary: run_id %s, started and ended" % S["run_id"])
check(abs(S["duration"] - DURATION) < 1.5, "summary: duration %.2f s of %g" % (S["duration"], DURATION))
check(all(isinstance(tot[k], int) for k in ("sent", "completed", "failed", "dropped", "in_flight"))
      and tot["sent"] == tot["completed"] + tot["failed"] + tot["in_flight"] and tot["in_flight"] == 0,
      "summary totals: sent %d = completed %d + failed %d, nothing left in flight"
      % (tot["sent"], tot["completed"], tot["failed"]))
check(tot["failed"] > 0 and tot["failed"] == sum(tot["failures"].values())
      and set(tot["failures"]) == {"http_5xx"},
      "summary totals: failures by reason add up (%s)" % tot["failures"])
lat = S["latency"]
check(0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p999"] <= lat["max"] and lat["mean"] > 0,
      "summary: percentiles in order, p50 %.4f .. max %.4f s" % (lat["p50"], lat["max"]))
check(abs(S["lambda"] - 200) < 5 * math.sqrt(200 / DURATION) + 10 and S["rate_target"] == 200.0,
      "summary: lambda %.1f at rate_target %s" % (S["lambda"], S["rate_target"]))
T = {t["name"]: t for t in S["timers"]}
want = {"home", "api", "shop", "shop/browse", "shop/cart", "shop/buy"}
check(set(T) == want, "summary: one timer per target, transaction and step (%s)" % sorted(T))
if set(T) == want:
    check(T["home"]["sent"] + T["api"]["sent"] + T["shop"]["sent"] == tot["sent"] and
          T["home"]["completed"] + T["api"]["completed"] + T["shop"]["completed"] == tot["completed"],
          "summary: the targets' and transaction's timers add up to the totals")
    check(T["shop/browse"]["sent"] == T["shop"]["sent"] and
          T["shop/cart"]["sent"] == T["shop/browse"]["completed"] and
          T["shop/buy"]["sent"] == T["shop/cart"]["completed"] and
          T["shop"]["completed"] == T["shop/buy"]["completed"],
          "summary: each step starts when the one before it succeeded",
          json.dumps({k: (v["sent"], v["completed"], v["failed"]) for k, v in T.items()}))
    check(all(t["sent"] > 0 and t["completed"] > 0 and t["failed"] >= 0 and
              t["p50"] <= t["p90"] <= t["p99"] <= t["max"] and t["mean"] > 0 for t in T.values()),
          "summary: every timer has counts and ordered percentiles")
    # a transaction is its steps one after another: slower than any one step
    check(T["shop"]["p50"] > T["shop/browse"]["p50"] and T["shop"]["mean"] > T["shop/buy"]["mean"],
          "summary: a transaction takes longer than its steps")
cfg = S["config"]
check(cfg["workload"]["rate"] == 200.0 and cfg["workload"]["model"] == "open" and
      [t["name"] for t in cfg["transactions"]] == ["home", "api", "shop"] and
      [s["name"] for s in cfg["transactions"][2]["steps"]] == ["browse", "cart", "buy"],
      "summary: the configuration used, targets and steps included")
check("s3cr3t" not in text and "(redacted)" in json.dumps(cfg["transactions"][1]),
      "summary: no secrets (the Authorization header is redacted)")

# --- timeseries.csv ---
head = "t,rate_target,lambda,X,Q,R,p50,p90,p99,max,N,Z,in_flight,sent,completed,failed,dropped"
lines = open(os.path.join(run, "timeseries.csv")).read().splitlines()
check(lines[0] == head, "timeseries.csv: the SPEC header")
rows = list(csv.DictReader(lines))
n = len(rows)
check(DURATION / INTERVAL - 1 <= n <= DURATION / INTERVAL + 2,
      "timeseries.csv: one row per interval (%d rows for %g s every %g s)" % (n, DURATION, INTERVAL))
ts = [float(r["t"]) for r in rows]
steps = [b - a for a, b in zip(ts, ts[1:-1])]
check(ts == sorted(ts) and all(abs(d - INTERVAL) < 0.25 * INTERVAL for d in steps),
      "timeseries.csv: rows %g s apart" % INTERVAL, "gaps %s" % steps)
bad = [r["t"] for r in rows if int(r["sent"]) != int(r["completed"]) + int(r["failed"]) + int(r["in_flight"])]
check(not bad, "timeseries.csv: every row has sent = completed + failed + in_flight", "rows %s" % bad)
mono = all(int(a[k]) <= int(b[k]) for a, b in zip(rows, rows[1:])
           for k in ("sent", "completed", "failed", "dropped"))
check(mono, "timeseries.csv: the cumulative counters never go down")
last = rows[-1]
check(all(int(last[k]) == tot[k] for k in ("sent", "completed", "failed", "dropped")),
      "timeseries.csv: the last row's counters are the summary's totals")
check(all(r["N"] == "" and r["Z"] == "" and float(r["rate_target"]) == 200 for r in rows),
      "timeseries.csv: N and Z empty in the open model, rate_target 200")
# each row's lambda is its interval's sends over its length
okrows = 0
prev_sent, prev_t = 0, 0.0
for r in rows[:-1]:
    d = float(r["t"]) - prev_t
    okrows += abs(float(r["lambda"]) * d - (int(r["sent"]) - prev_sent)) <= 1.5
    prev_sent, prev_t = int(r["sent"]), float(r["t"])
check(okrows == n - 1, "timeseries.csv: each row's lambda is its interval's sends (%d of %d)" % (okrows, n - 1))
mid = [float(r["lambda"]) for r in rows[1:-1]]
m = sum(mid) / len(mid)
sd = math.sqrt(200 / (INTERVAL * len(mid)))
check(abs(m - 200) < 5 * sd + 6, "timeseries.csv: mean lambda %.1f over the full rows" % m)

# --- timers.csv, failures.csv ---
lines = open(os.path.join(run, "timers.csv")).read().splitlines()
check(lines[0] == "t,name,sent,completed,failed,R,p50,p90,p99,max", "timers.csv: header")
sums = {}
order_ok = True
for r in csv.DictReader(lines):
    s = sums.setdefault(r["name"], [0, 0, 0])
    for i, k in enumerate(("sent", "completed", "failed")):
        s[i] += int(r[k])
    if r["p50"]:
        order_ok &= float(r["p50"]) <= float(r["p90"]) <= float(r["p99"]) <= float(r["max"])
check(set(T) == set(sums) and all(sums[k] == [T[k]["sent"], T[k]["completed"], T[k]["failed"]] for k in T),
      "timers.csv: per-interval counts add up to the summary's timers", json.dumps(sums))
check(order_ok, "timers.csv: percentiles in order on every row")
lines = open(os.path.join(run, "failures.csv")).read().splitlines()
rows = list(csv.DictReader(lines))
check(lines[0] == "t,reason,count" and all(int(r["count"]) > 0 for r in rows) and
      sum(int(r["count"]) for r in rows) == tot["failed"] and {r["reason"] for r in rows} == {"http_5xx"},
      "failures.csv: counts by reason add up to the failures (%d rows)" % len(rows))

# --- latency.hgrm ---
lines = open(os.path.join(run, "latency.hgrm")).read().splitlines()
check(lines[0].split() == ["Value", "Percentile", "TotalCount", "1/(1-Percentile)"],
      "latency.hgrm: HdrHistogram's header")
data = [l.split() for l in lines[1:] if l.strip() and not l.startswith("#")]
vals = [float(d[0]) for d in data]
pcts = [float(d[1]) for d in data]
cnts = [int(d[2]) for d in data]
check(all(len(d) == 4 for d in data[:-1]) and len(data[-1]) == 3 and pcts[-1] == 1.0,
      "latency.hgrm: rows of value, percentile, count, 1/(1-p); a last 100%% line (%d rows)" % len(data))
check(vals == sorted(vals) and pcts == sorted(pcts) and cnts == sorted(cnts),
      "latency.hgrm: values, percentiles and counts never go down")
inv = all(abs(float(d[3]) - 1 / (1 - float(d[1]))) < 0.01 * float(d[3]) + 0.01 for d in data[:-1])
check(inv, "latency.hgrm: the last column is 1/(1-percentile)")
foot = "\n".join(l for l in lines if l.startswith("#["))
m = re.search(r"#\[Max\s*=\s*([\d.]+), Total count\s*=\s*(\d+)\]", foot)
check(m is not None and int(m.group(2)) == tot["completed"] == cnts[-1],
      "latency.hgrm: footer Total count = completed (%s)" % (m and m.group(2)))
check(m is not None and abs(float(m.group(1)) - lat["max"] * 1000) < 0.01 and vals[-1] == float(m.group(1)),
      "latency.hgrm: Max is the summary's max in ms")
check(re.search(r"#\[Mean\s*=\s*[\d.]+, StdDeviation\s*=\s*[\d.]+\]", foot) is not None and
      re.search(r"#\[Buckets\s*=\s*\d+, SubBuckets\s*=\s*\d+\]", foot) is not None,
      "latency.hgrm: Mean and Buckets footers")
p50 = next(v for v, p in zip(vals, pcts) if p >= 0.5)
check(abs(p50 - lat["p50"] * 1000) <= 0.01 * p50 + 0.01, "latency.hgrm: the 50%% line is the summary's p50 (%.3f ms)" % p50)
with open(OUT, "a") as f:
    f.write("\n".join(res) + "\n")
