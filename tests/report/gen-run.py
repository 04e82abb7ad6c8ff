#!/usr/bin/env python3
"""gen-run.py KIND DIR: write a run directory as the daemon would, for the
report's tests.  Deterministic (fixed seeds), so a page can be compared
across builds.

KIND:
  short  a 10-second open run, Poisson arrivals, 1-second interval
  long   a 24-hour closed run at a 1-second interval (86,400 rows) with
         autoscaling steps, several timers and failure reasons, and one
         latency spike of exactly SPIKE_MS at t = SPIKE_T
"""
import json
import math
import os
import random
import statistics
import sys

SPIKE_T = 50000
SPIKE_MS = 5000.0
EVIL = "<script>alert(1)</script>"
TS_HEADER = ("t,rate_target,lambda,X,Q,R,p50,p90,p99,max,N,Z,in_flight,"
             "sent,completed,failed,dropped")


def f(v):
    """a CSV field: empty for null, else a short float"""
    return "" if v is None else "%.5g" % v


def csvq(s):
    """quote a field as RFC 4180 does when it needs it"""
    if any(c in s for c in ',"\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def write_hgrm(path, rng, mu, sigma, total):
    """HdrHistogram's percentile distribution of a lognormal, in ms"""
    nd = statistics.NormalDist(mu, sigma)
    lines = ["%12s %14s %10s %14s\n" % ("Value", "Percentile", "TotalCount",
                                          "1/(1-Percentile)"), "\n"]
    ps, level = [0.0], 0
    while True:
        half = 0.5 ** (level + 1)
        for i in range(1, 6):
            p = 1 - 2 * half + i * half / 5
            if 1 / (1 - p) > total:
                break
            ps.append(p)
        else:
            level += 1
            continue
        break
    for p in ps:
        v = math.exp(nd.inv_cdf(min(max(p, 1e-9), 1 - 1e-12)))
        lines.append("%12.3f %2.12f %10d %14.2f\n" %
                     (v, p, int(round(p * total)) or 1, 1 / (1 - p)))
    vmax = math.exp(nd.inv_cdf(1 - 0.5 / total))
    lines.append("%12.3f %2.12f %10d\n" % (vmax, 1.0, total))
    mean = math.exp(mu + sigma * sigma / 2)
    sd = mean * math.sqrt(math.exp(sigma * sigma) - 1)
    lines.append("#[Mean    = %12.3f, StdDeviation   = %12.3f]\n" % (mean, sd))
    lines.append("#[Max     = %12.3f, Total count    = %12d]\n" % (vmax, total))
    lines.append("#[Buckets = %12d, SubBuckets     = %12d]\n" % (22, 2048))
    with open(path, "w") as out:
        out.writelines(lines)


def poisson(rng, lam):
    if lam > 50:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    k, p, l = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= l:
            return k
        k += 1


def run(kind, d):
    rng = random.Random(20261124 if kind == "short" else 86400)
    os.makedirs(d, exist_ok=True)
    closed = kind == "long"
    rows = 10 if kind == "short" else 86400
    timers = (["home", "api/search", EVIL] if kind == "short" else
              ["home", "login-form", "login", "thread", "post, with comma", EVIL])
    reasons = ["timeout", "http_5xx"] if kind == "short" else \
        ["timeout", "http_5xx", "refused"]
    sent = completed = failed = dropped = 0
    tot_fail = {r: 0 for r in reasons}
    tstats = {n: [0, 0, 0] for n in timers}
    quoted = [csvq(n) for n in timers]
    ts = [TS_HEADER + "\n"]
    tm = ["t,name,sent,completed,failed,R,p50,p90,p99,max\n"]
    fl = ["t,reason,count\n"]
    n0, z0 = 1500, 10.0
    for i in range(1, rows + 1):
        t = float(i)
        if closed:
            k = 1 + min(i // 21600, 3)  # autoscale steps every 6 h
            N, Z = n0 * k, z0 * k
            target = N / Z
        else:
            N = Z = None
            target = 150.0
        lam = poisson(rng, target)
        nfail = {r: (poisson(rng, 0.3) if rng.random() < 0.2 else 0)
                 for r in reasons}
        nf = sum(nfail.values())
        done = max(0, lam - nf)
        base = 0.012 * (1 + 0.3 * math.sin(t / 3000.0))
        if done:
            p50 = base * rng.uniform(0.9, 1.1)
            p90, p99 = p50 * 2.2, p50 * 4.5
            mx = p99 * rng.uniform(1.0, 3.0)
            if closed and i == SPIKE_T:
                mx = SPIKE_MS / 1000
            R = p50 * 1.3
        else:
            p50 = p90 = p99 = mx = R = None
        Q = (R or 0) * lam
        sent += lam
        completed += done
        failed += nf
        for r in reasons:
            tot_fail[r] += nfail[r]
            if nfail[r]:
                fl.append("%g,%s,%d\n" % (t, r, nfail[r]))
        ts.append("%d,%g,%d,%d,%.5g,%s,%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%d\n" %
                  (i, target, lam, done, Q, f(R), f(p50), f(p90), f(p99),
                   f(mx), f(N), f(Z), int(Q), sent, completed, failed,
                   dropped))
        c = done // len(timers)
        for j, name in enumerate(timers):
            fj = nf if j == 0 else 0
            st = tstats[name]
            st[0] += c + fj
            st[1] += c
            st[2] += fj
            if c:
                q = (p50 or base) * (1 + 0.5 * j)
                tm.append("%d,%s,%d,%d,%d,%.5g,%.5g,%.5g,%.5g,%.5g\n" %
                          (i, quoted[j], c + fj, c, fj, q * 1.2, q, q * 2,
                           q * 4, q * 6))
            else:
                tm.append("%d,%s,%d,0,%d,,,,,\n" % (i, quoted[j], fj, fj))
    with open(os.path.join(d, "timeseries.csv"), "w") as out:
        out.writelines(ts)
    with open(os.path.join(d, "timers.csv"), "w") as out:
        out.writelines(tm)
    with open(os.path.join(d, "failures.csv"), "w") as out:
        out.writelines(fl)
    write_hgrm(os.path.join(d, "latency.hgrm"), rng, math.log(12.0), 0.6,
               max(completed, 1))
    dur = float(rows)
    summary = {
        "version": "0.1.0",
        "run_id": "20261124T031500Z" if kind == "short" else "20261125T000000Z",
        "started": "2026-11-24T03:15:00Z",
        "ended": "2026-11-24T03:15:10Z" if kind == "short" else "2026-11-26T00:00:00Z",
        "duration": dur,
        "model": "closed" if closed else "open",
        "arrivals": "poisson",
        "shard": "0/1",
        "seed": 12345678901234567,  # more digits than a double holds
        "totals": {"sent": sent, "completed": completed, "failed": failed,
                   "dropped": dropped, "failures": tot_fail},
        "lambda": sent / dur, "X": completed / dur, "Q": 1.9, "R": 0.0156,
        "rate_target": 150.0,
        "latency": {"mean": 0.0156, "p50": 0.012, "p90": 0.0264,
                    "p99": 0.054, "p999": 0.091,
                    "max": SPIKE_MS / 1000 if closed else 0.16},
        "lag": {"p50": 0.00004, "p99": 0.0003, "max": 0.0021},
        "closed": ({"N": n0 * 4, "Z": z0 * 4, "scale": 4, "Q_over_Z": 0.05,
                    "lambda_N": 149.9, "autoscale_limited": False}
                   if closed else None),
        "timers": [{"name": n, "sent": s[0], "completed": s[1], "failed": s[2],
                    "mean": 0.0144, "p50": 0.012, "p90": 0.0264, "p99": 0.054,
                    "max": 0.16} for n, s in tstats.items()],
        "config": {"workload": {"model": "closed" if closed else "open",
                                "rate": 150.0, "note": EVIL},
                   "targets": [{"name": n, "url": "http://127.0.0.1:8080/"}
                               for n in timers]},
    }
    with open(os.path.join(d, "summary.json"), "w") as out:
        json.dump(summary, out, indent=2)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("short", "long"):
        sys.exit("usage: gen-run.py short|long DIR")
    run(sys.argv[1], sys.argv[2])
